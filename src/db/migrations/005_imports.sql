-- File imports (src/db/imports.ts). The API streams an upload into import_line while it
-- arrives; ImportCodesWorkflow moves it into promo_code batch by batch, recording every
-- rejected line in import_reject.

-- Staging: one row per non-empty line of an uploaded file, trimmed and judged as it was read
-- (`problem`: why it cannot be a code, else null). `lane` (hash of the value, see
-- src/domain/import-lanes.ts) lets the workflow move lanes in parallel, equal values in one.
-- Collation "C": the batches sort values to find repeats, and only equality matters.
--
-- UNLOGGED: writing it skips the WAL, which roughly halves the cost of staging. The price:
-- after a crash of PostgreSQL itself (not of the API or the worker) the table comes back
-- empty, and standbys never see it. An import running at that moment then finds its lines
-- gone, fails with a reason that says so, and must be uploaded again; codes it added stay.
create unlogged table import_line (
  job_id bigint not null,
  lane smallint not null,
  line bigint not null,
  value text collate "C" not null,
  problem text,
  primary key (job_id, lane, line)
);

-- Every rejected line (invalid or duplicate) of every import, for the rejects CSV; the job
-- row keeps only the first 1,000.
create table import_reject (
  job_id bigint not null references job (id),
  line bigint not null,
  value text not null,
  reason text not null,
  primary key (job_id, line)
);

-- Staged lines go when their job ends, however it ends (completed, failed, cancelled,
-- or its workflow never started).
create function import_line_cleanup() returns trigger language plpgsql as $$
begin
  delete from import_line where job_id = new.id;
  return null;
end $$;

create trigger job_import_line_cleanup after update of status on job
  for each row when (old.status = 'running' and new.status <> 'running' and new.kind = 'import')
  execute function import_line_cleanup();

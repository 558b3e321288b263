-- Each import stages its lines in a table of its own, import_line_<job id> (src/db/import-staging.ts),
-- instead of all of them in import_line: a COPY into a table without an index costs about half,
-- and the lines lie in line order, so batches read ranges of pages. finishJob drops the table.
--
-- Imports running now keep the lines they have not moved yet, in tables of their own; their
-- lanes start again at the first page of those.
do $$
declare
  running record;
begin
  for running in select distinct job_id from import_line loop
    execute format('create unlogged table %I (lane smallint not null, line bigint not null, value text collate "C" not null, problem text)',
                   'import_line_' || running.job_id);
    execute format('insert into %I select lane, line, value, problem from import_line where job_id = $1 order by line',
                   'import_line_' || running.job_id) using running.job_id;
  end loop;
end $$;

drop trigger job_import_line_cleanup on job;
drop function import_line_cleanup();
drop table import_line;

-- a lane's position: the pages of the job's staging table its batches have moved
truncate import_lane;
alter table import_lane rename column done_upto to done_pages;

-- Where each lane of a running import has got to (src/db/imports.ts importBatch): every staged
-- line of the lane up to `done_upto` has been moved. A batch starts right after it instead of
-- looking for the lane's first staged line, which walked past the index entries of every line
-- deleted so far (dead until a vacuum): a cost per batch that grew with the file.
--
-- UNLOGGED like import_line, whose lines it points into: a crash of PostgreSQL empties both.
create unlogged table import_lane (
  job_id bigint not null,
  lane smallint not null,
  done_upto bigint not null,
  primary key (job_id, lane)
);

create or replace function import_line_cleanup() returns trigger language plpgsql as $$
begin
  delete from import_line where job_id = new.id;
  delete from import_lane where job_id = new.id;
  return null;
end $$;

-- A staged line says whether its value may occur on an earlier line of the file (`seen`, from
-- the upload's filter): a batch looks those values up, and a repeat across batches no longer
-- fails the batch's insert. The lines of imports running now are not known: all of them are
-- looked up.
do $$
declare
  staged record;
begin
  for staged in select c.relname from pg_class c
                 where c.relkind = 'r' and c.relname ~ '^import_line_[0-9]+$' and c.relnamespace = current_schema()::regnamespace loop
    execute format('alter table %I add column seen boolean not null default true', staged.relname);
  end loop;
end $$;

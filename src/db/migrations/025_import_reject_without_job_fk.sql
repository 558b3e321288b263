-- A rejected line's foreign key to its job was checked for every line, by a statement planned
-- anew each time (the pool's force_custom_plan, src/db/client.ts): importing a 200,000-line file
-- again, every line rejected as already stored, took 5.4-5.6 s with it and 2.6-2.9 s without.
-- Rejects are written only by their job's batches, in the transaction that then adds the batch
-- to the job row, and jobs are never deleted: the key guarded nothing those writers do not.
alter table import_reject drop constraint import_reject_job_id_fkey;

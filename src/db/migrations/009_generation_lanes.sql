-- A generation job runs on several lanes at once (src/db/generation.ts): each lane tops up
-- toward its own share of the job's target, counted here, so lanes never wait for one another
-- on the job row while they insert, and a retried batch still never over- or under-generates.
create table generation_lane (
  job_id bigint not null references job (id),
  lane smallint not null,
  target bigint not null,
  added bigint not null default 0,
  primary key (job_id, lane)
);

-- generation jobs recorded before lanes existed run as one lane with the whole target
insert into generation_lane (job_id, lane, target, added)
select id, 0, requested, added from job where kind = 'generate';

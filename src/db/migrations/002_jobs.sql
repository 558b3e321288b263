create type job_kind as enum ('generate', 'import');
create type job_status as enum ('running', 'completed', 'failed', 'cancelled');

create table job (
  id bigint generated always as identity primary key,
  kind job_kind not null,
  group_id bigint not null references promo_group (id),
  status job_status not null default 'running',
  -- generation: the format used; import: null
  format text,
  requested bigint not null default 0,
  processed bigint not null default 0,
  added bigint not null default 0,
  duplicates bigint not null default 0,
  invalid bigint not null default 0,
  -- the first 1,000 problems; the counts above are complete
  errors jsonb not null default '[]',
  workflow_id text not null,
  created_at timestamptz not null default now(),
  finished_at timestamptz
);

create index job_group on job (group_id, id desc);

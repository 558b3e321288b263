create table promo_group (
  id bigint generated always as identity primary key,
  name text not null,
  description text not null default '',
  format text,
  total bigint not null default 0,
  active bigint not null default 0,
  blocked bigint not null default 0,
  issued bigint not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  deleted_at timestamptz,
  constraint promo_group_counters_add_up check (total = active + blocked + issued),
  constraint promo_group_counters_not_negative check (active >= 0 and blocked >= 0 and issued >= 0)
);

create unique index promo_group_name_key on promo_group (lower(btrim(name))) where deleted_at is null;

-- enum order (active < blocked < issued) is the keyset order of the codes listing
create type code_status as enum ('active', 'blocked', 'issued');

create table promo_code (
  id bigint generated always as identity primary key,
  group_id bigint not null references promo_group (id),
  code text collate "C" not null,
  status code_status not null default 'active',
  job_id bigint,
  mailing_id bigint,
  customer_id text,
  issued_at timestamptz
);

create unique index promo_code_code_key on promo_code (code);
-- serves picking active codes, listing by status, and the whole listing in (status, id) order
create index promo_code_group_status on promo_code (group_id, status, id);

-- Counters follow the rows in the same transaction, whatever statement changes them.
create function promo_code_counters() returns trigger language plpgsql as $$
declare
  changes text := case tg_op
    when 'INSERT' then 'select group_id, status, 1 as delta from new_rows'
    when 'DELETE' then 'select group_id, status, -1 as delta from old_rows'
    else 'select group_id, status, 1 as delta from new_rows
          union all select group_id, status, -1 from old_rows'
  end;
begin
  execute format($sql$
    update promo_group g
       set total = g.total + d.total, active = g.active + d.active,
           blocked = g.blocked + d.blocked, issued = g.issued + d.issued
      from (select group_id,
                   sum(delta) as total,
                   coalesce(sum(delta) filter (where status = 'active'), 0) as active,
                   coalesce(sum(delta) filter (where status = 'blocked'), 0) as blocked,
                   coalesce(sum(delta) filter (where status = 'issued'), 0) as issued
              from (%s) changes
             group by group_id
             order by group_id) d
     where g.id = d.group_id
       and (d.total, d.active, d.blocked, d.issued) <> (0, 0, 0, 0)
  $sql$, changes);
  return null;
end $$;

create trigger promo_code_counters_insert after insert on promo_code
  referencing new table as new_rows for each statement execute function promo_code_counters();
create trigger promo_code_counters_update after update on promo_code
  referencing new table as new_rows old table as old_rows for each statement execute function promo_code_counters();
create trigger promo_code_counters_delete after delete on promo_code
  referencing old table as old_rows for each statement execute function promo_code_counters();

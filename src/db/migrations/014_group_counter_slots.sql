-- A group's counters become the sum of a few slot rows. Each transaction adds what its statements
-- changed to the slot of its own backend, so concurrent issues and mailing batches of one group
-- no longer queue on the group's one row; a reader sums the slots, exact at every moment it can
-- see (the slots change in the same transaction as the codes). The group row itself is no longer
-- written when its codes change.
create table promo_group_counter (
  group_id bigint not null,
  slot smallint not null,
  total bigint not null default 0,
  active bigint not null default 0,
  blocked bigint not null default 0,
  issued bigint not null default 0,
  primary key (group_id, slot),
  -- each slot holds changes that add up: a code changes status, or comes or goes with its status
  constraint promo_group_counter_adds_up check (total = active + blocked + issued)
);

insert into promo_group_counter (group_id, slot, total, active, blocked, issued)
select id, 0, total, active, blocked, issued from promo_group;

alter table promo_group
  drop constraint promo_group_counters_add_up,
  drop constraint promo_group_counters_not_negative,
  drop column total, drop column active, drop column blocked, drop column issued;

-- what readers see: one row per group that has ever had a code
create view promo_group_counts as
select group_id, sum(total)::bigint as total, sum(active)::bigint as active, sum(blocked)::bigint as blocked, sum(issued)::bigint as issued
  from promo_group_counter group by group_id;

create or replace function promo_code_counters() returns trigger language plpgsql as $$
declare
  changes text := case tg_op
    when 'INSERT' then 'select group_id, status, 1 as delta from new_rows'
    when 'DELETE' then 'select group_id, status, -1 as delta from old_rows'
    else 'select group_id, status, 1 as delta from new_rows
          union all select group_id, status, -1 from old_rows'
  end;
begin
  -- one statement takes its slots in group order, as it took the group rows before
  execute format($sql$
    insert into promo_group_counter as c (group_id, slot, total, active, blocked, issued)
    select group_id, pg_backend_pid() %% 16, total, active, blocked, issued
      from (select group_id,
                   sum(delta) as total,
                   coalesce(sum(delta) filter (where status = 'active'), 0) as active,
                   coalesce(sum(delta) filter (where status = 'blocked'), 0) as blocked,
                   coalesce(sum(delta) filter (where status = 'issued'), 0) as issued
              from (%s) changes
             group by group_id) d
     where (d.total, d.active, d.blocked, d.issued) <> (0, 0, 0, 0)
     order by group_id
    on conflict (group_id, slot) do update
       set total = c.total + excluded.total, active = c.active + excluded.active,
           blocked = c.blocked + excluded.blocked, issued = c.issued + excluded.issued
  $sql$, changes);
  return null;
end $$;

-- Redemption (API.md "Redemption (v2)"): an issued code is redeemed at most once, and a
-- redemption can be rolled back (a cancelled order). `expired` is reserved for expiry.
-- The new values are only used once this migration has committed (ALTER TYPE … ADD VALUE).
alter type code_status add value 'redeemed';
alter type code_status add value 'expired';

alter table promo_code
  add column redeemed_at timestamptz,
  add column order_id text,
  -- the idempotency key of the redemption: the same key again answers the same redemption
  add column redemption_key text;

alter table promo_group_counter
  add column redeemed bigint not null default 0,
  add column expired bigint not null default 0,
  drop constraint promo_group_counter_adds_up,
  add constraint promo_group_counter_adds_up check (total = active + blocked + issued + redeemed + expired);

create or replace view promo_group_counts as
select group_id, sum(total)::bigint as total, sum(active)::bigint as active, sum(blocked)::bigint as blocked, sum(issued)::bigint as issued,
       sum(redeemed)::bigint as redeemed, sum(expired)::bigint as expired
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
  -- one statement takes its slots in group order. Changes are summed per group and status
  -- first (no per-row cast), then spread over the columns by the status's name: as text, so
  -- that this body never uses the enum values this migration adds before they are committed.
  execute format($sql$
    insert into promo_group_counter as c (group_id, slot, total, active, blocked, issued, redeemed, expired)
    select group_id, pg_backend_pid() %% 16, total, active, blocked, issued, redeemed, expired
      from (select group_id,
                   sum(n) as total,
                   coalesce(sum(n) filter (where s = 'active'), 0) as active,
                   coalesce(sum(n) filter (where s = 'blocked'), 0) as blocked,
                   coalesce(sum(n) filter (where s = 'issued'), 0) as issued,
                   coalesce(sum(n) filter (where s = 'redeemed'), 0) as redeemed,
                   coalesce(sum(n) filter (where s = 'expired'), 0) as expired
              from (select group_id, status::text as s, sum(delta) as n from (%s) changes group by group_id, status) by_status
             group by group_id) d
     where (d.total, d.active, d.blocked, d.issued, d.redeemed, d.expired) <> (0, 0, 0, 0, 0, 0)
     order by group_id
    on conflict (group_id, slot) do update
       set total = c.total + excluded.total, active = c.active + excluded.active,
           blocked = c.blocked + excluded.blocked, issued = c.issued + excluded.issued,
           redeemed = c.redeemed + excluded.redeemed, expired = c.expired + excluded.expired
  $sql$, changes);
  return null;
end $$;

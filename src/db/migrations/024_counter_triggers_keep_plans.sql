-- The counter triggers (migrations 015, 017, 019) ran their statement through EXECUTE format(…),
-- which plans it anew at every firing: in a batch of direct issues, planning took 0.31 ms of the
-- group counters' 0.42 ms and 0.10 of the per-customer counts' 0.24 (pg_stat_statements,
-- `npm run bench -- issue`). Their statements are static now, and PL/pgSQL plans each once per
-- session and keeps the plan. The group and mailing counters sum their statement's changes per
-- group and status with a statement per operation (each names its own transition tables), and
-- apply the few sums with one statement that takes them as parameters; the function sets
-- plan_cache_mode for itself, so that the pool's force_custom_plan (src/db/client.ts) does not
-- replan that one. No plan here can go wrong with the sizes: the transition tables are read
-- whole, and the counter rows are reached through the conflict's unique index.

create or replace function promo_code_counters() returns trigger language plpgsql
set plan_cache_mode = force_generic_plan as $$
declare
  group_ids bigint[];
  statuses code_status[];
  deltas bigint[];
begin
  if tg_op = 'INSERT' then
    select array_agg(group_id), array_agg(status), array_agg(n) into group_ids, statuses, deltas
      from (select group_id, status, count(*) as n from new_rows group by 1, 2) s;
  elsif tg_op = 'DELETE' then
    select array_agg(group_id), array_agg(status), array_agg(-n) into group_ids, statuses, deltas
      from (select group_id, status, count(*) as n from old_rows group by 1, 2) s;
  else
    select array_agg(group_id), array_agg(status), array_agg(n) into group_ids, statuses, deltas
      from (select group_id, status, sum(delta) as n
              from (select group_id, status, 1 as delta from new_rows union all select group_id, status, -1 from old_rows) c
             group by 1, 2) s;
  end if;
  -- one statement takes its slots in group order
  insert into promo_group_counter as c (group_id, slot, total, active, blocked, issued, redeemed, expired)
  select group_id, pg_backend_pid() % 16, total, active, blocked, issued, redeemed, expired
    from (select group_id,
                 sum(n) as total,
                 coalesce(sum(n) filter (where status = 'active'), 0) as active,
                 coalesce(sum(n) filter (where status = 'blocked'), 0) as blocked,
                 coalesce(sum(n) filter (where status = 'issued'), 0) as issued,
                 coalesce(sum(n) filter (where status = 'redeemed'), 0) as redeemed,
                 coalesce(sum(n) filter (where status = 'expired'), 0) as expired
            from unnest(group_ids, statuses, deltas) as t (group_id, status, n)
           group by group_id) d
   where (d.total, d.active, d.blocked, d.issued, d.redeemed, d.expired) <> (0, 0, 0, 0, 0, 0)
   order by group_id
  on conflict (group_id, slot) do update
     set total = c.total + excluded.total, active = c.active + excluded.active,
         blocked = c.blocked + excluded.blocked, issued = c.issued + excluded.issued,
         redeemed = c.redeemed + excluded.redeemed, expired = c.expired + excluded.expired;
  return null;
end $$;

create or replace function mailing_recipient_counters() returns trigger language plpgsql
set plan_cache_mode = force_generic_plan as $$
declare
  mailing_ids bigint[];
  statuses recipient_status[];
  deltas bigint[];
begin
  if tg_op = 'INSERT' then
    select array_agg(mailing_id), array_agg(status), array_agg(n) into mailing_ids, statuses, deltas
      from (select mailing_id, status, count(*) as n from new_rows group by 1, 2) s;
  elsif tg_op = 'DELETE' then
    select array_agg(mailing_id), array_agg(status), array_agg(-n) into mailing_ids, statuses, deltas
      from (select mailing_id, status, count(*) as n from old_rows group by 1, 2) s;
  else
    select array_agg(mailing_id), array_agg(status), array_agg(n) into mailing_ids, statuses, deltas
      from (select mailing_id, status, sum(delta) as n
              from (select mailing_id, status, 1 as delta from new_rows union all select mailing_id, status, -1 from old_rows) c
             group by 1, 2) s;
  end if;
  insert into mailing_counter as c (mailing_id, slot, recipients, sent, failed, unknown, pending)
  select mailing_id, pg_backend_pid() % 16, recipients, sent, failed, unknown, pending
    from (select mailing_id,
                 sum(n) as recipients,
                 coalesce(sum(n) filter (where status = 'sent'), 0) as sent,
                 coalesce(sum(n) filter (where status = 'failed'), 0) as failed,
                 coalesce(sum(n) filter (where status = 'unknown'), 0) as unknown,
                 coalesce(sum(n) filter (where status in ('pending', 'sending')), 0) as pending
            from unnest(mailing_ids, statuses, deltas) as t (mailing_id, status, n)
           group by mailing_id) d
   where (d.recipients, d.sent, d.failed, d.unknown, d.pending) <> (0, 0, 0, 0, 0)
   order by mailing_id
  on conflict (mailing_id, slot) do update
     set recipients = c.recipients + excluded.recipients, sent = c.sent + excluded.sent, failed = c.failed + excluded.failed,
         unknown = c.unknown + excluded.unknown, pending = c.pending + excluded.pending;
  return null;
end $$;

create or replace function mailing_code_counters() returns trigger language plpgsql
set plan_cache_mode = force_generic_plan as $$
declare
  mailing_ids bigint[];
  group_ids bigint[];
  states mailing_code_state[];
  deltas bigint[];
begin
  if tg_op = 'INSERT' then
    select array_agg(mailing_id), array_agg(group_id), array_agg(state), array_agg(n) into mailing_ids, group_ids, states, deltas
      from (select mailing_id, group_id, state, count(*) as n from new_rows where kind = 'initial' group by 1, 2, 3) s;
  elsif tg_op = 'DELETE' then
    select array_agg(mailing_id), array_agg(group_id), array_agg(state), array_agg(-n) into mailing_ids, group_ids, states, deltas
      from (select mailing_id, group_id, state, count(*) as n from old_rows where kind = 'initial' group by 1, 2, 3) s;
  else
    select array_agg(mailing_id), array_agg(group_id), array_agg(state), array_agg(n) into mailing_ids, group_ids, states, deltas
      from (select mailing_id, group_id, state, sum(delta) as n
              from (select mailing_id, group_id, state, 1 as delta from new_rows where kind = 'initial'
                    union all select mailing_id, group_id, state, -1 from old_rows where kind = 'initial') c
             group by 1, 2, 3) s;
  end if;
  insert into mailing_code_counter as c (mailing_id, group_id, slot, reserved, issued, released)
  select mailing_id, group_id, pg_backend_pid() % 16, reserved, issued, released
    from (select mailing_id, group_id,
                 sum(n) as reserved,
                 coalesce(sum(n) filter (where state = 'issued'), 0) as issued,
                 coalesce(sum(n) filter (where state = 'released'), 0) as released
            from unnest(mailing_ids, group_ids, states, deltas) as t (mailing_id, group_id, state, n)
           group by mailing_id, group_id) d
   where (d.reserved, d.issued, d.released) <> (0, 0, 0)
   order by mailing_id, group_id
  on conflict (mailing_id, group_id, slot) do update
     set reserved = c.reserved + excluded.reserved, issued = c.issued + excluded.issued, released = c.released + excluded.released;
  return null;
end $$;

-- Without variables, its statements have no parameters: they are planned once whatever the pool's
-- plan_cache_mode. Sums handed over in arrays, as above, cost a batch of 5,000 issuances 20 ms
-- more: every customer is a row of them.
create or replace function code_issuance_customer_counts() returns trigger language plpgsql as $$
begin
  if tg_op = 'INSERT' then
    -- one statement takes its customers' rows in customer order (migration 017)
    insert into customer_issue_count as c (customer_id, issued, initial_issued, repeat_issued)
    select customer_id, count(*), count(*) filter (where kind = 'initial'), count(*) filter (where kind = 'repeat')
      from new_rows
     group by customer_id
     order by customer_id
    on conflict (customer_id) do update
       set issued = c.issued + excluded.issued, initial_issued = c.initial_issued + excluded.initial_issued,
           repeat_issued = c.repeat_issued + excluded.repeat_issued;
  else
    -- issuances are deleted only by hand (tests): each customer has a row, which goes once its count is none
    update customer_issue_count c
       set issued = c.issued - o.issued, initial_issued = c.initial_issued - o.initial_issued, repeat_issued = c.repeat_issued - o.repeat_issued
      from (select customer_id, count(*) as issued, count(*) filter (where kind = 'initial') as initial_issued,
                   count(*) filter (where kind = 'repeat') as repeat_issued
              from old_rows group by customer_id) o
     where c.customer_id = o.customer_id;
    delete from customer_issue_count c using (select distinct customer_id from old_rows) o
     where c.customer_id = o.customer_id and c.issued = 0;
  end if;
  return null;
end $$;

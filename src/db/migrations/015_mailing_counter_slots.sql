-- A mailing's counts, kept as it goes instead of counted at every read: slot rows summed on read,
-- like the group counters (migration 014). Each transaction adds what its statements changed to
-- the slot of its own backend, so parallel send batches of one mailing do not wait on one row.
create table mailing_counter (
  mailing_id bigint not null,
  slot smallint not null,
  recipients bigint not null default 0,
  sent bigint not null default 0,
  failed bigint not null default 0,
  unknown bigint not null default 0,
  -- pending and sending
  pending bigint not null default 0,
  primary key (mailing_id, slot)
);

-- a mailing's initial codes by group and state
create table mailing_code_counter (
  mailing_id bigint not null,
  group_id bigint not null,
  slot smallint not null,
  reserved bigint not null default 0,
  issued bigint not null default 0,
  released bigint not null default 0,
  primary key (mailing_id, group_id, slot)
);

insert into mailing_counter (mailing_id, slot, recipients, sent, failed, unknown, pending)
select mailing_id, 0, count(*), count(*) filter (where status = 'sent'), count(*) filter (where status = 'failed'),
       count(*) filter (where status = 'unknown'), count(*) filter (where status in ('pending', 'sending'))
  from mailing_recipient group by mailing_id;

insert into mailing_code_counter (mailing_id, group_id, slot, reserved, issued, released)
select mailing_id, group_id, 0, count(*), count(*) filter (where state = 'issued'), count(*) filter (where state = 'released')
  from mailing_code where kind = 'initial' group by mailing_id, group_id;

create function mailing_recipient_counters() returns trigger language plpgsql as $$
declare
  changes text := case tg_op
    when 'INSERT' then 'select mailing_id, status, 1 as delta from new_rows'
    when 'DELETE' then 'select mailing_id, status, -1 as delta from old_rows'
    else 'select mailing_id, status, 1 as delta from new_rows
          union all select mailing_id, status, -1 from old_rows'
  end;
begin
  execute format($sql$
    insert into mailing_counter as c (mailing_id, slot, recipients, sent, failed, unknown, pending)
    select mailing_id, pg_backend_pid() %% 16, recipients, sent, failed, unknown, pending
      from (select mailing_id,
                   sum(delta) as recipients,
                   coalesce(sum(delta) filter (where status = 'sent'), 0) as sent,
                   coalesce(sum(delta) filter (where status = 'failed'), 0) as failed,
                   coalesce(sum(delta) filter (where status = 'unknown'), 0) as unknown,
                   coalesce(sum(delta) filter (where status in ('pending', 'sending')), 0) as pending
              from (%s) changes
             group by mailing_id) d
     where (d.recipients, d.sent, d.failed, d.unknown, d.pending) <> (0, 0, 0, 0, 0)
     order by mailing_id
    on conflict (mailing_id, slot) do update
       set recipients = c.recipients + excluded.recipients, sent = c.sent + excluded.sent, failed = c.failed + excluded.failed,
           unknown = c.unknown + excluded.unknown, pending = c.pending + excluded.pending
  $sql$, changes);
  return null;
end $$;

create trigger mailing_recipient_counters_insert after insert on mailing_recipient
  referencing new table as new_rows for each statement execute function mailing_recipient_counters();
create trigger mailing_recipient_counters_update after update on mailing_recipient
  referencing new table as new_rows old table as old_rows for each statement execute function mailing_recipient_counters();
create trigger mailing_recipient_counters_delete after delete on mailing_recipient
  referencing old table as old_rows for each statement execute function mailing_recipient_counters();

create function mailing_code_counters() returns trigger language plpgsql as $$
declare
  changes text := case tg_op
    when 'INSERT' then 'select mailing_id, group_id, state, 1 as delta from new_rows where kind = ''initial'''
    when 'DELETE' then 'select mailing_id, group_id, state, -1 as delta from old_rows where kind = ''initial'''
    else 'select mailing_id, group_id, state, 1 as delta from new_rows where kind = ''initial''
          union all select mailing_id, group_id, state, -1 from old_rows where kind = ''initial'''
  end;
begin
  execute format($sql$
    insert into mailing_code_counter as c (mailing_id, group_id, slot, reserved, issued, released)
    select mailing_id, group_id, pg_backend_pid() %% 16, reserved, issued, released
      from (select mailing_id, group_id,
                   sum(delta) as reserved,
                   coalesce(sum(delta) filter (where state = 'issued'), 0) as issued,
                   coalesce(sum(delta) filter (where state = 'released'), 0) as released
              from (%s) changes
             group by mailing_id, group_id) d
     where (d.reserved, d.issued, d.released) <> (0, 0, 0)
     order by mailing_id, group_id
    on conflict (mailing_id, group_id, slot) do update
       set reserved = c.reserved + excluded.reserved, issued = c.issued + excluded.issued, released = c.released + excluded.released
  $sql$, changes);
  return null;
end $$;

create trigger mailing_code_counters_insert after insert on mailing_code
  referencing new table as new_rows for each statement execute function mailing_code_counters();
create trigger mailing_code_counters_update after update on mailing_code
  referencing new table as new_rows old table as old_rows for each statement execute function mailing_code_counters();
create trigger mailing_code_counters_delete after delete on mailing_code
  referencing old table as old_rows for each statement execute function mailing_code_counters();

-- Each customer's number of issuances, kept with the issuance rows (in the same statement, by a
-- trigger), so that the segment filters over a customer's whole history (`issuedCount` without a
-- group or a time window: count >= n, count = 0, by kind) read one row per customer instead of
-- grouping every issuance. A customer without issuances has no row.
create table customer_issue_count (
  customer_id text primary key,
  issued bigint not null,
  initial_issued bigint not null,
  repeat_issued bigint not null,
  -- as the group counters' slots (014): a check that a change proposed as a row satisfies too
  constraint customer_issue_count_adds_up check (issued = initial_issued + repeat_issued)
);

-- count >= n and count = n read a range of it; count = 0 is every customer but those with a row
create index customer_issue_count_issued on customer_issue_count (issued);

-- what the whole-history leaves read before (004); every other leaf reads another index
drop index code_issuance_segment_customer;

insert into customer_issue_count (customer_id, issued, initial_issued, repeat_issued)
select customer_id, count(*), count(*) filter (where kind = 'initial'), count(*) filter (where kind = 'repeat')
  from code_issuance group by customer_id;

-- One statement takes its customers' rows in customer order, so two statements never wait on each
-- other in a circle; a transaction that records issuances does so in one statement
-- (src/db/mailing-delivery.ts settleCodes, src/db/issuance.ts). Issuances are deleted only by
-- hand (tests); a customer whose count drops to none loses the row.
create function code_issuance_customer_counts() returns trigger language plpgsql as $$
declare
  changes text := case tg_op
    when 'INSERT' then 'select customer_id, kind, 1 as delta from new_rows'
    else 'select customer_id, kind, -1 as delta from old_rows'
  end;
begin
  execute format($sql$
    insert into customer_issue_count as c (customer_id, issued, initial_issued, repeat_issued)
    select customer_id, sum(delta), coalesce(sum(delta) filter (where kind = 'initial'), 0), coalesce(sum(delta) filter (where kind = 'repeat'), 0)
      from (%s) changes
     group by customer_id
     order by customer_id
    on conflict (customer_id) do update
       set issued = c.issued + excluded.issued, initial_issued = c.initial_issued + excluded.initial_issued,
           repeat_issued = c.repeat_issued + excluded.repeat_issued
  $sql$, changes);
  if tg_op = 'DELETE' then
    delete from customer_issue_count c using (select distinct customer_id from old_rows) o
     where c.customer_id = o.customer_id and c.issued = 0;
  end if;
  return null;
end $$;

create trigger code_issuance_customer_counts_insert after insert on code_issuance
  referencing new table as new_rows for each statement execute function code_issuance_customer_counts();
create trigger code_issuance_customer_counts_delete after delete on code_issuance
  referencing old table as old_rows for each statement execute function code_issuance_customer_counts();

-- an issuance is a fact: it is never rewritten, so its count never has to follow a change
create function code_issuance_unchanged() returns trigger language plpgsql as $$
begin
  raise exception 'code_issuance rows are never updated';
end $$;
create trigger code_issuance_unchanged before update on code_issuance
  for each statement execute function code_issuance_unchanged();

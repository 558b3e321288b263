import type { Sql } from '../../src/db/client.js';

/**
 * The code lifecycle's invariants, checked against the rows: for each, the rows that break it
 * (none when it holds). Free of the test runner, so that `bench -- soak` checks the same.
 */
export async function lifecycleViolations(sql: Sql): Promise<Record<string, readonly unknown[]>> {
  return {
    'group counters equal the rows': await sql`
        select g.id from promo_group g
          left join promo_group_counts s on s.group_id = g.id
          left join lateral (
            select count(*) as total, count(*) filter (where status = 'active') as active,
                   count(*) filter (where status = 'blocked') as blocked, count(*) filter (where status = 'issued') as issued,
                   count(*) filter (where status = 'redeemed') as redeemed, count(*) filter (where status = 'expired') as expired
              from promo_code where group_id = g.id) c on true
         where (coalesce(s.total, 0), coalesce(s.active, 0), coalesce(s.blocked, 0), coalesce(s.issued, 0), coalesce(s.redeemed, 0), coalesce(s.expired, 0))
            <> (c.total, c.active, c.blocked, c.issued, c.redeemed, c.expired)`,
    'no counter is negative': await sql`select group_id from promo_group_counts where least(active, blocked, issued, redeemed, expired) < 0`,
    'mailing counters equal the recipient rows': await sql`
        select m.id from mailing m
          left join (select mailing_id, sum(recipients) as recipients, sum(sent) as sent, sum(failed) as failed, sum(unknown) as unknown, sum(pending) as pending
                       from mailing_counter group by mailing_id) k on k.mailing_id = m.id
          left join (select mailing_id, count(*) as recipients, count(*) filter (where status = 'sent') as sent,
                            count(*) filter (where status = 'failed') as failed, count(*) filter (where status = 'unknown') as unknown,
                            count(*) filter (where status in ('pending', 'sending')) as pending
                       from mailing_recipient group by mailing_id) r on r.mailing_id = m.id
         where (coalesce(k.recipients, 0), coalesce(k.sent, 0), coalesce(k.failed, 0), coalesce(k.unknown, 0), coalesce(k.pending, 0))
            <> (coalesce(r.recipients, 0), coalesce(r.sent, 0), coalesce(r.failed, 0), coalesce(r.unknown, 0), coalesce(r.pending, 0))`,
    'mailing code counters equal the code rows': await sql`
        select coalesce(k.mailing_id, r.mailing_id) as mailing_id from
          (select mailing_id, group_id, sum(reserved) as reserved, sum(issued) as issued, sum(released) as released
             from mailing_code_counter group by mailing_id, group_id) k
          full join (select mailing_id, group_id, count(*) as reserved, count(*) filter (where state = 'issued') as issued,
                            count(*) filter (where state = 'released') as released
                       from mailing_code where kind = 'initial' group by mailing_id, group_id) r using (mailing_id, group_id)
         where (coalesce(k.reserved, 0), coalesce(k.issued, 0), coalesce(k.released, 0)) <> (coalesce(r.reserved, 0), coalesce(r.issued, 0), coalesce(r.released, 0))`,
    'per-customer issuance counts equal the history rows': await sql`
        select customer_id from customer_issue_count k
          full join (select customer_id, count(*) as issued, count(*) filter (where kind = 'initial') as initial_issued,
                            count(*) filter (where kind = 'repeat') as repeat_issued
                       from code_issuance group by customer_id) r using (customer_id)
         where (coalesce(k.issued, 0), coalesce(k.initial_issued, 0), coalesce(k.repeat_issued, 0))
            <> (coalesce(r.issued, 0), coalesce(r.initial_issued, 0), coalesce(r.repeat_issued, 0))`,
    'no code is issued twice': await sql`select code_id from code_issuance where kind = 'initial' group by code_id having count(*) > 1`,
    // an expired code may have been issued before it expired, or not
    'issued (and redeemed) codes and initial issuances match one to one, customer included': await sql`
        select c.code from promo_code c
          left join code_issuance i on i.code_id = c.id and i.kind = 'initial'
         where (c.status in ('issued', 'redeemed') and i.id is null) or (c.status in ('active', 'blocked') and i.id is not null)
            or (i.id is not null and c.customer_id is distinct from i.customer_id)`,
    'a code has a redemption time exactly when it is redeemed': await sql`select code from promo_code where (status = 'redeemed') <> (redeemed_at is not null)`,
    'no code stays blocked by a mailing that ended': await sql`
        select c.code from promo_code c join mailing m on m.id = c.mailing_id
         where c.status = 'blocked' and m.status not in ('reserving', 'sending')`,
    'no reservation outlives its mailing': await sql`
        select mc.code_id from mailing_code mc join mailing m on m.id = mc.mailing_id
         where mc.state = 'reserved' and m.status not in ('reserving', 'sending')`,
  };
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSql, type Sql } from '../../src/db/client.js';
import { lifecycleViolations } from '../support/lifecycle-violations.js';
import { testDatabase } from '../support/stack.js';

const COUNTER_INVARIANTS = [
  'group counters equal the rows',
  'no counter is negative',
  'mailing counters equal the recipient rows',
  'mailing code counters equal the code rows',
  'per-customer issuance counts equal the history rows',
];

let session: Sql;
beforeAll(async () => {
  // one connection: the triggers plan their statements once per session (migration 024), and
  // every statement below reuses the plans the first, one-row statements made
  session = createSql((await testDatabase()).url, { max: 1 });
});
afterAll(() => session.end());

async function expectCountersEqualRows(step: string) {
  const violations = await lifecycleViolations(session);
  for (const invariant of COUNTER_INVARIANTS) expect(violations[invariant], `${invariant}, after ${step}`).toEqual([]);
}

describe('the counter triggers, on plans kept for the session', () => {
  it('keep every counter equal to its rows from one-row statements to statements of many thousand rows', async () => {
    const groups = await session<{ id: string }[]>`
      insert into promo_group (name, name_key) select 'Plans ' || n, 'plans ' || n from generate_series(1, 3) n returning id`;
    const ids = groups.map((g) => g.id);
    const [mailing] = await session<{ id: string }[]>`
      insert into mailing (public_id, name, channel, template, workflow_id, status)
      values ('plans', 'Plans', '{"type":"log"}', '{"body":"x"}', 'mailing-plans', 'sending') returning id`;
    const mailingId = mailing!.id;

    const steps: [string, () => Promise<unknown>][] = [
      ['one code added', () => session`insert into promo_code (group_id, code) values (${ids[0]!}, 'ONE')`],
      ['one code issued', () => session`update promo_code set status = 'issued', customer_id = 'c-1', issued_at = now() where code = 'ONE'`],
      ['one issuance', () => session`
        insert into code_issuance (customer_id, group_id, code_id, kind) select 'c-1', group_id, id, 'initial' from promo_code where code = 'ONE'`],
      ['one recipient', () => session`insert into mailing_recipient (mailing_id, seq, customer_id) values (${mailingId}, 1, 'c-1')`],
      ['one mailing code', () => session`
        insert into mailing_code (mailing_id, seq, group_id, kind, code_id) select ${mailingId}, 1, group_id, 'initial', id from promo_code where code = 'ONE'`],
      ['30,000 codes in three groups', () => session`
        insert into promo_code (group_id, code) select (${ids}::bigint[])[1 + n % 3], 'MANY-' || n from generate_series(1, 30000) n`],
      ['codes of every group blocked, issued and redeemed in one statement', () => session`
        update promo_code set status = (array['blocked', 'issued', 'redeemed'])[1 + id % 3]::code_status,
                              redeemed_at = case when id % 3 = 2 then now() end
         where code like 'MANY-%' and id % 5 <> 0`],
      ['some of them back to active', () => session`update promo_code set status = 'active', redeemed_at = null where code like 'MANY-%' and id % 7 = 0`],
      ['codes of every status deleted', () => session`delete from promo_code where code like 'MANY-%' and id % 11 = 0`],
      ['20,000 issuances of 5,000 customers, both kinds', () => session`
        insert into code_issuance (customer_id, group_id, code_id, kind)
        select 'c-' || n % 5000, (${ids}::bigint[])[1 + n % 3], n, (array['initial', 'repeat'])[1 + n % 2]::issuance_kind
          from generate_series(1, 20000) n`],
      ['issuances deleted, some customers losing all of theirs', () => session`delete from code_issuance where customer_id like 'c-1%'`],
      ['10,000 recipients', () => session`
        insert into mailing_recipient (mailing_id, seq, customer_id) select ${mailingId}, n, 'r-' || n from generate_series(2, 10001) n`],
      ['recipients settled every way', () => session`
        update mailing_recipient set status = (array['sending', 'sent', 'failed', 'unknown'])[1 + seq % 4]::recipient_status
         where mailing_id = ${mailingId} and seq % 3 <> 0`],
      ['recipients deleted', () => session`delete from mailing_recipient where mailing_id = ${mailingId} and seq % 13 = 0`],
      ['10,000 mailing codes of both kinds in three groups', () => session`
        insert into mailing_code (mailing_id, seq, group_id, kind, code_id)
        select ${mailingId}, n, (${ids}::bigint[])[1 + n % 3], (array['initial', 'repeat'])[1 + n % 2]::issuance_kind, n
          from generate_series(2, 10001) n`],
      ['mailing codes issued and released', () => session`
        update mailing_code set state = (array['issued', 'released'])[1 + seq % 2]::mailing_code_state where mailing_id = ${mailingId} and seq % 4 <> 0`],
      ['mailing codes deleted', () => session`delete from mailing_code where mailing_id = ${mailingId} and seq % 17 = 0`],
    ];
    for (const [step, run] of steps) {
      await run();
      await expectCountersEqualRows(step);
    }
    const [counted] = await session<{ total: string }[]>`select sum(total) as total from promo_group_counts`;
    expect(Number(counted!.total)).toBeGreaterThan(25_000);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSql, type Sql } from '../../src/db/client.js';
import { claimRecipients, finishMailing, loadUnsettledRecipients, recordOutcomes } from '../../src/db/mailing-delivery.js';
import { reserveMailingCodes } from '../../src/db/mailing-reservation.js';
import { createMailing, getMailingRecord } from '../../src/db/mailings.js';
import { expectLifecycleInvariants } from '../support/invariants.js';
import { testStack } from '../support/stack.js';

/*
 * Settling a batch finds its codes by primary key from a list. The statistics of promo_code are
 * usually older than the mailing's reservation and say that no code is blocked; planned on them,
 * "blocked codes of this mailing" looked like one row, and the planner read the whole code table
 * and compared every row with every code of the list: 27 s for 1,000 codes among 100,000
 * blocked ones. The code table is never to be scanned whole while codes are settled.
 */

const CODES = 3000;
const RECIPIENTS = 2000;
let sql: Sql;

beforeAll(async () => {
  const stack = await testStack({ worker: false });
  // one connection: what it scanned is flushed to the statistics views on demand
  sql = createSql(stack.databaseUrl, { max: 1 });
  const [group] = await sql<{ id: string }[]>`insert into promo_group (name, name_key) values ('Plans', 'plans') returning id`;
  await sql`insert into promo_code (group_id, code) select ${group!.id}, 'PLAN-' || n from generate_series(1, ${CODES}) as n`;
  await sql`analyze promo_code`;
});
afterAll(() => sql.end());

/** Whole-table scans of promo_code so far, by this connection included. */
async function codeTableScans(): Promise<number> {
  await sql`select pg_stat_force_next_flush()`;
  await sql`select pg_stat_clear_snapshot()`;
  const [row] = await sql<{ n: string }[]>`select seq_scan as n from pg_stat_user_tables where relname = 'promo_code'`;
  return Number(row!.n);
}

async function reservedMailing(publicId: string) {
  const recipients = Array.from({ length: RECIPIENTS }, (_, i) => ({ customerId: `${publicId}-${i}` }));
  await createMailing(sql, { publicId, name: publicId, channel: { type: 'log' }, template: { body: '{{ client.promocode("Plans") }}' }, recipients });
  expect(await reserveMailingCodes(sql, publicId)).toMatchObject({ ok: true });
  return getMailingRecord(sql, publicId);
}

describe('settling codes on statistics taken before the reservation', () => {
  it('issues a batch\'s codes without scanning the code table', async () => {
    const mailing = await reservedMailing('settle-sent');
    const { recipients } = await loadUnsettledRecipients(sql, 'settle-sent', 1, RECIPIENTS / 2);
    await claimRecipients(sql, mailing, recipients.map((r) => r.seq), 1);
    const before = await codeTableScans();
    const outcomes = recipients.map((r) => ({ seq: r.seq, customerId: r.customerId, status: 'sent' as const, used: r.reserved.map((c) => c.codeId), repeated: [] }));
    expect(await recordOutcomes(sql, mailing, 1, outcomes)).toEqual({ sent: RECIPIENTS / 2, failed: 0, unknown: 0 });
    expect(await codeTableScans()).toBe(before);
    await finishMailing(sql, 'settle-sent', 'cancelled');
    await expectLifecycleInvariants(sql);
  });

  it('releases a cancelled mailing\'s codes without scanning the code table', async () => {
    await reservedMailing('settle-cancelled');
    const before = await codeTableScans();
    await finishMailing(sql, 'settle-cancelled', 'cancelled');
    expect(await codeTableScans()).toBe(before);
    const [blocked] = await sql`select count(*)::int as n from promo_code where status = 'blocked'`;
    expect(blocked!.n).toBe(0);
    await expectLifecycleInvariants(sql);
  });
});

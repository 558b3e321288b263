import { expect } from 'vitest';
import type { Sql } from '../../src/db/client.js';
import { lifecycleViolations } from './lifecycle-violations.js';

/** The code lifecycle's invariants, checked against the rows (lifecycleViolations). */
export async function expectLifecycleInvariants(sql: Sql): Promise<void> {
  for (const [invariant, rows] of Object.entries(await lifecycleViolations(sql))) expect(rows, invariant).toEqual([]);
}

/**
 * The receivers' log as the oracle: every code a customer was shown is issued to that customer
 * (never active, blocked, or another's), and a completed mailing has no recipient left pending.
 */
export async function expectReceivedCodesIssued(sql: Sql, seen: readonly { customerId: string; code: string }[]): Promise<void> {
  const codes = [...new Set(seen.map((s) => s.code))];
  const rows = await sql<{ code: string; status: string; customerId: string | null }[]>`
    select code, status, customer_id from promo_code where code = any(${codes}::text[])`;
  const byCode = new Map(rows.map((row) => [row.code, row]));
  const wrong = seen.filter(({ customerId, code }) => byCode.get(code)?.status !== 'issued' || byCode.get(code)?.customerId !== customerId);
  expect(wrong.map((s) => ({ ...s, stored: byCode.get(s.code) })), 'every code a receiver saw is issued to that customer').toEqual([]);
  const pendingOfCompleted = await sql`
    select m.public_id, r.customer_id from mailing_recipient r join mailing m on m.id = r.mailing_id
     where m.status = 'completed' and r.status in ('pending', 'sending')`;
  expect(pendingOfCompleted, 'a completed mailing has no pending recipient').toEqual([]);
}

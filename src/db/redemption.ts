import { ConflictError, NotFoundError } from '../domain/errors.js';
import type { Sql, TransactionSql } from './client.js';
import type { CodeStatus } from './codes.js';

/** A code as a shop or a support agent sees it (API.md "Redemption"). */
export interface CodeInfo {
  code: string;
  groupId: string;
  groupName: string;
  status: CodeStatus;
  customerId?: string;
  issuedAt?: string;
  redeemedAt?: string;
  orderId?: string;
  /** when it can no longer be issued or redeemed: the group's expiry, or its issue plus the group's validForDays */
  expiresAt?: string;
}

interface CodeRow {
  id: string;
  code: string;
  groupId: string;
  groupName: string;
  status: CodeStatus;
  customerId: string | null;
  issuedAt: Date | null;
  redeemedAt: Date | null;
  orderId: string | null;
  redemptionKey: string | null;
  expiresAt: Date | null;
}

export interface Redemption {
  /** when given, the code must have been issued to this customer */
  customerId?: string | undefined;
  orderId?: string | undefined;
  /** the same key again answers the redemption it made */
  idempotencyKey?: string | undefined;
}

export async function lookupCode(sql: Sql, code: string): Promise<CodeInfo> {
  return toInfo(await findCode(sql, code, false));
}

/**
 * Redeems an issued code, once ever: the code's row is locked, so of any number of concurrent
 * requests one redeems it and the others find it redeemed (409 `already_redeemed`, saying when
 * and for which order) — except a request with the winner's idempotency key, which gets the
 * winner's answer. Other refusals: `not_issued`, `expired`, `wrong_customer`.
 */
export async function redeemCode(sql: Sql, code: string, redemption: Redemption): Promise<CodeInfo> {
  return sql.begin(async (tx) => {
    const row = await findCode(tx, code, true);
    if (row.status === 'redeemed') {
      if (redemption.idempotencyKey !== undefined && row.redemptionKey === redemption.idempotencyKey) return toInfo(row);
      const order = row.orderId === null ? '' : ` for order ${row.orderId}`;
      throw new ConflictError(`Code ${code} was already redeemed at ${row.redeemedAt!.toISOString()}${order}.`, 'already_redeemed');
    }
    if (row.status === 'expired' || (row.expiresAt !== null && row.expiresAt <= new Date())) {
      throw new ConflictError(`Code ${code} has expired${row.expiresAt ? ` (at ${row.expiresAt.toISOString()})` : ''}.`, 'expired');
    }
    if (row.status !== 'issued') throw new ConflictError(`Code ${code} has not been issued to a customer (it is ${row.status}).`, 'not_issued');
    if (redemption.customerId !== undefined && redemption.customerId !== row.customerId) {
      throw new ConflictError(`Code ${code} was issued to another customer.`, 'wrong_customer');
    }
    const [redeemed] = await tx<Pick<CodeRow, 'redeemedAt'>[]>`
      update promo_code set status = 'redeemed', redeemed_at = now(), order_id = ${redemption.orderId ?? null},
             redemption_key = ${redemption.idempotencyKey ?? null}
       where id = ${row.id}
      returning redeemed_at`;
    return toInfo({ ...row, status: 'redeemed', redeemedAt: redeemed!.redeemedAt, orderId: redemption.orderId ?? null });
  });
}

/** Takes a redemption back (a cancelled order): the code is issued to its customer again. */
export async function rollBackRedemption(sql: Sql, code: string): Promise<CodeInfo> {
  return sql.begin(async (tx) => {
    const row = await findCode(tx, code, true);
    if (row.status !== 'redeemed') throw new ConflictError(`Code ${code} is not redeemed (it is ${row.status}).`, 'not_redeemed');
    await tx`update promo_code set status = 'issued', redeemed_at = null, order_id = null, redemption_key = null where id = ${row.id}`;
    return toInfo({ ...row, status: 'issued', redeemedAt: null, orderId: null });
  });
}

async function findCode(sql: Sql | TransactionSql, code: string, lock: boolean): Promise<CodeRow> {
  const [row] = await sql<CodeRow[]>`
    select c.id, c.code, c.group_id, g.name as group_name, c.status, c.customer_id, c.issued_at, c.redeemed_at, c.order_id, c.redemption_key,
           least(g.expires_at, c.issued_at + make_interval(days => g.valid_for_days)) as expires_at
      from promo_code c join promo_group g on g.id = c.group_id
     where c.code = ${code}
     ${lock ? sql`for update of c` : sql``}`;
  if (!row) throw new NotFoundError(`There is no promo code ${code}.`);
  return row;
}

function toInfo(row: CodeRow): CodeInfo {
  return {
    code: row.code,
    groupId: row.groupId,
    groupName: row.groupName,
    status: row.status,
    ...(row.customerId !== null && { customerId: row.customerId }),
    ...(row.issuedAt !== null && { issuedAt: row.issuedAt.toISOString() }),
    ...(row.redeemedAt !== null && { redeemedAt: row.redeemedAt.toISOString() }),
    ...(row.orderId !== null && { orderId: row.orderId }),
    ...(row.expiresAt !== null && { expiresAt: row.expiresAt.toISOString() }),
  };
}

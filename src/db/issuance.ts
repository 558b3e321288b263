import { ConflictError } from '../domain/errors.js';
import type { Sql, TransactionSql } from './client.js';
import { mergeCustomers } from './customers.js';
import { lockGroup } from './groups.js';

/**
 * Issues one active code of the group to the customer (initial issuance), in one transaction.
 * The same idempotency key on the same group answers the code it issued the first time.
 *
 * Lock order, the same as a mailing's: the customer row first (a mailing merges its customers
 * when it is recorded), then the group, shared (it only keeps a delete out), then the code, and
 * the group's counter slot last (through the counters trigger of the promo_code update). Issues
 * of one group do not wait for one another; two with the same idempotency key do.
 */
export async function issueCode(sql: Sql, groupId: string, customerId: string, idempotencyKey?: string): Promise<string> {
  return sql.begin(async (tx) => {
    await mergeCustomers(tx, [{ id: customerId }]);
    const group = await lockGroup(tx, groupId, 'shared');
    const earlier = await earlierIssuance(tx, groupId, customerId, idempotencyKey, 'initial');
    if (earlier) return earlier.code;
    const [picked] = await tx<{ id: string; code: string }[]>`
      update promo_code set status = 'issued', customer_id = ${customerId}, issued_at = now()
       where id = (select id from promo_code where group_id = ${groupId} and status = 'active'
                    order by id limit 1 for update skip locked)
      returning id, code`;
    if (!picked) throw new ConflictError(`Group "${group.name}" has no active code left.`);
    await tx`
      insert into code_issuance (customer_id, group_id, code_id, kind, idempotency_key)
      values (${customerId}, ${groupId}, ${picked.id}, 'initial', ${idempotencyKey ?? null})`;
    return picked.code;
  });
}

/**
 * The code the customer last got from the group, recorded again as a repeat issuance; null when
 * none. The same idempotency key on the same group answers the code it repeated the first time
 * and records nothing more.
 */
export async function reissueCode(sql: Sql, groupId: string, customerId: string, idempotencyKey?: string): Promise<string | null> {
  return sql.begin(async (tx) => {
    await lockGroup(tx, groupId, 'shared');
    const earlier = await earlierIssuance(tx, groupId, customerId, idempotencyKey, 'repeat');
    if (earlier) return earlier.code;
    const last = await lastCode(tx, groupId, customerId);
    if (!last) return null;
    await tx`
      insert into code_issuance (customer_id, group_id, code_id, kind, idempotency_key)
      values (${customerId}, ${groupId}, ${last.id}, 'repeat', ${idempotencyKey ?? null})`;
    return last.code;
  });
}

/**
 * What an earlier request with this idempotency key did on this group. A request with the same
 * key running at the same time is waited for (a lock on the key until this transaction ends), so
 * that its answer is the one repeated.
 */
async function earlierIssuance(tx: TransactionSql, groupId: string, customerId: string, idempotencyKey: string | undefined, kind: 'initial' | 'repeat') {
  if (idempotencyKey === undefined) return undefined;
  await tx`select pg_advisory_xact_lock(${IDEMPOTENCY_LOCK_CLASS}, hashtext(${`${groupId}:${idempotencyKey}`}))`;
  const [earlier] = await tx<{ code: string; customerId: string; kind: 'initial' | 'repeat' }[]>`
    select c.code, i.customer_id, i.kind from code_issuance i join promo_code c on c.id = i.code_id
     where i.group_id = ${groupId} and i.idempotency_key = ${idempotencyKey}`;
  if (!earlier) return undefined;
  if (earlier.customerId !== customerId) {
    throw new ConflictError(`The idempotency key ${idempotencyKey} was used for another customer.`);
  }
  if (earlier.kind !== kind) {
    throw new ConflictError(`The idempotency key ${idempotencyKey} was used for ${earlier.kind === 'initial' ? 'an issue' : 'a reissue'}.`);
  }
  return earlier;
}

/** Advisory lock class of an idempotency key of a group's issues. */
const IDEMPOTENCY_LOCK_CLASS = 7_244_017;

async function lastCode(tx: TransactionSql, groupId: string, customerId: string) {
  const [row] = await tx<{ id: string; code: string }[]>`
    select c.id, c.code from code_issuance i join promo_code c on c.id = i.code_id
     where i.customer_id = ${customerId} and i.group_id = ${groupId}
     order by i.issued_at desc, i.id desc limit 1`;
  return row;
}

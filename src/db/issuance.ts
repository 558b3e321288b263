import { ConflictError } from '../domain/errors.js';
import type { Sql, TransactionSql } from './client.js';
import { mergeCustomers } from './customers.js';
import { groupLockCall, groupNotFound } from './groups.js';
import { isId } from './ids.js';

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
    const { name, earlier } = await openIssuance(tx, groupId, customerId, idempotencyKey, 'initial');
    if (earlier) return earlier;
    // the code and its history row in one statement: every round trip counts when issues come fast
    const [picked] = await tx<{ code: string }[]>`
      with picked as (
        update promo_code set status = 'issued', customer_id = ${customerId}, issued_at = now()
         where id = (select id from promo_code where group_id = ${groupId} and status = 'active'
                      order by id limit 1 for update skip locked)
        returning id, code
      ), recorded as (
        insert into code_issuance (customer_id, group_id, code_id, kind, idempotency_key)
        select ${customerId}, ${groupId}, id, 'initial', ${idempotencyKey ?? null} from picked)
      select code from picked`;
    if (!picked) throw new ConflictError(`Group "${name}" has no active code left.`);
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
    const { earlier } = await openIssuance(tx, groupId, customerId, idempotencyKey, 'repeat');
    if (earlier) return earlier;
    const [repeated] = await tx<{ code: string }[]>`
      with last as (
        select c.id, c.code from code_issuance i join promo_code c on c.id = i.code_id
         where i.customer_id = ${customerId} and i.group_id = ${groupId}
         order by i.issued_at desc, i.id desc limit 1
      ), recorded as (
        insert into code_issuance (customer_id, group_id, code_id, kind, idempotency_key)
        select ${customerId}, ${groupId}, id, 'repeat', ${idempotencyKey ?? null} from last)
      select code from last`;
    return repeated?.code ?? null;
  });
}

/**
 * Takes the group (shared: it only keeps a delete out) and the idempotency key (a request with
 * the same key running at the same time is waited for, so that its answer is the one repeated)
 * in one statement, then reads the group's name and the code an earlier request with the key
 * answered, in another: after the locks, so that it sees what they waited for.
 */
async function openIssuance(tx: TransactionSql, groupId: string, customerId: string, idempotencyKey: string | undefined, kind: 'initial' | 'repeat') {
  if (!isId(groupId)) throw groupNotFound(groupId);
  const keyLock = idempotencyKey === undefined ? tx`` : tx`, pg_advisory_xact_lock(${IDEMPOTENCY_LOCK_CLASS}, hashtext(${`${groupId}:${idempotencyKey}`}))`;
  await tx`select ${groupLockCall(tx, groupId, 'shared')} ${keyLock}`;
  const [row] = await tx<{ name: string; expired: boolean; code: string | null; earlierCustomer: string | null; earlierKind: 'initial' | 'repeat' | null }[]>`
    select g.name, coalesce(g.expires_at <= now(), false) as expired, e.code, e.customer_id as earlier_customer, e.kind as earlier_kind
      from promo_group g
      left join lateral (
        select c.code, i.customer_id, i.kind from code_issuance i join promo_code c on c.id = i.code_id
         where i.group_id = g.id and i.idempotency_key = ${idempotencyKey ?? null}) e on true
     where g.id = ${groupId} and g.deleted_at is null`;
  if (!row) throw groupNotFound(groupId);
  if (row.code === null) {
    if (row.expired) throw new ConflictError(`Group "${row.name}" has expired: its codes are no longer issued.`, 'group_expired');
    return { name: row.name };
  }
  if (row.earlierCustomer !== customerId) {
    throw new ConflictError(`The idempotency key ${idempotencyKey} was used for another customer.`);
  }
  if (row.earlierKind !== kind) {
    throw new ConflictError(`The idempotency key ${idempotencyKey} was used for ${row.earlierKind === 'initial' ? 'an issue' : 'a reissue'}.`);
  }
  return { name: row.name, earlier: row.code };
}

/** Advisory lock class of an idempotency key of a group's issues. */
const IDEMPOTENCY_LOCK_CLASS = 7_244_017;

import { ConflictError } from '../domain/errors.js';
import type { Sql, TransactionSql } from './client.js';
import { groupLockCall, groupNotFound } from './groups.js';
import { isId } from './ids.js';
import { pipelinedTransaction } from './pipelined-transaction.js';

/** One direct issue: a new code of the group for the customer. */
export interface IssueRequest {
  customerId: string;
  idempotencyKey?: string | undefined;
}

/** What one request of a batch gets: its code, or the refusal it answers (the others are unaffected). */
export type IssueOutcome = { code: string } | { refused: ConflictError };

/**
 * Where a group's next issues look for active codes: after the last code its issues picked
 * (`after`, an id; '0' before the first), then from the group's first code. Codes are picked in
 * id order, so the ones before the last picked are mostly issued already; a scan from the
 * group's first code walked past every one of them (and their heap rows), a cost per issue that
 * grew with the group's history. issueCodes moves it on.
 */
export interface PickCursor {
  after: string;
}

/**
 * Issues a code to each request, all in one transaction (the round trip and the commit are
 * shared: see IssueBatcher), answering in the requests' order. A request whose idempotency key
 * was used before answers what it answered then; one repeating a key earlier in the same batch
 * answers what that one gets. A missing group fails the whole batch, and changes nothing; every
 * other refusal (no code left, an expired group, a key used for another customer) is the
 * request's own.
 *
 * Lock order: the group, shared (it only keeps a delete out: issues of one group do not wait
 * for one another), then the keys (two requests with the same key do), then the codes (skip
 * locked), the group's counter slot (through the counters trigger of the promo_code update) and
 * last the rows of new customers, inserted in one order as a mailing inserts them.
 */
export async function issueCodes(sql: Sql, groupId: string, requests: readonly IssueRequest[], cursor: PickCursor = { after: '0' }): Promise<IssueOutcome[]> {
  if (!isId(groupId)) throw groupNotFound(groupId);
  const keys = requests.map((request) => request.idempotencyKey);
  const [, opened, picked] = await pipelinedTransaction(sql, (tx) => [
    issuanceLocks(tx, groupId, keys),
    earlierIssues(tx, groupId, keys),
    pickCodes(tx, groupId, requests, cursor.after),
  ]);
  const { name, expired, earlier } = openedIssuance(groupId, opened);
  const codes = new Map(picked.map((row) => [Number(row.request) - 1, row.code]));
  // the last request served got the last code picked: the cursor moves to it
  if (picked.length > 0) cursor.after = picked.reduce((a, b) => (Number(a.request) > Number(b.request) ? a : b)).id;
  const outcomes: IssueOutcome[] = new Array(requests.length);
  const firstWithKey = new Map<string, number>();
  requests.forEach(({ customerId, idempotencyKey: key }, i) => {
    const before = key === undefined ? undefined : earlier.get(key);
    const first = key === undefined ? undefined : firstWithKey.get(key);
    if (before) outcomes[i] = earlierAnswer(before, customerId, key!, 'initial');
    else if (first !== undefined) outcomes[i] = repeatInBatch(outcomes[first]!, customerId === requests[first]!.customerId, key!);
    else {
      if (key !== undefined) firstWithKey.set(key, i);
      const code = codes.get(i);
      if (code !== undefined) outcomes[i] = { code };
      else outcomes[i] = { refused: expired ? groupExpired(name) : new ConflictError(`Group "${name}" has no active code left.`) };
    }
  });
  return outcomes;
}

/**
 * A new code for each request that needs one (by position in `requests`, from 1), in one
 * statement: the codes, their history rows and their customers. A request needs one unless its
 * key was answered before, or by a request before it in the batch, or the group is gone or
 * expired. When the group runs short, the later requests go without.
 */
function pickCodes(tx: Sql, groupId: string, requests: readonly IssueRequest[], after: string) {
  const keys = requests.map((r) => r.idempotencyKey ?? null);
  return tx<{ request: string; id: string; code: string }[]>`
    with answered as materialized (${issuancesWithKeys(tx, groupId, keys)}
    ), wanted as (
      select w.request, w.customer_id, w.idempotency_key, row_number() over (order by w.request) as n
        from unnest(${requests.map((r) => r.customerId)}::text[], ${keys}::text[]) with ordinality as w (customer_id, idempotency_key, request)
       where exists (select from promo_group g where g.id = ${groupId} and g.deleted_at is null and not coalesce(g.expires_at <= now(), false))
         and (w.idempotency_key is null
              or (not exists (select from unnest(${keys}::text[]) with ordinality as e (key, request) where e.key = w.idempotency_key and e.request < w.request)
                  and not exists (select from answered a where a.key = w.idempotency_key)))
    ), free as (
      -- after the cursor first, then from the group's first code; the second scan runs only
      -- when the first one finds too few
      select id, row_number() over (order by lap, id) as n
        from (select id, 1 as lap from (select id from promo_code where group_id = ${groupId} and status = 'active' and id > ${after}::bigint
                                          order by id limit (select count(*) from wanted) for update skip locked) onward
              union all
              select id, 2 from (select id from promo_code where group_id = ${groupId} and status = 'active' and id <= ${after}::bigint
                                  order by id limit (select count(*) from wanted) for update skip locked) again
              limit (select count(*) from wanted)) f
    ), picked as (
      update promo_code c set status = 'issued', customer_id = w.customer_id, issued_at = now()
        from free join wanted w using (n)
       where c.id = free.id
      returning c.id, c.code, w.request, w.customer_id, w.idempotency_key
    ), recorded as (
      insert into code_issuance (customer_id, group_id, code_id, kind, idempotency_key)
      select customer_id, ${groupId}, id, 'initial', idempotency_key from picked order by request
    ), known as (
      -- code-point order, as mergeCustomers inserts a mailing's: two inserts of the same new ids wait, never deadlock
      insert into customer (id) select distinct customer_id collate "C" from picked order by 1
      on conflict (id) do nothing)
    select request, id, code from picked`;
}

/**
 * The code the customer last got from the group, recorded again as a repeat issuance; null when
 * none. The same idempotency key on the same group answers the code it repeated the first time
 * and records nothing more.
 */
export async function reissueCode(sql: Sql, groupId: string, customerId: string, idempotencyKey?: string): Promise<string | null> {
  if (!isId(groupId)) throw groupNotFound(groupId);
  return sql.begin(async (tx) => {
    const [, opened] = await Promise.all([issuanceLocks(tx, groupId, [idempotencyKey]), earlierIssues(tx, groupId, [idempotencyKey])]);
    const { name, expired, earlier } = openedIssuance(groupId, opened);
    const before = idempotencyKey === undefined ? undefined : earlier.get(idempotencyKey);
    if (before) {
      const answer = earlierAnswer(before, customerId, idempotencyKey!, 'repeat');
      if ('refused' in answer) throw answer.refused;
      return answer.code;
    }
    if (expired) throw groupExpired(name);
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

interface EarlierIssue {
  code: string;
  customerId: string;
  kind: 'initial' | 'repeat';
}

const given = (keys: readonly (string | null | undefined)[]) => [...new Set(keys.filter((key): key is string => key != null))];

/**
 * Takes the group (shared: it only keeps a delete out) and the idempotency keys, in one order for
 * every transaction (two batches sharing keys wait rather than deadlock; a request with the same
 * key running at the same time is waited for, so that its answer is the one repeated).
 */
function issuanceLocks(tx: Sql | TransactionSql, groupId: string, keys: readonly (string | undefined)[]) {
  return tx`
    select ${groupLockCall(tx, groupId, 'shared')},
           (select count(pg_advisory_xact_lock(${IDEMPOTENCY_LOCK_CLASS}, h))
              from (select distinct hashtext(${`${groupId}:`} || key) as h from unnest(${given(keys)}::text[]) as key order by h) keys)`;
}

/** The group, and what earlier requests with the keys were answered: a statement after issuanceLocks, so that it sees what they waited for. */
function earlierIssues(tx: Sql | TransactionSql, groupId: string, keys: readonly (string | undefined)[]) {
  return tx<{ name: string; expired: boolean; key: string | null; code: string | null; customerId: string | null; kind: 'initial' | 'repeat' | null }[]>`
    select g.name, coalesce(g.expires_at <= now(), false) as expired, e.key, e.code, e.customer_id, e.kind
      from promo_group g
      left join lateral (
        select i.key, c.code, i.customer_id, i.kind from (${issuancesWithKeys(tx, groupId, keys)}) i join promo_code c on c.id = i.code_id) e on true
     where g.id = ${groupId} and g.deleted_at is null`;
}

/**
 * The group's issuances under any of `keys`, by one lookup of the keys' index a key. Joined as a
 * whole instead, on statistics from before the group's history (a busy new group's), the planner
 * read every keyed issuance of the group for each batch: the cost of an issue grew with the
 * group. `offset 0` keeps each key's lookup its own.
 */
function issuancesWithKeys(tx: Sql | TransactionSql, groupId: string, keys: readonly (string | null | undefined)[]) {
  return tx`
    select k.key, i.code_id, i.customer_id, i.kind
      from unnest(${given(keys)}::text[]) as k (key)
      cross join lateral (select i.code_id, i.customer_id, i.kind from code_issuance i
                           where i.group_id = ${groupId} and i.idempotency_key = k.key
                             and i.idempotency_key is not null -- lets the planner use the keys' partial unique index
                          offset 0) i`;
}

function openedIssuance(groupId: string, rows: Awaited<ReturnType<typeof earlierIssues>>) {
  if (!rows[0]) throw groupNotFound(groupId);
  const earlier = new Map<string, EarlierIssue>();
  for (const row of rows) if (row.key !== null) earlier.set(row.key, { code: row.code!, customerId: row.customerId!, kind: row.kind! });
  return { name: rows[0].name, expired: rows[0].expired, earlier };
}

/** What a request repeating an earlier one's key answers: that one's code, or a refusal when it is not a true repeat. */
function earlierAnswer(before: EarlierIssue, customerId: string, key: string, kind: 'initial' | 'repeat'): IssueOutcome {
  if (before.customerId !== customerId) return { refused: keyOfAnother(key) };
  if (before.kind !== kind) {
    return { refused: new ConflictError(`The idempotency key ${key} was used for ${before.kind === 'initial' ? 'an issue' : 'a reissue'}.`) };
  }
  return { code: before.code };
}

/**
 * What a request gets that repeats the key of one before it in the batch: that one's code when
 * it is the same customer's. When that one was refused, nothing holds the key, and this one is
 * refused for the same reason (the group had no code for the earlier request, none for it either).
 */
function repeatInBatch(first: IssueOutcome, sameCustomer: boolean, key: string): IssueOutcome {
  if ('refused' in first || sameCustomer) return first;
  return { refused: keyOfAnother(key) };
}

const keyOfAnother = (key: string) => new ConflictError(`The idempotency key ${key} was used for another customer.`);

const groupExpired = (name: string) => new ConflictError(`Group "${name}" has expired: its codes are no longer issued.`, 'group_expired');

/** Advisory lock class of an idempotency key of a group's issues. */
const IDEMPOTENCY_LOCK_CLASS = 7_244_017;

import type { Sql, TransactionSql } from './client.js';
import { groupBy } from '../domain/group-by.js';
import type { Attributes } from './customers.js';
import { lockedMatches } from './locked-matches.js';
import { getMailingRecord, type MailingGroup, type MailingRecord, type MailingRefusal, type MailingStatus } from './mailings.js';

// Recipients go pending → sending (claimed by a batch attempt, committed before the message
// leaves) → sent | failed | unknown. See migration 010 for the rules a claim follows.

export interface HeldCode {
  groupId: string;
  codeId: string;
  code: string;
}

export interface UnsettledRecipient {
  seq: number;
  customerId: string;
  email: string | null;
  phone: string | null;
  attributes: Attributes;
  /** codes reserved for the recipient, by group id */
  reserved: HeldCode[];
  /** the last code the customer got from each repeat group, by group id */
  last: HeldCode[];
}

export interface SendContext {
  mailing: MailingRecord & { groups: MailingGroup[] };
  recipients: UnsettledRecipient[];
}

/**
 * The recipients of seq range [fromSeq, toSeq] not settled yet (pending, or being sent by an
 * attempt that may have died), with their codes; none once the mailing stopped sending.
 */
export async function loadUnsettledRecipients(sql: Sql, publicId: string, fromSeq: number, toSeq: number): Promise<SendContext> {
  const mailing = (await getMailingRecord(sql, publicId)) as SendContext['mailing'];
  if (mailing.status !== 'sending') return { mailing, recipients: [] };
  // customers one index lookup each (`offset 0` keeps the subquery a lookup of its own): as a
  // join, the planner hashed the whole customer table for every batch (60–90 ms at 100,000 customers)
  const rows = await sql<(Omit<UnsettledRecipient, 'seq' | 'reserved' | 'last'> & { seq: string })[]>`
    select r.seq, r.customer_id, r.email, r.phone, c.attributes
      from mailing_recipient r
      cross join lateral (select attributes from customer where id = r.customer_id offset 0) c
     where r.mailing_id = ${mailing.id} and r.seq between ${fromSeq} and ${toSeq} and r.status in ('pending', 'sending')
     order by r.seq`;
  if (rows.length === 0) return { mailing, recipients: [] };
  const reserved = await sql<(Omit<HeldCode, 'code'> & { seq: string })[]>`
    select seq, group_id, code_id from mailing_code
     where mailing_id = ${mailing.id} and seq between ${fromSeq} and ${toSeq} and kind = 'initial' and state = 'reserved'`;
  // by primary key, rather than a join the planner may turn into a scan of every code
  const codeRows = await sql<{ id: string; code: string }[]>`
    select id, code from promo_code where id = any(${reserved.map((r) => r.codeId)}::bigint[])`;
  const codeText = new Map(codeRows.map((row) => [row.id, row.code]));
  const repeatGroups = mailing.groups.filter((g) => g.kind === 'repeat').map((g) => g.id);
  // each customer's history through its index, per group: with `customer_id = any(…)` the
  // planner scanned every issuance for every batch
  const last = repeatGroups.length === 0 ? [] : await sql<(HeldCode & { customerId: string })[]>`
    select w.customer_id, g.group_id, l.code_id, l.code
      from unnest(${rows.map((r) => r.customerId)}::text[]) as w (customer_id)
      cross join unnest(${repeatGroups}::bigint[]) as g (group_id)
      cross join lateral (
        select i.code_id, c.code from code_issuance i join promo_code c on c.id = i.code_id
         where i.customer_id = w.customer_id and i.group_id = g.group_id
         order by i.issued_at desc, i.id desc limit 1) l`;
  const reservedBySeq = groupBy(
    reserved.map((r): HeldCode & { seq: string } => ({ seq: r.seq, groupId: r.groupId, codeId: r.codeId, code: codeText.get(r.codeId)! })),
    (code) => code.seq,
  );
  const lastByCustomer = groupBy(last, (code) => code.customerId);
  // field by field: a spread of the driver's rows costs microseconds each
  return {
    mailing,
    recipients: rows.map((row) => ({
      seq: Number(row.seq),
      customerId: row.customerId,
      email: row.email,
      phone: row.phone,
      attributes: row.attributes,
      reserved: reservedBySeq.get(row.seq) ?? [],
      last: lastByCustomer.get(row.customerId) ?? [],
    })),
  };
}

/**
 * Write-ahead: marks recipients as being sent by batch attempt `attempt` and commits, before
 * any of their messages leaves. A recipient is claimed when pending, or when an earlier attempt
 * was sending it (that attempt may have died after delivering): the answer says which
 * (`true`: taken over). Nothing is claimed once the mailing stopped sending; the mailing row is
 * share-locked, so a claim and the end of the mailing never interleave.
 */
export async function claimRecipients(sql: Sql, mailing: MailingRecord, seqs: readonly number[], attempt: number): Promise<Map<number, boolean>> {
  const rows = await sql<{ seq: string; takenOver: boolean }[]>`
    with live as (
      select id from mailing where id = ${mailing.id} and status = 'sending' for share
    ), claimable as (
      select r.seq, r.status from mailing_recipient r join live on r.mailing_id = live.id
       where r.seq = any(${seqs}::bigint[])
         and (r.status = 'pending' or (r.status = 'sending' and r.send_attempt < ${attempt}))
         for update of r
    )
    update mailing_recipient r set status = 'sending', send_attempt = ${attempt}
      from claimable
     where r.mailing_id = ${mailing.id} and r.seq = any(${seqs}::bigint[]) and r.seq = claimable.seq
    returning r.seq, claimable.status = 'sending' as taken_over`;
  return new Map(rows.map((row) => [Number(row.seq), row.takenOver]));
}

/**
 * What became of a claimed recipient: `sent`, `failed` (definitely not delivered: its codes go
 * back to active), `unknown` (may have been delivered: its codes are issued as if sent), or
 * `pending` (never attempted: back to the queue).
 */
export interface Outcome {
  seq: number;
  customerId: string;
  status: 'sent' | 'failed' | 'unknown' | 'pending';
  error?: string | undefined;
  /** reserved codes the message carried: issued when sent or unknown */
  used: string[];
  /** repeat codes the message carried */
  repeated: HeldCode[];
}

export interface Tally {
  sent: number;
  failed: number;
  unknown: number;
}

/**
 * Records outcomes of attempt `attempt` in one transaction. `sent` holds whoever delivered it
 * (a message delivered is delivered, even by a stale attempt). Any other outcome counts only
 * while this attempt still holds the claim: an attempt that was taken over can never release
 * a code its successor may have delivered. Codes of sent and unknown recipients become issued
 * to them (initial history rows; repeat codes recorded as repeats); codes of failed ones, and
 * reserved codes a message did not use, return to active. A repeated commit changes nothing.
 */
export async function recordOutcomes(sql: Sql, mailing: MailingRecord, attempt: number, outcomes: readonly Outcome[]): Promise<Tally> {
  const tally: Tally = { sent: 0, failed: 0, unknown: 0 };
  if (outcomes.length === 0) return tally;
  return sql.begin(async (tx) => {
    await byPrimaryKey(tx);
    const settled = await settleRecipients(tx, mailing, attempt, outcomes);
    const fresh = outcomes.filter((o) => settled.get(o.seq) && o.status !== 'pending');
    for (const outcome of fresh) tally[outcome.status as keyof Tally] += 1;
    const holders = fresh.filter((o) => o.status !== 'failed');
    const customerOf = new Map(fresh.map((o) => [o.seq, o.customerId]));
    const used = holders.flatMap((o) => o.used);
    // rows are found by `seq = any(...)` on the primary key: estimates for fresh bulk rows are unreliable
    const reserved = await tx<{ codeId: string; seq: string; state: 'issued' | 'released' }[]>`
      update mailing_code set state = case when code_id = any(${used}::bigint[]) then 'issued' else 'released' end::mailing_code_state
       where mailing_id = ${mailing.id} and seq = any(${fresh.map((o) => o.seq)}::bigint[]) and kind = 'initial' and state = 'reserved'
      returning code_id, seq, state`;
    // last, so that the counter slots stay locked only until the commit
    const codes = reserved.map((row) => ({ codeId: row.codeId, customerId: row.state === 'issued' ? customerOf.get(Number(row.seq))! : null }));
    await settleCodes(tx, mailing, codes, repeatsOf(holders));
    return tally;
  });
}

/** Applies the outcomes the recipients' states allow; answers, by seq, those that changed. */
async function settleRecipients(tx: TransactionSql, mailing: MailingRecord, attempt: number, outcomes: readonly Outcome[]): Promise<Map<number, true>> {
  const sent = outcomes.filter((o) => o.status === 'sent').map((o) => o.seq);
  const others = outcomes.filter((o) => o.status !== 'sent');
  const delivered = sent.length === 0 ? [] : await tx<{ seq: string }[]>`
    update mailing_recipient set status = 'sent', error = null
     where mailing_id = ${mailing.id} and seq = any(${sent}::bigint[]) and status in ('sending', 'unknown')
    returning seq`;
  const claimed = others.length === 0 ? [] : await tx<{ seq: string }[]>`
    with held as (${lockedMatches(
      tx,
      tx`select * from unnest(${others.map((o) => o.seq)}::bigint[], ${others.map((o) => o.status)}::text[],
                              ${others.map((o) => o.error ?? null) as string[]}::text[]) as t (seq, status, error)`,
      tx`mailing_recipient r where r.mailing_id = ${mailing.id} and r.seq = l.seq and r.status = 'sending' and r.send_attempt = ${attempt}`,
    )})
    update mailing_recipient r
       set status = t.status::recipient_status, error = t.error,
           send_attempt = case when t.status = 'pending' then null else r.send_attempt end
      from held t
     where r.mailing_id = ${mailing.id} and r.seq = t.seq
    returning r.seq`;
  return new Map([...delivered, ...claimed].map((row) => [Number(row.seq), true]));
}

interface RepeatCode extends Omit<HeldCode, 'code'> {
  seq: number;
  customerId: string;
}

/** Repeat codes carried by messages that may have been delivered. */
function repeatsOf(holders: readonly Outcome[]): RepeatCode[] {
  return holders.flatMap((o) => o.repeated.map(({ groupId, codeId }) => ({ groupId, codeId, seq: o.seq, customerId: o.customerId })));
}

/**
 * Blocked codes of this mailing become issued to a customer (with an initial history row) or
 * active again, and repeat codes are recorded (once each, with a repeat history row), in one
 * statement: the history rows of a transaction go in together, so the per-customer counts they
 * update (migration 017) are taken in one order. Codes are found by primary key (stillBlocked).
 */
async function settleCodes(
  tx: TransactionSql,
  mailing: MailingRecord,
  codes: readonly { codeId: string; customerId: string | null }[],
  repeats: readonly RepeatCode[] = [],
): Promise<void> {
  if (codes.length === 0 && repeats.length === 0) return;
  await tx`
    with held as (
      select * from unnest(${codes.map((c) => c.codeId)}::bigint[], ${codes.map((c) => c.customerId) as string[]}::text[]) as t (code_id, customer_id)
    ), settled as (
      update promo_code c
         set status = case when t.customer_id is null then 'active' else 'issued' end::code_status,
             customer_id = t.customer_id,
             issued_at = case when t.customer_id is null then null else now() end,
             mailing_id = case when t.customer_id is null then null else c.mailing_id end
        from held t
       where c.id = t.code_id and ${stillBlocked(tx, mailing)}
      returning c.id, c.group_id, c.customer_id, c.status
    ), repeat as (
      select * from unnest(${repeats.map((r) => r.seq)}::bigint[], ${repeats.map((r) => r.customerId)}::text[],
                           ${repeats.map((r) => r.groupId)}::bigint[], ${repeats.map((r) => r.codeId)}::bigint[])
               as t (seq, customer_id, group_id, code_id)
    ), repeated as (
      insert into mailing_code (mailing_id, seq, group_id, kind, code_id, state)
      select ${mailing.id}, seq, group_id, 'repeat', code_id, 'issued' from repeat
      on conflict do nothing
      returning seq, group_id, code_id
    )
    insert into code_issuance (customer_id, group_id, code_id, kind, mailing_id)
    select customer_id, group_id, code_id, kind, ${mailing.id} from (
      select customer_id, group_id, id as code_id, 'initial'::issuance_kind as kind from settled where status = 'issued'
      union all
      select r.customer_id, r.group_id, r.code_id, 'repeat' from repeated join repeat r using (seq, group_id, code_id)) issued`;
}

/**
 * For the rest of the transaction, rows are found through their indexes. Statistics of
 * promo_code taken before the reservation say that no code is blocked; planned on them, a
 * statement settling codes once read the whole table and compared every row with every code of
 * the list: 27 s for 1,000 codes among 100,000 blocked ones (test/integration/query-plans.test.ts;
 * see also lockedMatches). Nothing these transactions do wants a full scan.
 */
async function byPrimaryKey(tx: TransactionSql): Promise<void> {
  await tx`set local enable_seqscan = off`;
}

/** How many recipients of the range are still unsettled while the mailing is sending. */
export async function countUnsettled(sql: Sql, mailing: MailingRecord, fromSeq: number, toSeq: number): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from mailing_recipient r join mailing m on m.id = r.mailing_id
     where r.mailing_id = ${mailing.id} and m.status = 'sending' and r.seq between ${fromSeq} and ${toSeq}
       and r.status in ('pending', 'sending')`;
  return row!.n;
}

const INTERRUPTED_DELIVERY = 'the delivery was interrupted after the message was handed to the channel; it may have arrived';

/**
 * Recipients still being sent when the mailing ends may hold their message: they become
 * `unknown`, with every code reserved for them issued to them.
 */
async function settleInterrupted(tx: TransactionSql, mailing: MailingRecord): Promise<void> {
  const interrupted = await tx<{ seq: string; customerId: string }[]>`
    update mailing_recipient set status = 'unknown', error = ${INTERRUPTED_DELIVERY}
     where mailing_id = ${mailing.id} and status = 'sending'
    returning seq, customer_id`;
  if (interrupted.length === 0) return;
  const customerOf = new Map(interrupted.map((row) => [row.seq, row.customerId]));
  const codes = await tx<{ codeId: string; seq: string }[]>`
    update mailing_code set state = 'issued'
     where mailing_id = ${mailing.id} and seq = any(${[...customerOf.keys()]}::bigint[]) and kind = 'initial' and state = 'reserved'
    returning code_id, seq`;
  await settleCodes(tx, mailing, codes.map((row) => ({ codeId: row.codeId, customerId: customerOf.get(row.seq)! })));
}

/**
 * Returns to active every code the mailing still reserves (its pending recipients' codes). The
 * list comes from the statement's own update of mailing_code, which the planner cannot count:
 * each code is checked by a lookup of its own (lockedMatches), not by stillBlocked.
 */
async function releaseReserved(tx: TransactionSql, mailing: MailingRecord): Promise<void> {
  await tx`
    with released as (
      update mailing_code set state = 'released' where mailing_id = ${mailing.id} and state = 'reserved'
      returning code_id
    ), held as (${lockedMatches(tx, tx`table released`, tx`promo_code c where c.id = l.code_id and c.status = 'blocked' and c.mailing_id = ${mailing.id}`)})
    update promo_code c set status = 'active', mailing_id = null from held where c.id = held.code_id`;
}

/**
 * For an UPDATE of promo_code `c` joined to a list of codes by primary key: the code is still
 * blocked for the mailing. When another transaction changed the row meanwhile, the UPDATE checks
 * it again on the newest version, so no lock is taken first. Written as `(…) is true` so that the
 * planner cannot answer it from an index: planned on statistics from before the reservation, which
 * say no code is blocked, the (group, status) index looked like one row, and every blocked code
 * was read for each batch (test/integration/query-plans.test.ts).
 */
function stillBlocked(tx: TransactionSql, mailing: MailingRecord) {
  return tx`(c.status = 'blocked' and c.mailing_id = ${mailing.id}) is true`;
}

/**
 * Ends a mailing by its recipients' states: those being sent keep their codes (unknown), those
 * never attempted give theirs back, then the final status. An ended mailing stays as it is.
 */
export async function finishMailing(
  sql: Sql,
  publicId: string,
  status: Extract<MailingStatus, 'completed' | 'failed' | 'cancelled'>,
  error?: MailingRefusal | { code: string; detail: string },
): Promise<void> {
  await sql.begin(async (tx) => {
    await byPrimaryKey(tx);
    const mailing = await getMailingRecord(tx, publicId, true);
    await settleInterrupted(tx, mailing);
    await releaseReserved(tx, mailing);
    await tx`
      update mailing set status = ${status}, finished_at = now(),
             error_code = ${error?.code ?? null}, error_detail = ${error?.detail ?? null}
       where id = ${mailing.id} and status in ('draft', 'reserving', 'sending')`;
  });
}

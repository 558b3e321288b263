import { checkTemplate, groupKey } from '../domain/template.js';
import type { Sql, TransactionSql } from './client.js';
import type { Attributes } from './customers.js';
import { lockGroup } from './groups.js';
import { getMailingRecord, type MailingRecord, type MailingStatus } from './mailings.js';

export interface MailingGroup {
  /** as the template names it */
  name: string;
  id: string;
  kind: 'initial' | 'repeat';
}

export interface MailingRefusal {
  code: 'unknown_group' | 'insufficient_codes' | 'invalid_template';
  detail: string;
}

export type Reservation = { ok: true; lastSeq: number } | { ok: false; error: MailingRefusal };

class Refused extends Error {
  constructor(readonly refusal: MailingRefusal) {
    super(refusal.detail);
  }
}

/**
 * Blocks, in one transaction, one active code per recipient in every group the template
 * names with promocode(...), and records which recipient gets which. All or nothing: a
 * missing group or a group short of codes leaves nothing blocked and fails the mailing.
 * Repeated after success, it reserves nothing more.
 */
export async function reserveMailingCodes(sql: Sql, publicId: string): Promise<Reservation> {
  try {
    return await sql.begin(async (tx) => {
      const mailing = await getMailingRecord(tx, publicId, true);
      if (mailing.status !== 'reserving') return { ok: true, lastSeq: await lastSeq(tx, mailing) };
      const groups = await resolveGroups(tx, mailing);
      const recipients = await recipientCount(tx, mailing);
      for (const group of groups.filter((g) => g.kind === 'initial').sort((a, b) => Number(a.id) - Number(b.id))) {
        await reserveGroup(tx, mailing, group, recipients);
      }
      await tx`update mailing set status = 'sending', groups = ${tx.json(groups as never)} where id = ${mailing.id}`;
      // a large mailing has just added most of these tables' rows: plan its batches on fresh statistics
      await tx`analyze mailing_recipient, mailing_code`;
      return { ok: true, lastSeq: await lastSeq(tx, mailing) };
    });
  } catch (error) {
    if (!(error instanceof Refused)) throw error;
    await finishMailing(sql, publicId, 'failed', error.refusal);
    return { ok: false, error: error.refusal };
  }
}

async function resolveGroups(tx: TransactionSql, mailing: MailingRecord): Promise<MailingGroup[]> {
  const check = checkTemplate(mailing.template);
  if (!check.valid) {
    const { field, line, column, message } = check.error;
    throw new Refused({ code: 'invalid_template', detail: `${field}, line ${line}, column ${column}: ${message}` });
  }
  const named = [
    ...check.groups.initial.map((name) => ({ name, kind: 'initial' as const })),
    ...check.groups.repeat.map((name) => ({ name, kind: 'repeat' as const })),
  ];
  const rows = await tx<{ id: string; key: string }[]>`
    select id, lower(btrim(name)) as key from promo_group
     where deleted_at is null and lower(btrim(name)) = any(${named.map((g) => groupKey(g.name))}::text[])`;
  const ids = new Map(rows.map((row) => [row.key, row.id]));
  const unknown = [...new Set(named.filter((g) => !ids.has(groupKey(g.name))).map((g) => g.name))];
  if (unknown.length > 0) {
    throw new Refused({ code: 'unknown_group', detail: `No group is named ${unknown.map((n) => `"${n}"`).join(', ')}.` });
  }
  return named.map((g) => ({ ...g, id: ids.get(groupKey(g.name))! }));
}

async function reserveGroup(tx: TransactionSql, mailing: MailingRecord, group: MailingGroup, needed: number): Promise<void> {
  // the group lock orders concurrent reservations: one of two mailings that do not both fit gets all it needs
  const { active } = await lockGroup(tx, group.id, 'no key update');
  if (active < needed) {
    throw new Refused({
      code: 'insufficient_codes',
      detail: `Group "${group.name}" has ${active} active codes; the mailing needs ${needed}.`,
    });
  }
  await tx`
    with picked as (
      select id, row_number() over (order by id) as rn
        from (select id from promo_code where group_id = ${group.id} and status = 'active'
               order by id limit ${needed} for update skip locked) as p
    ), recipients as (
      select seq, row_number() over (order by seq) as rn from mailing_recipient where mailing_id = ${mailing.id}
    ), blocked as (
      update promo_code c set status = 'blocked', mailing_id = ${mailing.id} from picked where c.id = picked.id
    )
    insert into mailing_code (mailing_id, seq, group_id, kind, code_id)
    select ${mailing.id}, r.seq, ${group.id}, 'initial', p.id from picked p join recipients r using (rn)`;
}

async function recipientCount(tx: TransactionSql, mailing: MailingRecord): Promise<number> {
  const [row] = await tx<{ n: number }[]>`select count(*)::int as n from mailing_recipient where mailing_id = ${mailing.id}`;
  return row!.n;
}

async function lastSeq(tx: TransactionSql, mailing: MailingRecord): Promise<number> {
  const [row] = await tx<{ seq: string }[]>`select coalesce(max(seq), 0) as seq from mailing_recipient where mailing_id = ${mailing.id}`;
  return Number(row!.seq);
}

export interface HeldCode {
  groupId: string;
  codeId: string;
  code: string;
}

export interface PendingRecipient {
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
  recipients: PendingRecipient[];
}

/** The recipients of seq range [fromSeq, toSeq] still pending, with their codes. */
export async function loadPendingRecipients(sql: Sql, publicId: string, fromSeq: number, toSeq: number): Promise<SendContext> {
  const mailing = (await getMailingRecord(sql, publicId)) as SendContext['mailing'];
  const rows = await sql<(Omit<PendingRecipient, 'seq' | 'reserved' | 'last'> & { seq: string })[]>`
    select r.seq, r.customer_id, r.email, r.phone, c.attributes
      from mailing_recipient r join customer c on c.id = r.customer_id
     where r.mailing_id = ${mailing.id} and r.seq between ${fromSeq} and ${toSeq} and r.status = 'pending'
     order by r.seq`;
  if (rows.length === 0 || mailing.status !== 'sending') return { mailing, recipients: [] };
  const reserved = await sql<(Omit<HeldCode, 'code'> & { seq: string })[]>`
    select seq, group_id, code_id from mailing_code
     where mailing_id = ${mailing.id} and seq between ${fromSeq} and ${toSeq} and kind = 'initial' and state = 'reserved'`;
  // by primary key, rather than a join the planner may turn into a scan of every code
  const codeRows = await sql<{ id: string; code: string }[]>`
    select id, code from promo_code where id = any(${reserved.map((r) => r.codeId)}::bigint[])`;
  const codeText = new Map(codeRows.map((row) => [row.id, row.code]));
  const repeatGroups = mailing.groups.filter((g) => g.kind === 'repeat').map((g) => g.id);
  const last = repeatGroups.length === 0 ? [] : await sql<(HeldCode & { customerId: string })[]>`
    select distinct on (i.customer_id, i.group_id) i.customer_id, i.group_id, i.code_id, c.code
      from code_issuance i join promo_code c on c.id = i.code_id
     where i.customer_id = any(${rows.map((r) => r.customerId)}::text[]) and i.group_id = any(${repeatGroups}::bigint[])
     order by i.customer_id, i.group_id, i.issued_at desc, i.id desc`;
  const reservedBySeq = groupBy(reserved.map((r) => ({ ...r, code: codeText.get(r.codeId)! })), (code) => code.seq);
  const lastByCustomer = groupBy(last, (code) => code.customerId);
  return {
    mailing,
    recipients: rows.map((row) => ({
      ...row,
      seq: Number(row.seq),
      reserved: reservedBySeq.get(row.seq) ?? [],
      last: lastByCustomer.get(row.customerId) ?? [],
    })),
  };
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}

export interface Delivery {
  seq: number;
  customerId: string;
  delivered: boolean;
  error?: string | undefined;
  /** reserved codes the message carried: issued when delivered */
  used: string[];
  /** repeat codes the message carried */
  repeated: HeldCode[];
}

/**
 * Records a batch's deliveries in one transaction: codes of delivered messages become issued
 * to their customer (history rows, initial or repeat); codes of failed messages and reserved
 * codes a message did not use return to active. Only recipients still pending count, and a
 * code changes only from `blocked` by this mailing, so a repeated commit changes nothing.
 */
export async function recordDeliveries(sql: Sql, mailing: MailingRecord, deliveries: readonly Delivery[]): Promise<void> {
  if (deliveries.length === 0) return;
  await sql.begin(async (tx) => {
    const settled = await settleRecipients(tx, mailing, deliveries);
    const fresh = deliveries.filter((d) => settled.has(d.seq));
    const delivered = fresh.filter((d) => d.delivered);
    const customerOf = new Map(fresh.map((d) => [d.seq, d.customerId]));
    const used = new Set(delivered.flatMap((d) => d.used));
    // rows are found by `seq = any(...)` on the primary key: estimates for fresh bulk rows are unreliable
    const reserved = await tx<{ codeId: string; seq: string; state: 'issued' | 'released' }[]>`
      update mailing_code set state = case when code_id = any(${[...used]}::bigint[]) then 'issued' else 'released' end::mailing_code_state
       where mailing_id = ${mailing.id} and seq = any(${[...settled]}::bigint[]) and kind = 'initial' and state = 'reserved'
      returning code_id, seq, state`;
    const repeats = delivered.flatMap((d) => d.repeated.map((code) => ({ ...code, seq: d.seq, customerId: d.customerId })));
    if (repeats.length > 0) {
      await tx`
        with t as (
          select * from unnest(${repeats.map((r) => r.seq)}::bigint[], ${repeats.map((r) => r.customerId)}::text[],
                               ${repeats.map((r) => r.groupId)}::bigint[], ${repeats.map((r) => r.codeId)}::bigint[])
                   as t (seq, customer_id, group_id, code_id)
        ), recorded as (
          insert into mailing_code (mailing_id, seq, group_id, kind, code_id, state)
          select ${mailing.id}, seq, group_id, 'repeat', code_id, 'issued' from t
        )
        insert into code_issuance (customer_id, group_id, code_id, kind, mailing_id)
        select customer_id, group_id, code_id, 'repeat', ${mailing.id} from t`;
    }
    // last, so that the group row the counters live on stays locked only until the commit
    await settleCodes(tx, mailing, reserved.map((row) => ({
      codeId: row.codeId,
      customerId: row.state === 'issued' ? customerOf.get(Number(row.seq))! : null,
    })));
  });
}

async function settleRecipients(tx: TransactionSql, mailing: MailingRecord, deliveries: readonly Delivery[]): Promise<Set<number>> {
  const failed = deliveries.filter((d) => !d.delivered);
  const sent = await tx<{ seq: string }[]>`
    update mailing_recipient set status = 'sent'
     where mailing_id = ${mailing.id} and seq = any(${deliveries.filter((d) => d.delivered).map((d) => d.seq)}::bigint[])
       and status = 'pending'
    returning seq`;
  const notSent = failed.length === 0 ? [] : await tx<{ seq: string }[]>`
    update mailing_recipient r set status = 'failed', error = t.error
      from unnest(${failed.map((d) => d.seq)}::bigint[], ${failed.map((d) => d.error ?? 'not delivered')}::text[]) as t (seq, error)
     where r.mailing_id = ${mailing.id} and r.seq = any(${failed.map((d) => d.seq)}::bigint[]) and r.seq = t.seq
       and r.status = 'pending'
    returning r.seq`;
  return new Set([...sent, ...notSent].map((row) => Number(row.seq)));
}

/** Blocked codes of this mailing become issued to a customer (with an initial history row) or active again, in one statement. */
async function settleCodes(tx: TransactionSql, mailing: MailingRecord, codes: readonly { codeId: string; customerId: string | null }[]): Promise<void> {
  if (codes.length === 0) return;
  const ids = codes.map((c) => c.codeId);
  await tx`
    with settled as (
      update promo_code c
         set status = case when t.customer_id is null then 'active' else 'issued' end::code_status,
             customer_id = t.customer_id,
             issued_at = case when t.customer_id is null then null else now() end,
             mailing_id = case when t.customer_id is null then null else c.mailing_id end
        from unnest(${ids}::bigint[], ${codes.map((c) => c.customerId) as string[]}::text[]) as t (code_id, customer_id)
       where c.id = any(${ids}::bigint[]) and c.id = t.code_id and c.status = 'blocked' and c.mailing_id = ${mailing.id}
      returning c.id, c.group_id, c.customer_id, c.status
    )
    insert into code_issuance (customer_id, group_id, code_id, kind, mailing_id)
    select customer_id, group_id, id, 'initial', ${mailing.id} from settled where status = 'issued'`;
}

/** Returns to active every code the mailing still reserves. */
async function releaseReserved(tx: TransactionSql, mailing: MailingRecord): Promise<void> {
  await tx`
    with released as (
      update mailing_code set state = 'released' where mailing_id = ${mailing.id} and state = 'reserved'
      returning code_id
    )
    update promo_code c set status = 'active', mailing_id = null
      from released where c.id = released.code_id and c.status = 'blocked' and c.mailing_id = ${mailing.id}`;
}

/** Ends a mailing: whatever it still blocks returns to active, then its final status. An ended mailing stays as it is. */
export async function finishMailing(
  sql: Sql,
  publicId: string,
  status: Extract<MailingStatus, 'completed' | 'failed' | 'cancelled'>,
  error?: MailingRefusal | { code: string; detail: string },
): Promise<void> {
  await sql.begin(async (tx) => {
    const mailing = await getMailingRecord(tx, publicId, true);
    await releaseReserved(tx, mailing);
    await tx`
      update mailing set status = ${status}, finished_at = now(),
             error_code = ${error?.code ?? null}, error_detail = ${error?.detail ?? null}
       where id = ${mailing.id} and status in ('draft', 'reserving', 'sending')`;
  });
}

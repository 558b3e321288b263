import { checkTemplate, groupKey } from '../domain/template.js';
import type { Sql, TransactionSql } from './client.js';
import { lockGroup } from './groups.js';
import { resolveAudience } from './mailing-audience.js';
import { finishMailing } from './mailing-delivery.js';
import { getMailingRecord, type MailingGroup, type MailingRecord, type MailingRefusal } from './mailings.js';

export type Reservation = { ok: true; lastSeq: number } | { ok: false; error: MailingRefusal };

class Refused extends Error {
  constructor(readonly refusal: MailingRefusal) {
    super(refusal.detail);
  }
}

/**
 * Takes the audience's customers as recipients (a mailing with an audience), then blocks, in
 * one transaction, one active code per recipient in every group the template names with
 * promocode(...), and records which recipient gets which. All or nothing: a missing group or a
 * group short of codes leaves nothing blocked and fails the mailing. Repeated after success,
 * it reserves nothing more.
 */
export async function reserveMailingCodes(sql: Sql, publicId: string): Promise<Reservation> {
  try {
    const refusal = await resolveAudience(sql, publicId);
    if (refusal) throw new Refused(refusal);
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
  const rows = await tx<{ id: string; key: string; name: string; expired: boolean }[]>`
    select id, name_key as key, name, coalesce(expires_at <= now(), false) as expired from promo_group
     where deleted_at is null and name_key = any(${named.map((g) => groupKey(g.name))}::text[])`;
  const ids = new Map(rows.map((row) => [row.key, row.id]));
  const unknown = [...new Set(named.filter((g) => !ids.has(groupKey(g.name))).map((g) => g.name))];
  if (unknown.length > 0) {
    throw new Refused({ code: 'unknown_group', detail: `No group is named ${unknown.map((n) => `"${n}"`).join(', ')}.` });
  }
  const expired = rows.filter((row) => row.expired).map((row) => `"${row.name}"`);
  if (expired.length > 0) {
    throw new Refused({ code: 'group_expired', detail: `Group ${expired.join(', ')} has expired: its codes are no longer issued.` });
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
  // a direct issue does not wait for the group lock: a code it holds is skipped, so count what was blocked
  const [{ blocked } = { blocked: 0 }] = await tx<{ blocked: number }[]>`
    with picked as (
      select id, row_number() over (order by id) as rn
        from (select id from promo_code where group_id = ${group.id} and status = 'active'
               order by id limit ${needed} for update skip locked) as p
    ), recipients as (
      select seq, row_number() over (order by seq) as rn from mailing_recipient where mailing_id = ${mailing.id}
    ), blocked as (
      -- by primary key: joined as a table, the picked codes were hashed and the whole code table read to find them
      update promo_code set status = 'blocked', mailing_id = ${mailing.id} where id = any(array(select id from picked))
    )
    , reserved as (
      insert into mailing_code (mailing_id, seq, group_id, kind, code_id)
      select ${mailing.id}, r.seq, ${group.id}, 'initial', p.id from picked p join recipients r using (rn)
      returning 1)
    select count(*)::int as blocked from reserved`;
  if (blocked < needed) {
    throw new Refused({ code: 'insufficient_codes', detail: `Group "${group.name}" has ${blocked} active codes free; the mailing needs ${needed}.` });
  }
}

async function recipientCount(tx: TransactionSql, mailing: MailingRecord): Promise<number> {
  const [row] = await tx<{ n: number }[]>`select coalesce(sum(recipients), 0)::int as n from mailing_counter where mailing_id = ${mailing.id}`;
  return row!.n;
}

async function lastSeq(tx: TransactionSql, mailing: MailingRecord): Promise<number> {
  const [row] = await tx<{ seq: string }[]>`select coalesce(max(seq), 0) as seq from mailing_recipient where mailing_id = ${mailing.id}`;
  return Number(row!.seq);
}

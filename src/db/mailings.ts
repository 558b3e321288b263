import type postgres from 'postgres';
import { z } from 'zod';
import { ConflictError, NotFoundError } from '../domain/errors.js';
import { decodeCursor, DEFAULT_PAGE_SIZE, type Page, toPage } from '../domain/pagination.js';
import type { SegmentFilter } from '../domain/segment.js';
import type { TemplateSource } from '../domain/template.js';
import { mailingWorkflowId } from '../client/contract.js';
import type { Sql, TransactionSql } from './client.js';
import { copyField, copyFrom, copyLines, copyNullable } from './copy.js';
import { type Attributes, mergeCustomers } from './customers.js';

export type ChannelConfig = { type: 'log' } | { type: 'webhook'; url: string } | { type: 'smtp'; from: string };
export type MailingStatus = 'draft' | 'reserving' | 'sending' | 'completed' | 'failed' | 'cancelled';
export type RecipientStatus = 'pending' | 'sending' | 'sent' | 'failed' | 'unknown';

export interface MailingGroup {
  /** as the template names it */
  name: string;
  id: string;
  kind: 'initial' | 'repeat';
}

export interface MailingRefusal {
  code: 'unknown_group' | 'group_expired' | 'insufficient_codes' | 'invalid_template';
  detail: string;
}

export interface NewRecipient {
  customerId: string;
  email?: string | undefined;
  phone?: string | undefined;
  attributes?: Attributes | undefined;
}

/** Recipients named by a segment filter: the customers matching it when the mailing starts. */
export interface Audience {
  segment: SegmentFilter;
}

export interface MailingRecord {
  id: string;
  publicId: string;
  name: string;
  channel: ChannelConfig;
  template: TemplateSource;
  audience: Audience | null;
  /** when the audience's customers became the recipients */
  audienceResolvedAt: Date | null;
  status: MailingStatus;
  errorCode: string | null;
  errorDetail: string | null;
  workflowId: string;
  createdAt: Date;
  finishedAt: Date | null;
}

/** What the API answers. */
export interface Mailing {
  id: string;
  name: string;
  status: MailingStatus;
  /** as sent; absent when the recipients were given */
  audience?: Audience;
  recipients: number;
  sent: number;
  failed: number;
  /** delivery outcome unknown: the message may have arrived, so its codes count as issued */
  unknown: number;
  /** not settled yet, being sent included */
  pending: number;
  codes: { group: string; reserved: number; issued: number; released: number }[];
  error?: { code: string; detail: string };
  workflowId: string;
  createdAt: string;
  finishedAt: string | null;
}

export const ACTIVE_MAILING_STATUSES: readonly MailingStatus[] = ['reserving', 'sending'];

export async function findMailing(sql: Sql | TransactionSql, publicId: string, lock = false): Promise<MailingRecord | undefined> {
  const [row] = await sql<MailingRecord[]>`select * from mailing where public_id = ${publicId} ${lock ? sql`for update` : sql``}`;
  return row;
}

export async function getMailingRecord(sql: Sql | TransactionSql, publicId: string, lock = false): Promise<MailingRecord> {
  const mailing = await findMailing(sql, publicId, lock);
  if (!mailing) throw new NotFoundError(`There is no mailing with id ${publicId}.`);
  return mailing;
}

/**
 * Records a mailing with its recipients in one transaction. An id seen before answers the
 * mailing recorded then, and records nothing.
 */
export async function createMailing(
  sql: Sql,
  request: {
    publicId: string;
    name: string;
    channel: ChannelConfig;
    template: TemplateSource;
    recipients?: NewRecipient[] | undefined;
    audience?: Audience | undefined;
  },
): Promise<{ mailing: MailingRecord; created: boolean }> {
  return sql.begin(async (tx) => {
    const [row] = await tx<MailingRecord[]>`
      insert into mailing (public_id, name, channel, template, audience, workflow_id, status)
      values (${request.publicId}, ${request.name}, ${tx.json(request.channel)}, ${tx.json(request.template as never)},
              ${request.audience ? tx.json(request.audience as never) : null},
              ${mailingWorkflowId(request.publicId)}, ${request.recipients || request.audience ? 'reserving' : 'draft'})
      on conflict (public_id) do nothing
      returning *`;
    if (!row) return { mailing: await getMailingRecord(tx, request.publicId), created: false };
    if (request.recipients) await addRecipients(tx, row, request.recipients);
    return { mailing: row, created: true };
  });
}

/**
 * Adds recipients to a mailing (its row locked by the caller); a customer already on it counts
 * as a duplicate. Each becomes a known customer, keeping the email and phone given (what a
 * segment audience sends to later).
 */
export async function addRecipients(tx: TransactionSql, mailing: MailingRecord, given: readonly NewRecipient[]): Promise<{ added: number; duplicates: number }> {
  const firstOfEach = new Map<string, NewRecipient>();
  for (const recipient of given) if (!firstOfEach.has(recipient.customerId)) firstOfEach.set(recipient.customerId, recipient);
  const recipients = [...firstOfEach.values()];
  if (recipients.length === 0) return { added: 0, duplicates: 0 };
  await mergeCustomers(tx, recipients.map(({ customerId, attributes, email, phone }) => ({ id: customerId, attributes, email, phone })));
  const [last] = await tx<{ seq: string }[]>`select coalesce(max(seq), 0) as seq from mailing_recipient where mailing_id = ${mailing.id}`;
  // the first recipients of a mailing (its row is locked) meet none, so they need no check for a
  // conflict: COPY, which also fills a page at a time (100,000 recipients, createMailing 1.40–1.96 s
  // with `insert … select`, 1.23–1.64 s with COPY; `on conflict do nothing` cost a third more still)
  if (last!.seq === '0') {
    const line = (r: NewRecipient, i: number) => `${mailing.id}\t${i + 1}\t${copyField(r.customerId)}\t${copyNullable(r.email)}\t${copyNullable(r.phone)}\n`;
    await copyFrom(tx`copy mailing_recipient (mailing_id, seq, customer_id, email, phone) from stdin`, copyLines(recipients, line));
    return { added: recipients.length, duplicates: given.length - recipients.length };
  }
  const result = await tx`
    insert into mailing_recipient (mailing_id, seq, customer_id, email, phone)
    select ${mailing.id}, ${last!.seq}::bigint + ord, customer_id, email, phone
      from unnest(${recipients.map((r) => r.customerId)}::text[],
                  ${recipients.map((r) => r.email ?? null) as string[]}::text[],
                  ${recipients.map((r) => r.phone ?? null) as string[]}::text[]) with ordinality as t (customer_id, email, phone, ord)
    on conflict (mailing_id, customer_id) do nothing`;
  return { added: result.count, duplicates: given.length - result.count };
}

/** Locks a draft mailing for changes; any other state refuses. */
export async function lockDraft(tx: TransactionSql, publicId: string): Promise<MailingRecord> {
  const mailing = await getMailingRecord(tx, publicId, true);
  if (mailing.status !== 'draft') throw new ConflictError(`Mailing ${publicId} is ${mailing.status}; recipients can only be added to a draft.`);
  return mailing;
}

/** draft → reserving; true when this call moved it (a repeated start moves nothing). */
export async function markStarted(sql: Sql, publicId: string): Promise<boolean> {
  const result = await sql`update mailing set status = 'reserving' where public_id = ${publicId} and status = 'draft'`;
  return result.count === 1;
}

/** Ends a mailing that never started sending. */
export async function cancelDraft(sql: Sql, publicId: string): Promise<boolean> {
  const result = await sql`update mailing set status = 'cancelled', finished_at = now() where public_id = ${publicId} and status = 'draft'`;
  return result.count === 1;
}

export async function getMailing(sql: Sql, publicId: string): Promise<Mailing> {
  const [row] = await mailingSummaries(sql, sql`m.public_id = ${publicId}`, 1);
  if (!row) throw new NotFoundError(`There is no mailing with id ${publicId}.`);
  return toMailing(row);
}

/** Every mailing with its counters, newest first. */
export async function listMailings(sql: Sql, options: { limit?: number | undefined; cursor?: string | undefined }): Promise<Page<Mailing>> {
  const limit = options.limit ?? DEFAULT_PAGE_SIZE;
  const beforeId = decodeCursor(options.cursor, z.string().regex(/^\d+$/));
  const rows = await mailingSummaries(sql, beforeId ? sql`m.id < ${beforeId}` : sql`true`, limit + 1);
  return toPage(rows, limit, toMailing, (row) => row.id);
}

type MailingSummaryRow = MailingRecord & Pick<Mailing, 'recipients' | 'sent' | 'failed' | 'unknown' | 'pending' | 'codes'>;

/** Mailings matching `condition`, newest first, with their counters (slot rows kept as they go, migration 015, summed here). */
function mailingSummaries(sql: Sql, condition: postgres.Fragment, limit: number) {
  return sql<MailingSummaryRow[]>`
    select m.*, r.recipients, r.sent, r.failed, r.unknown, r.pending, k.codes
      from mailing m
      cross join lateral (
        select coalesce(sum(recipients), 0)::int as recipients, coalesce(sum(sent), 0)::int as sent,
               coalesce(sum(failed), 0)::int as failed, coalesce(sum(unknown), 0)::int as unknown,
               coalesce(sum(pending), 0)::int as pending
          from mailing_counter where mailing_id = m.id) r
      cross join lateral (
        select coalesce(json_agg(x order by x.group), '[]') as codes
          from (select g.name as group, sum(mc.reserved)::int as reserved, sum(mc.issued)::int as issued, sum(mc.released)::int as released
                  from mailing_code_counter mc join promo_group g on g.id = mc.group_id
                 where mc.mailing_id = m.id
                 group by g.id, g.name
                having sum(mc.reserved) > 0) x) k
     where ${condition}
     order by m.id desc limit ${limit}`;
}

function toMailing(row: MailingSummaryRow): Mailing {
  return {
    id: row.publicId,
    name: row.name,
    status: row.status,
    ...(row.audience !== null && { audience: row.audience }),
    recipients: row.recipients,
    sent: row.sent,
    failed: row.failed,
    unknown: row.unknown,
    pending: row.pending,
    codes: row.codes,
    ...(row.errorCode !== null && { error: { code: row.errorCode, detail: row.errorDetail ?? '' } }),
    workflowId: row.workflowId,
    createdAt: row.createdAt.toISOString(),
    finishedAt: row.finishedAt?.toISOString() ?? null,
  };
}

export interface RecipientOutcome {
  customerId: string;
  status: RecipientStatus;
  error?: string;
  codes: { group: string; code: string; kind: 'initial' | 'repeat' }[];
}

/** Recipients in arrival order with the codes they hold: reserved while pending, issued once sent. */
export async function listRecipients(
  sql: Sql,
  publicId: string,
  options: { status?: RecipientStatus | undefined; limit?: number | undefined; cursor?: string | undefined },
): Promise<Page<RecipientOutcome>> {
  const mailing = await getMailingRecord(sql, publicId);
  const limit = options.limit ?? DEFAULT_PAGE_SIZE;
  const afterSeq = decodeCursor(options.cursor, z.string().regex(/^\d+$/));
  const rows = await sql<{ seq: string; customerId: string; status: RecipientStatus; error: string | null; codes: RecipientOutcome['codes'] }[]>`
    select r.seq, r.customer_id, r.status, r.error,
           coalesce((select json_agg(json_build_object('group', g.name, 'code', c.code, 'kind', mc.kind) order by mc.kind, g.name)
                       from mailing_code mc
                       join promo_code c on c.id = mc.code_id
                       join promo_group g on g.id = mc.group_id
                      where mc.mailing_id = r.mailing_id and mc.seq = r.seq and mc.state <> 'released'), '[]') as codes
      from mailing_recipient r
     where r.mailing_id = ${mailing.id}
       ${options.status ? sql`and r.status = ${options.status}` : sql``}
       ${afterSeq ? sql`and r.seq > ${afterSeq}` : sql``}
     order by r.seq limit ${limit + 1}`;
  return toPage(
    rows,
    limit,
    ({ customerId, status, error, codes }) => ({ customerId, status, ...(error !== null && { error }), codes }),
    (row) => row.seq,
  );
}

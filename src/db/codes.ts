import { z } from 'zod';
import type { InvalidLine, SortedLines } from '../domain/code.js';
import { decodeCursor, DEFAULT_PAGE_SIZE, type Page, toPage } from '../domain/pagination.js';
import type { Sql, TransactionSql } from './client.js';
import { copyField, copyFrom, copyLines } from './copy.js';
import { isUniqueViolation } from './errors.js';
import { getGroup, lockGroup } from './groups.js';

export const CODE_STATUSES = ['active', 'blocked', 'issued', 'redeemed', 'expired'] as const;
export type CodeStatus = (typeof CODE_STATUSES)[number];

export interface CodeListItem {
  code: string;
  status: CodeStatus;
  customerId?: string;
  issuedAt?: string;
}

interface CodeRow {
  id: string;
  code: string;
  status: CodeStatus;
  customerId: string | null;
  issuedAt: Date | null;
}

/**
 * Adds the given distinct, valid codes to a group in one transaction and returns how many
 * were new; codes stored anywhere already are skipped.
 */
export async function addCodes(sql: Sql, groupId: string, codes: readonly string[]): Promise<number> {
  return sql.begin(async (tx) => {
    await lockGroup(tx, groupId, 'no key update');
    const result = await tx`
      insert into promo_code (group_id, code)
      select ${groupId}, code from unnest(${codes as string[]}::text[]) as code
      on conflict (code) do nothing`;
    return result.count;
  });
}

/** What a paste did: `duplicates` counts repeats inside it and codes stored anywhere already. */
export interface UploadReport {
  added: number;
  duplicates: number;
  invalid: InvalidLine[];
}

/** Adds the valid codes of a sorted paste to a group. */
export async function addPaste(sql: Sql, groupId: string, paste: SortedLines): Promise<UploadReport> {
  const added = await addCodes(sql, groupId, paste.codes);
  return { added, duplicates: paste.repeats + paste.codes.length - added, invalid: paste.invalid };
}

/** The group new codes go to, and the job that adds them. */
export interface CodeOwner {
  groupId: string;
  jobId: string;
}

const CODE_KEY = 'promo_code_code_key';

/**
 * Adds those of the distinct `codes` that are stored nowhere and returns how many, in the code
 * index's order (ASCII codes: JavaScript's order is the "C" collation's), so that the index is
 * written page by page (bench -- generate about 10 % faster than in random order). With `copy`,
 * first as one COPY, which fails as a whole on the first code stored already: then, from a
 * savepoint, the way that skips stored codes one by one.
 */
export async function insertNewCodes(tx: TransactionSql, owner: CodeOwner, codes: readonly string[], copy: boolean): Promise<number> {
  if (codes.length === 0) return 0;
  const sorted = [...codes].sort();
  const line = (code: string) => `${owner.groupId}\t${copyField(code)}\t${owner.jobId}\n`;
  const copied = copy && (await unlessStored(tx, (sp) => copyFrom(sp`copy promo_code (group_id, code, job_id) from stdin`, copyLines(sorted, line)).then(() => true as const)));
  if (copied) return codes.length;
  const result = await tx`
    insert into promo_code (group_id, code, job_id)
    select ${owner.groupId}, code, ${owner.jobId} from unnest(${sorted}::text[]) as code
    on conflict (code) do nothing`;
  return result.count;
}

/**
 * Runs `insert`, which adds codes without checking for stored ones, from a savepoint and answers
 * its result; false when one of its codes is stored already, which fails it as a whole (nothing
 * added). Adding without the check is the fast way for codes that are almost always new.
 */
export async function unlessStored<T extends object | true>(tx: TransactionSql, insert: (sp: TransactionSql) => Promise<T>): Promise<T | false> {
  try {
    return (await tx.savepoint(insert)) as T;
  } catch (error) {
    if (!isUniqueViolation(error, CODE_KEY)) throw error;
    return false;
  }
}

const codeCursor = z.tuple([z.enum(CODE_STATUSES), z.string().regex(/^\d+$/)]);

export async function listCodes(
  sql: Sql,
  groupId: string,
  options: { status?: CodeStatus | undefined; limit?: number | undefined; cursor?: string | undefined },
): Promise<Page<CodeListItem>> {
  const limit = options.limit ?? DEFAULT_PAGE_SIZE;
  const after = decodeCursor(options.cursor, codeCursor);
  await getGroup(sql, groupId);
  const rows = await sql<CodeRow[]>`
    select id, code, status, customer_id, issued_at from promo_code
     where group_id = ${groupId}
       ${options.status ? sql`and status = ${options.status}` : sql``}
       ${after ? sql`and (status, id) > (${after[0]}::code_status, ${after[1]}::bigint)` : sql``}
     order by status, id
     limit ${limit + 1}`;
  return toPage(rows, limit, toCodeListItem, (row) => [row.status, row.id]);
}

/**
 * Every code of a group (optionally of one status) in listing order, a chunk at a time. Each
 * chunk is a query of its own (keyset on (status, id)), so no connection is held while the
 * consumer (a slowly read CSV download) waits; a code that changes status meanwhile may be
 * listed under both statuses or under neither.
 */
export async function* allCodes(sql: Sql, groupId: string, status: CodeStatus | undefined): AsyncGenerator<CodeListItem[]> {
  await getGroup(sql, groupId);
  let after: [string, string] | undefined;
  for (;;) {
    const rows = await sql<(CodeRow & { id: string })[]>`
      select id, code, status, customer_id, issued_at from promo_code
       where group_id = ${groupId} ${status ? sql`and status = ${status}` : sql``}
         ${after ? sql`and (status, id) > (${after[0]}::code_status, ${after[1]}::bigint)` : sql``}
       order by status, id
       limit ${EXPORT_CHUNK}`;
    if (rows.length > 0) yield rows.map(toCodeListItem);
    if (rows.length < EXPORT_CHUNK) return;
    const last = rows.at(-1)!;
    after = [last.status, last.id];
  }
}

const EXPORT_CHUNK = 5000;

function toCodeListItem(row: CodeRow): CodeListItem {
  return {
    code: row.code,
    status: row.status,
    ...(row.customerId !== null && { customerId: row.customerId }),
    ...(row.issuedAt !== null && { issuedAt: row.issuedAt.toISOString() }),
  };
}

import { z } from 'zod';
import { NotFoundError } from '../domain/errors.js';
import { decodeCursor, DEFAULT_PAGE_SIZE, type Page, toPage } from '../domain/pagination.js';
import type { Sql, TransactionSql } from './client.js';

export type Attributes = Record<string, unknown>;

export interface Customer {
  id: string;
  attributes: Attributes;
  email: string | null;
  phone: string | null;
  createdAt: string;
  updatedAt: string;
}

interface CustomerRow extends Omit<Customer, 'createdAt' | 'updatedAt'> {
  createdAt: Date;
  updatedAt: Date;
}

/** A customer as PUT gives it: attributes replace the stored ones; an email or phone given replaces its own, one left out stays. */
export interface CustomerChanges {
  attributes: Attributes;
  email?: string | undefined;
  phone?: string | undefined;
}

const toCustomer = (row: CustomerRow): Customer => ({
  ...row,
  createdAt: row.createdAt.toISOString(),
  updatedAt: row.updatedAt.toISOString(),
});

const COLUMNS = 'id, attributes, email, phone, created_at, updated_at';

/** Creates a customer, or replaces its attributes and the contacts given. */
export async function putCustomer(sql: Sql, id: string, changes: CustomerChanges): Promise<Customer> {
  const [row] = await sql<CustomerRow[]>`
    insert into customer (id, attributes, email, phone)
    values (${id}, ${sql.json(changes.attributes as never)}, ${changes.email ?? null}, ${changes.phone ?? null})
    on conflict (id) do update set attributes = excluded.attributes,
      email = coalesce(excluded.email, customer.email), phone = coalesce(excluded.phone, customer.phone), updated_at = now()
    returning ${sql.unsafe(COLUMNS)}`;
  return toCustomer(row!);
}

/** A known customer; any other id is a NotFoundError. */
export async function getCustomer(sql: Sql, id: string): Promise<Customer> {
  const [row] = await sql<CustomerRow[]>`select ${sql.unsafe(COLUMNS)} from customer where id = ${id}`;
  if (!row) throw new NotFoundError(`There is no customer with id ${id}.`);
  return toCustomer(row);
}

/** A customer as a mailing's recipient gives it: attributes merged over the stored ones; an email or phone given replaces its own. */
export interface CustomerUpdate {
  id: string;
  attributes?: Attributes | undefined;
  email?: string | undefined;
  phone?: string | undefined;
}

/**
 * Customers one merge statement takes. A jsonb document holds at most 256 MB, and a mailing's
 * POST may be larger than that (PROMO_MAX_BODY_BYTES has no ceiling).
 */
export const MERGE_CHUNK = 10_000;

/**
 * Makes every id a known customer, in the caller's transaction: given attributes are merged
 * over the stored ones, and an email or phone given replaces the stored one.
 * Rows are written (hence locked) in ascending id order, whatever order the caller gives them
 * in: two transactions merging overlapping lists (two mailings, a mailing and a direct issue)
 * then wait for one another instead of deadlocking. Each statement takes the next MERGE_CHUNK
 * ids, and `insert … select … from jsonb_array_elements(…) with ordinality order by` makes
 * PostgreSQL insert in that order (an insert takes its rows in the order its select yields
 * them). An id given twice keeps the later attributes merged over the earlier ones, and its
 * later email and phone (`on conflict do update` cannot touch one row twice in a statement). A
 * customer who would not change is locked but not rewritten: a mailing to customers known as
 * they are writes no new row versions.
 */
export async function mergeCustomers(tx: TransactionSql, customers: readonly CustomerUpdate[]): Promise<void> {
  if (customers.length === 0) return;
  const merged = new Map<string, Omit<CustomerUpdate, 'id'> & { attributes: Attributes }>();
  for (const { id, attributes, email, phone } of customers) {
    const before = merged.get(id);
    merged.set(id, before
      ? { attributes: { ...before.attributes, ...attributes }, email: email ?? before.email, phone: phone ?? before.phone }
      : { attributes: attributes ?? {}, email, phone });
  }
  // code-point order, the same for every caller and independent of any collation
  const ids = [...merged.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (let start = 0; start < ids.length; start += MERGE_CHUNK) {
    // one JSON document, serialised in one native call: as a text[] of JSON texts, the driver
    // escaped every quote of every element (0.5 s of the API's CPU per 100,000 recipients)
    const rows = ids.slice(start, start + MERGE_CHUNK).map((id) => {
      const { attributes, email, phone } = merged.get(id)!;
      return [id, attributes, email ?? null, phone ?? null];
    });
    await tx`
      insert into customer as c (id, attributes, email, phone)
      select r ->> 0, r -> 1, r ->> 2, r ->> 3
        from jsonb_array_elements(${tx.json(rows as never)}) with ordinality as t (r, n)
       order by n
      on conflict (id) do update
        set attributes = c.attributes || excluded.attributes, email = coalesce(excluded.email, c.email), phone = coalesce(excluded.phone, c.phone),
            updated_at = now()
        where (c.attributes || excluded.attributes, coalesce(excluded.email, c.email), coalesce(excluded.phone, c.phone))
              is distinct from (c.attributes, c.email, c.phone)`;
  }
}

export interface IssuedCode {
  code: string;
  groupId: string;
  groupName: string;
  kind: 'initial' | 'repeat';
  mailingId?: string;
  issuedAt: string;
  /** when the code was redeemed (it is redeemed now) */
  redeemedAt?: string;
}

const HISTORY_CURSOR = z.tuple([z.string().regex(/^-?\d+$/), z.string().regex(/^\d+$/)]);

/**
 * The codes issued to the customer, newest first, a page at a time: keyset on
 * (issued_at desc, id desc), the cursor holding issued_at in microseconds (exact).
 */
export async function customerPromocodes(sql: Sql, customerId: string, options: { limit?: number | undefined; cursor?: string | undefined } = {}): Promise<Page<IssuedCode>> {
  const limit = options.limit ?? DEFAULT_PAGE_SIZE;
  const after = decodeCursor(options.cursor, HISTORY_CURSOR);
  const [customer] = await sql`select 1 from customer where id = ${customerId}`;
  if (!customer) throw new NotFoundError(`There is no customer with id ${customerId}.`);
  const rows = await sql<{ id: string; at: string; code: string; groupId: string; groupName: string; kind: 'initial' | 'repeat'; mailingId: string | null; issuedAt: Date; redeemedAt: Date | null }[]>`
    select i.id, (extract(epoch from i.issued_at) * 1000000)::bigint::text as at,
           c.code, i.group_id, g.name as group_name, i.kind, m.public_id as mailing_id, i.issued_at, c.redeemed_at
      from code_issuance i
      join promo_code c on c.id = i.code_id
      join promo_group g on g.id = i.group_id
      left join mailing m on m.id = i.mailing_id
     where i.customer_id = ${customerId}
       ${after ? sql`and (i.issued_at, i.id) < (timestamptz 'epoch' + ${after[0]}::bigint * interval '1 microsecond', ${after[1]}::bigint)` : sql``}
     order by i.issued_at desc, i.id desc
     limit ${limit + 1}`;
  return toPage(
    rows,
    limit,
    ({ id: _id, at: _at, mailingId, issuedAt, redeemedAt, ...row }) => ({
      ...row,
      ...(mailingId !== null && { mailingId }),
      issuedAt: issuedAt.toISOString(),
      ...(redeemedAt !== null && { redeemedAt: redeemedAt.toISOString() }),
    }),
    (row) => [row.at, row.id],
  );
}

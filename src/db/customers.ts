import { NotFoundError } from '../domain/errors.js';
import type { Sql, TransactionSql } from './client.js';

export type Attributes = Record<string, unknown>;

export interface Customer {
  id: string;
  attributes: Attributes;
  createdAt: string;
  updatedAt: string;
}

interface CustomerRow {
  id: string;
  attributes: Attributes;
  createdAt: Date;
  updatedAt: Date;
}

const toCustomer = (row: CustomerRow): Customer => ({
  ...row,
  createdAt: row.createdAt.toISOString(),
  updatedAt: row.updatedAt.toISOString(),
});

/** Creates or replaces a customer's attributes. */
export async function putCustomer(sql: Sql, id: string, attributes: Attributes): Promise<Customer> {
  const [row] = await sql<CustomerRow[]>`
    insert into customer (id, attributes) values (${id}, ${sql.json(attributes as never)})
    on conflict (id) do update set attributes = excluded.attributes, updated_at = now()
    returning id, attributes, created_at, updated_at`;
  return toCustomer(row!);
}

/** A known customer; any other id is a NotFoundError. */
export async function getCustomer(sql: Sql, id: string): Promise<Customer> {
  const [row] = await sql<CustomerRow[]>`select id, attributes, created_at, updated_at from customer where id = ${id}`;
  if (!row) throw new NotFoundError(`There is no customer with id ${id}.`);
  return toCustomer(row);
}

/** Makes every id a known customer; given attributes are merged over the stored ones. */
export async function mergeCustomers(tx: TransactionSql | Sql, customers: readonly { id: string; attributes?: Attributes | undefined }[]): Promise<void> {
  if (customers.length === 0) return;
  await tx`
    insert into customer (id, attributes)
    select id, attributes::jsonb
      from unnest(${customers.map((c) => c.id)}::text[], ${customers.map((c) => JSON.stringify(c.attributes ?? {}))}::text[]) as t (id, attributes)
    on conflict (id) do update
      set attributes = customer.attributes || excluded.attributes,
          updated_at = case when excluded.attributes = '{}' then customer.updated_at else now() end`;
}

export interface IssuedCode {
  code: string;
  groupId: string;
  groupName: string;
  kind: 'initial' | 'repeat';
  mailingId?: string;
  issuedAt: string;
}

/** Every code issued to the customer, newest first. */
export async function customerPromocodes(sql: Sql, customerId: string): Promise<IssuedCode[]> {
  const [customer] = await sql`select 1 from customer where id = ${customerId}`;
  if (!customer) throw new NotFoundError(`There is no customer with id ${customerId}.`);
  const rows = await sql<{ code: string; groupId: string; groupName: string; kind: 'initial' | 'repeat'; mailingId: string | null; issuedAt: Date }[]>`
    select c.code, i.group_id, g.name as group_name, i.kind, m.public_id as mailing_id, i.issued_at
      from code_issuance i
      join promo_code c on c.id = i.code_id
      join promo_group g on g.id = i.group_id
      left join mailing m on m.id = i.mailing_id
     where i.customer_id = ${customerId}
     order by i.issued_at desc, i.id desc`;
  return rows.map(({ mailingId, issuedAt, ...row }) => ({
    ...row,
    ...(mailingId !== null && { mailingId }),
    issuedAt: issuedAt.toISOString(),
  }));
}

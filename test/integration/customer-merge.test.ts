import { beforeAll, describe, expect, it } from 'vitest';
import type { Sql } from '../../src/db/client.js';
import { type CustomerUpdate, MERGE_CHUNK, mergeCustomers } from '../../src/db/customers.js';
import { addRecipients, createMailing, getMailing, lockDraft, type NewRecipient } from '../../src/db/mailings.js';
import { testDatabase } from '../support/stack.js';

let sql: Sql;
beforeAll(async () => {
  sql = await testDatabase();
});

const merge = (customers: CustomerUpdate[]) => sql.begin((tx) => mergeCustomers(tx, customers));

/** Each customer's row version (xmin: the transaction that wrote it), attributes and updated_at. */
async function rows(ids: string[]) {
  const found = await sql<{ id: string; version: string; attributes: Record<string, unknown>; updatedAt: Date }[]>`
    select id, xmin::text as version, attributes, updated_at from customer where id = any(${ids}::text[]) order by id`;
  return Object.fromEntries(found.map(({ id, ...row }) => [id, row]));
}

describe('merging customers', () => {
  it('rewrites only the customers whose attributes change, and locks every one of them', async () => {
    const ids = ['m-1', 'm-2', 'm-3'];
    await merge(ids.map((id) => ({ id, attributes: { city: 'Oslo', tier: { level: 1 } } })));
    const before = await rows(ids);

    await sql.begin(async (tx) => {
      await mergeCustomers(tx, [
        { id: 'm-1', attributes: { city: 'Oslo' } }, // stored already
        { id: 'm-2', attributes: {} }, // nothing given
        { id: 'm-3', attributes: { tier: { level: 1, since: 2026 } } }, // a nested value replaced
      ]);
      // every one is locked until the merge's transaction ends, rewritten or not
      const [locked] = await tx<{ n: number }[]>`select count(*)::int as n from customer where id = any(${ids}::text[]) and xmax = txid_current()::text::xid`;
      expect(locked!.n).toBe(3);
    });

    const after = await rows(ids);
    expect(after['m-1']).toEqual(before['m-1']);
    expect(after['m-2']).toEqual(before['m-2']);
    expect(after['m-3']!.version).not.toBe(before['m-3']!.version);
    expect(after['m-3']!.attributes).toEqual({ city: 'Oslo', tier: { level: 1, since: 2026 } });
    expect(after['m-3']!.updatedAt.getTime()).toBeGreaterThan(before['m-3']!.updatedAt.getTime());
  });

  it('merges an id given twice, the later attributes over the earlier, and creates new customers', async () => {
    await merge([
      { id: 'n-1', attributes: { city: 'Oslo', name: 'Ann' } },
      { id: 'n-1', attributes: { city: 'Bergen' } },
      { id: 'n-2' },
    ]);
    const after = await rows(['n-1', 'n-2']);
    expect(after['n-1']!.attributes).toEqual({ city: 'Bergen', name: 'Ann' });
    expect(after['n-2']!.attributes).toEqual({});
  });

  it('stores ids, attributes and contacts exactly as given, whatever characters they hold', async () => {
    const attributes = { 'quote "key"': 'back\\slash "and" quotes', nested: [{ emoji: '🎉', tab: '\t' }, null, 1.5], empty: '' };
    await merge([{ id: 'odd "id", {1}', attributes, email: 'ann+"x"@example.com', phone: '+47 123' }]);
    const [row] = await sql<{ attributes: unknown; email: string; phone: string }[]>`
      select attributes, email, phone from customer where id = ${'odd "id", {1}'}`;
    expect(row).toEqual({ attributes, email: 'ann+"x"@example.com', phone: '+47 123' });
  });

  it('merges more customers than one statement takes, every one of them', async () => {
    const count = MERGE_CHUNK * 2 + MERGE_CHUNK / 2;
    // given in descending order: each statement takes the next ids in ascending order
    const customers = Array.from({ length: count }, (_, i) => ({ id: `chunk-${String(count - i).padStart(6, '0')}`, attributes: { n: count - i } }));
    await merge(customers);
    const [stored] = await sql<{ n: number; matching: number }[]>`
      select count(*)::int as n, count(*) filter (where attributes = jsonb_build_object('n', substr(id, 7)::int))::int as matching
        from customer where id like 'chunk-%'`;
    expect(stored).toEqual({ n: count, matching: count });
  });

  it("stores a recipient's email and phone only when they are new", async () => {
    const mailing = (publicId: string, recipients: { customerId: string; email?: string; phone?: string }[]) =>
      createMailing(sql, { publicId, name: publicId, channel: { type: 'log' }, template: { body: 'Hi' }, recipients });
    await mailing('contacts-1', [{ customerId: 'r-1', email: 'a@example.com' }, { customerId: 'r-2', phone: '+4712345678' }]);
    const before = await rows(['r-1', 'r-2']);
    await mailing('contacts-2', [{ customerId: 'r-1', email: 'a@example.com' }, { customerId: 'r-2', phone: '+4787654321' }]);
    const after = await rows(['r-1', 'r-2']);
    expect(after['r-1']).toEqual(before['r-1']);
    expect(after['r-2']!.version).not.toBe(before['r-2']!.version);
    const [r2] = await sql`select email, phone from customer where id = 'r-2'`;
    expect(r2).toEqual({ email: null, phone: '+4787654321' });
  });

  it('writes a new recipient with its email and phone once: one row version per customer', async () => {
    await createMailing(sql, { publicId: 'contacts-draft', name: 'draft', channel: { type: 'log' }, template: { body: 'Hi' } });
    const written = await sql.begin(async (tx) => {
      // this backend's counts not flushed yet: those of its earlier transactions included, hence the difference
      const counts = async () => {
        const [row] = await tx<{ inserted: number; updated: number }[]>`
          select n_tup_ins::int as inserted, n_tup_upd::int as updated from pg_stat_xact_user_tables where relname = 'customer'`;
        return row!;
      };
      const before = await counts();
      const mailing = await lockDraft(tx, 'contacts-draft');
      await addRecipients(tx, mailing, [
        { customerId: 'w-1', email: 'w1@example.com', attributes: { city: 'Oslo' } },
        { customerId: 'w-2', phone: '+4711111111' },
      ]);
      const after = await counts();
      return { inserted: after.inserted - before.inserted, updated: after.updated - before.updated };
    });
    expect(written).toEqual({ inserted: 2, updated: 0 });
    expect(await sql`select id, email, phone, attributes from customer where id in ('w-1', 'w-2') order by id`).toEqual([
      { id: 'w-1', email: 'w1@example.com', phone: null, attributes: { city: 'Oslo' } },
      { id: 'w-2', email: null, phone: '+4711111111', attributes: {} },
    ]);
  });
});

describe("a mailing's recipients", () => {
  it('are stored in the order given, once each, with ids and contacts exactly as given, whatever characters they hold', async () => {
    const texts = ['tab\there', 'line\nbreak', 'carriage\rreturn', 'back\\slash', '\\N', 'quote "x", {1}', '🎉'];
    const recipients = texts.map((text, i): NewRecipient => ({ customerId: `odd-${i} ${text}`, ...(i % 2 === 0 ? { email: `${text}@example.com` } : { phone: text }) }));
    await createMailing(sql, { publicId: 'odd-recipients', name: 'odd', channel: { type: 'log' }, template: { body: 'Hi' }, recipients: [...recipients, recipients[0]!] });
    const stored = await sql`
      select r.seq::int, r.customer_id, r.email, r.phone from mailing_recipient r join mailing m on m.id = r.mailing_id
       where m.public_id = 'odd-recipients' order by r.seq`;
    expect(stored).toEqual(recipients.map((r, i) => ({ seq: i + 1, customerId: r.customerId, email: r.email ?? null, phone: r.phone ?? null })));
    // the counter triggers fire for COPY as for an insert
    expect((await getMailing(sql, 'odd-recipients')).recipients).toBe(texts.length);
  });
});

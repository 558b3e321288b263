import { beforeAll, describe, expect, it } from 'vitest';
import { backfillGroupNameKeys } from '../../src/db/groups.js';
import { groupNameKey } from '../../src/domain/group-name.js';
import { groupKey } from '../../src/domain/template.js';
import { expectLifecycleInvariants } from '../support/invariants.js';
import { groupWithCodes, mailingEnded, numberedCodes, testStack, type TestStack } from '../support/stack.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await testStack();
});

const ended = (id: string) => mailingEnded(stack, id, 60_000);

describe('group names compare by one rule', () => {
  const pairs: [string, string][] = [
    ['ΣΑΣ', 'σας'], // final sigma
    ['İstanbul', 'i\u0307stanbul'], // capital I with dot above, and its lower case (i + combining dot)
    ['Straße', 'STRASSE'], // a full case fold: ß = SS
    [' Trimmed\u00a0', 'trimmed'],
    ['Cafe\u0301', 'CAFÉ'], // canonically equivalent (NFC)
  ];

  it('has one key function, the one templates use', () => {
    for (const [a, b] of pairs) {
      expect(groupNameKey(a)).toBe(groupNameKey(b));
      expect(groupKey(a)).toBe(groupNameKey(b));
    }
    expect(groupNameKey('STRAẞE')).toBe(groupNameKey('strasse'));
    expect(groupNameKey('σασ')).toBe(groupNameKey('ΣΑΣ'));
    expect(groupNameKey('Sas')).not.toBe(groupNameKey('Saß'));
  });

  it('refuses a second group whose name is the same under the rule, on create and on rename', async () => {
    for (const [a, b] of pairs) {
      const created = await stack.api('POST', '/api/groups', { json: { name: a } });
      expect(created.status, created.text).toBe(201);
      const again = await stack.api('POST', '/api/groups', { json: { name: b } });
      expect(again.status, `${a} vs ${b}: ${again.text}`).toBe(409);
    }
    const other = await stack.api('POST', '/api/groups', { json: { name: 'Strasse two' } });
    expect((await stack.api('PATCH', `/api/groups/${other.body.id}`, { json: { name: 'strasse' } })).status).toBe(409);
    expect((await stack.api('PATCH', `/api/groups/${other.body.id}`, { json: { name: 'STRAẞE 2' } })).status).toBe(200);
    expect((await stack.api('POST', '/api/groups', { json: { name: 'straße 2' } })).status).toBe(409);
  });

  it('keys the groups stored before migration 012 in JavaScript, and keeps two that collide apart', async () => {
    const rows = await stack.sql<{ id: string }[]>`insert into promo_group (name) values ('Old Σίσυφος'), ('OLD ΣΊΣΥΦΟΣ') returning id`;
    expect(await backfillGroupNameKeys(stack.sql)).toBe(2);
    const keys = await stack.sql<{ nameKey: string }[]>`select name_key from promo_group where id = any(${rows.map((r) => r.id)}::bigint[]) order by id`;
    expect(keys.map((k) => k.nameKey)).toEqual([groupNameKey('Old Σίσυφος'), `${groupNameKey('Old Σίσυφος')} #${rows[1]!.id}`]);
    expect((await stack.api('POST', '/api/groups', { json: { name: 'old σίσυφος' } })).status).toBe(409);
    expect(await backfillGroupNameKeys(stack.sql)).toBe(0);
  });

  it('finds the group from a template and from a segment by any spelling the rule makes equal', async () => {
    const group = await groupWithCodes(stack, 'ΦΩΣ', numberedCodes('Fos', 3));
    const mailing = (await stack.api('POST', '/api/mailings', {
      json: { name: 'Sigma', channel: { type: 'log' }, template: { body: '{{ client.promocode("φως") }} {{ client.last_promocode("ΦΩΣ") }}' }, recipients: [{ customerId: 'sigma-1' }] },
    })).body;
    expect(await ended(mailing.id)).toMatchObject({ status: 'completed', sent: 1, codes: [{ reserved: 1, issued: 1 }] });
    const segment = await stack.api('POST', '/api/segments/query', { json: { filter: { issuedFromGroup: { group: 'φωσ' } } } });
    expect(segment.status, segment.text).toBe(200);
    expect(segment.body).toMatchObject({ count: 1, customerIds: ['sigma-1'] });
    const strasse = await stack.api('POST', '/api/segments/query', { json: { filter: { issuedFromGroup: { group: 'STRASSE' } } } });
    expect(strasse.status, strasse.text).toBe(200);
    expect(strasse.body.count).toBe(0);
    expect((await stack.api('POST', '/api/segments/query', { json: { filter: { issuedFromGroup: { group: 'Strase' } } } })).status).toBe(400);
    expect(group.id).toBeDefined();
    await expectLifecycleInvariants(stack.sql);
  });
});

describe('customer ids', () => {
  it('trims the id the same way in PUT /customers/{id}, GET and issue', async () => {
    const put = await stack.api('PUT', `/api/customers/${encodeURIComponent(' c-1 ')}`, { json: { attributes: { name: 'Ann' } } });
    expect(put.status, put.text).toBe(200);
    expect(put.body.id).toBe('c-1');
    const group = await groupWithCodes(stack, 'Trim', numberedCodes('Trim', 2));
    const issued = await stack.api('POST', `/api/groups/${group.id}/issue`, { json: { customerId: ' c-1 ' } });
    expect(issued.status).toBe(200);
    expect((await stack.api('GET', `/api/customers/${encodeURIComponent(' c-1 ')}`)).body).toMatchObject({ id: 'c-1', attributes: { name: 'Ann' } });
    expect((await stack.api('GET', '/api/customers/c-1/promocodes')).body.items).toMatchObject([{ code: issued.body.code }]);
    const [row] = await stack.sql<{ n: number }[]>`select count(*)::int as n from customer where btrim(id) = 'c-1'`;
    expect(row!.n).toBe(1);
  });
});

describe('reissue with an idempotency key', () => {
  it('records one repeat for one key and answers the same code', async () => {
    const group = await groupWithCodes(stack, 'Repeat key', numberedCodes('RepeatKey', 2));
    const { code } = (await stack.api('POST', `/api/groups/${group.id}/issue`, { json: { customerId: 'rk-1', idempotencyKey: 'issue-1' } })).body;
    const answers = await Promise.all(
      Array.from({ length: 4 }, () => stack.api('POST', `/api/groups/${group.id}/reissue`, { json: { customerId: 'rk-1', idempotencyKey: 'again-1' } })),
    );
    for (const answer of answers) expect(answer.body).toEqual({ code, kind: 'repeat' });
    const history = (await stack.api('GET', '/api/customers/rk-1/promocodes')).body.items;
    expect(history.map((h: { kind: string }) => h.kind)).toEqual(['repeat', 'initial']);
    expect((await stack.api('POST', `/api/groups/${group.id}/reissue`, { json: { customerId: 'rk-2', idempotencyKey: 'again-1' } })).status).toBe(409);
    expect((await stack.api('POST', `/api/groups/${group.id}/reissue`, { json: { customerId: 'rk-1', idempotencyKey: 'issue-1' } })).status).toBe(409);
    const doc = (await stack.api('GET', '/api/openapi.json', { token: null })).body;
    const route = doc.paths['/api/groups/{id}/reissue'].post;
    expect(route.description).toMatch(/idempotencyKey/);
    expect(JSON.stringify(route.requestBody)).toMatch(/idempotencyKey/);
  });
});

describe('a customer\'s promo codes', () => {
  it('pages newest first with limit and cursor', async () => {
    const group = await groupWithCodes(stack, 'History pages', numberedCodes('Hist', 5));
    const codes: string[] = [];
    for (let i = 0; i < 5; i += 1) codes.push((await stack.api('POST', `/api/groups/${group.id}/issue`, { json: { customerId: 'hist-1' } })).body.code);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await stack.api('GET', `/api/customers/hist-1/promocodes?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status, page.text).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((item: { code: string }) => item.code));
      cursor = page.body.nextCursor;
      pages += 1;
    } while (cursor !== null);
    expect(pages).toBe(3);
    expect(seen).toEqual([...codes].reverse());
    expect((await stack.api('GET', '/api/customers/hist-1/promocodes')).body).toMatchObject({ nextCursor: null });
    expect((await stack.api('GET', '/api/customers/hist-1/promocodes?cursor=nonsense')).status).toBe(400);
  });
});

describe('the format check\'s capacity', () => {
  it('examines a bounded number of stored codes and says when its count is an estimate', async () => {
    const group = await groupWithCodes(stack, 'Many digits');
    await stack.sql`insert into promo_code (group_id, code) select ${group.id}, lpad(n::text, 6, '0') from generate_series(0, 59999) n`;
    const format = "{string('0-9', 6)}";
    const check = await stack.api('POST', '/api/formats/check', { json: { format } });
    expect(check.status, check.text).toBe(200);
    // 1,000,000 − 60,000 are free; 50,000 examined, all taken, 10,000 not examined
    expect(check.body).toMatchObject({ valid: true, maxQuantityIsEstimate: true, maxQuantity: 940_000 });
    expect((await stack.api('POST', '/api/formats/check', { json: { format, quantity: 945_000 } })).body.valid).toBe(true);
    expect((await stack.api('POST', '/api/formats/check', { json: { format, quantity: 960_000 } })).body.valid).toBe(false);
    // the generation counts exactly
    const refused = await stack.api('POST', `/api/groups/${group.id}/generations`, { json: { quantity: 945_000, format } });
    expect(refused.status).toBe(400);
    expect(refused.text).toMatch(/940000/);
    const small = await stack.api('POST', '/api/formats/check', { json: { format: "Z{string('0-9', 2)}" } });
    expect(small.body).toMatchObject({ maxQuantity: 100, maxQuantityIsEstimate: false });
    const doc = (await stack.api('GET', '/api/openapi.json', { token: null })).body;
    expect(doc.components.schemas.FormatCheckResult.properties.maxQuantityIsEstimate.description).toMatch(/lower bound/);
  });
});

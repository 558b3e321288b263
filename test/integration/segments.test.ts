import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SegmentFilter } from '../../src/domain/segment.js';
import { testStack, type TestStack } from '../support/stack.js';
import { evaluateFilter, filterArbitrary, issuanceArbitrary, type SegmentData } from '../support/segments.js';

let stack: TestStack;
let groupIds: { alpha: string; beta: string; old: string };
beforeAll(async () => {
  stack = await testStack();
  groupIds = { alpha: await createGroup('Alpha'), beta: await createGroup('Beta'), old: await createGroup('Old') };
});

const expectProblem = (answer: { status: number; headers: Headers; body: any }, status: number, path?: string) => {
  expect(answer.status).toBe(status);
  expect(answer.headers.get('content-type')).toBe('application/problem+json');
  if (path) expect(answer.body.errors.map((e: { path: string }) => e.path)).toContain(path);
};

const createGroup = async (name: string): Promise<string> => {
  const answer = await stack.api('POST', '/api/groups', { json: { name } });
  expect(answer.status, answer.text).toBe(201);
  return answer.body.id;
};

/** Replaces all customers and history with the data: codes issued to customers and their issuances. */
async function load(data: SegmentData): Promise<void> {
  const { sql } = stack;
  await sql`delete from code_issuance`;
  await sql`delete from promo_code where status in ('issued', 'redeemed')`;
  await sql`delete from customer`;
  if (data.customers.length > 0) await sql`insert into customer (id) select unnest(${data.customers}::text[])`;
  if (data.issuances.length === 0) return;
  const column = <K extends keyof SegmentData['issuances'][number]>(key: K) => data.issuances.map((i) => i[key]);
  const redeemedAt = data.issuances.map((i) => i.redeemedAt ?? null) as string[];
  await sql`
    insert into promo_code (group_id, code, status, customer_id, issued_at, redeemed_at)
    select g, 'SEGMENT-' || n, case when r is null then 'issued' else 'redeemed' end::code_status, c, t, r
      from unnest(${column('groupId')}::bigint[], ${column('customerId')}::text[], ${column('issuedAt')}::timestamptz[], ${redeemedAt}::timestamptz[])
           with ordinality as x (g, c, t, r, n)`;
  await sql`
    insert into code_issuance (customer_id, group_id, code_id, kind, issued_at)
    select x.c, x.g, p.id, x.k, x.t
      from unnest(${column('groupId')}::bigint[], ${column('customerId')}::text[], ${column('kind')}::issuance_kind[], ${column('issuedAt')}::timestamptz[])
           with ordinality as x (g, c, k, t, n)
      join promo_code p on p.code = 'SEGMENT-' || x.n`;
}

const query = (filter: unknown, extra: Record<string, unknown> = {}) => stack.api('POST', '/api/segments/query', { json: { filter, ...extra } });

/** Count and every id, paging through with the given page size. */
async function everything(filter: unknown, limit: number): Promise<{ count: number; ids: string[] }> {
  const ids: string[] = [];
  let cursor: string | undefined;
  let count: number | undefined;
  for (let pages = 0; ; pages += 1) {
    const answer = await query(filter, { limit, ...(cursor && { cursor }) });
    expect(answer.status, answer.text).toBe(200);
    count ??= answer.body.count;
    expect(answer.body.count).toBe(count);
    expect(answer.body.customerIds.length).toBeLessThanOrEqual(limit);
    ids.push(...answer.body.customerIds);
    cursor = answer.body.nextCursor ?? undefined;
    if (!cursor) return { count: count!, ids };
    if (pages > 1000) throw new Error('endless paging');
  }
}

const T1 = '2025-01-10T00:00:00.000Z';
const T2 = '2025-02-10T00:00:00.000Z';
const T3 = '2025-03-10T00:00:00.000Z';

describe('segment queries on a hand-made history', () => {
  let data: SegmentData;
  const ids = async (filter: unknown) => {
    const answer = await query(filter);
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body.count).toBe(answer.body.customerIds.length);
    expect(answer.body.nextCursor).toBeNull();
    return answer.body.customerIds;
  };

  beforeAll(async () => {
    const { alpha, beta, old } = groupIds;
    const issued = (customerId: string, groupId: string, kind: 'initial' | 'repeat', issuedAt: string) => ({ customerId, groupId, kind, issuedAt });
    data = {
      customers: ['c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7', 'c8'],
      groups: [{ id: alpha, name: 'Alpha' }, { id: beta, name: 'Beta' }, { id: old, name: 'Old', deleted: true }],
      issuances: [
        issued('c1', alpha, 'initial', T1),
        issued('c2', alpha, 'initial', T1),
        issued('c2', alpha, 'repeat', T2),
        issued('c3', beta, 'initial', T2),
        issued('c4', alpha, 'initial', T1),
        issued('c4', beta, 'initial', T3),
        issued('c6', old, 'initial', T1),
        issued('c7', beta, 'initial', T1),
        issued('c7', beta, 'repeat', T3),
        issued('c7', beta, 'repeat', T3),
      ],
    };
    await load(data);
    expect((await stack.api('DELETE', `/api/groups/${old}`)).status).toBe(204);
  });

  it('issuedFromGroup: by name (case-insensitive, trimmed), kind and window', async () => {
    expect(await ids({ issuedFromGroup: { group: 'Alpha' } })).toEqual(['c1', 'c2', 'c4']);
    expect(await ids({ issuedFromGroup: { group: '  aLPHA ' } })).toEqual(['c1', 'c2', 'c4']);
    expect(await ids({ issuedFromGroup: { group: 'Alpha', kind: 'repeat' } })).toEqual(['c2']);
    expect(await ids({ issuedFromGroup: { group: 'Alpha', kind: 'initial' } })).toEqual(['c1', 'c2', 'c4']);
    expect(await ids({ issuedFromGroup: { group: 'Alpha', kind: 'any', since: T2 } })).toEqual(['c2']);
    expect(await ids({ issuedFromGroup: { group: 'Beta', until: T3 } })).toEqual(['c3', 'c7']);
  });

  it('issuedCount: every operator, counting customers with none', async () => {
    const count = (op: string, value: number, extra: Record<string, unknown> = {}) => ids({ issuedCount: { op, value, ...extra } });
    // totals: c1 1, c2 2, c3 1, c4 2, c5 0, c6 1 (a deleted group still counts), c7 3, c8 0
    expect(await count('eq', 0)).toEqual(['c5', 'c8']);
    expect(await count('eq', 2)).toEqual(['c2', 'c4']);
    expect(await count('ne', 0)).toEqual(['c1', 'c2', 'c3', 'c4', 'c6', 'c7']);
    expect(await count('ne', 2)).toEqual(['c1', 'c3', 'c5', 'c6', 'c7', 'c8']);
    expect(await count('gt', 1)).toEqual(['c2', 'c4', 'c7']);
    expect(await count('gt', 0)).toEqual(['c1', 'c2', 'c3', 'c4', 'c6', 'c7']);
    expect(await count('gte', 3)).toEqual(['c7']);
    expect(await count('gte', 0)).toEqual(data.customers);
    expect(await count('lt', 2)).toEqual(['c1', 'c3', 'c5', 'c6', 'c8']);
    expect(await count('lt', 0)).toEqual([]);
    expect(await count('lte', 0)).toEqual(['c5', 'c8']);
    expect(await count('lte', 2)).toEqual(['c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c8']);
  });

  it('issuedCount: of one group, of one kind, in a window (since inclusive, until exclusive)', async () => {
    expect(await ids({ issuedCount: { op: 'eq', value: 0, group: 'Beta' } })).toEqual(['c1', 'c2', 'c5', 'c6', 'c8']);
    expect(await ids({ issuedCount: { op: 'gte', value: 2, group: 'beta' } })).toEqual(['c7']);
    expect(await ids({ issuedCount: { op: 'eq', value: 1, kind: 'initial' } })).toEqual(['c1', 'c2', 'c3', 'c6', 'c7']);
    expect(await ids({ issuedCount: { op: 'eq', value: 2, kind: 'repeat', group: 'Beta' } })).toEqual(['c7']);
    expect(await ids({ issuedCount: { op: 'gte', value: 1, since: T2, until: T3 } })).toEqual(['c2', 'c3']);
    expect(await ids({ issuedCount: { op: 'eq', value: 0, since: T2, until: T3 } })).toEqual(['c1', 'c4', 'c5', 'c6', 'c7', 'c8']);
    // the same instant written with an offset
    expect(await ids({ issuedCount: { op: 'gte', value: 2, since: '2025-03-10T02:00:00+02:00' } })).toEqual(['c7']);
    expect(await ids({ issuedCount: { op: 'gte', value: 1, since: T3, until: T3 } })).toEqual([]);
  });

  it('and, or, not', async () => {
    const alpha = { issuedFromGroup: { group: 'Alpha' } };
    const beta = { issuedFromGroup: { group: 'Beta' } };
    const none = { issuedCount: { op: 'eq', value: 0 } };
    expect(await ids({ and: [alpha, { not: beta }] })).toEqual(['c1', 'c2']);
    expect(await ids({ and: [alpha, beta] })).toEqual(['c4']);
    expect(await ids({ or: [beta, none] })).toEqual(['c3', 'c4', 'c5', 'c7', 'c8']);
    expect(await ids({ not: alpha })).toEqual(['c3', 'c5', 'c6', 'c7', 'c8']);
    expect(await ids({ not: { or: [alpha, beta] } })).toEqual(['c5', 'c6', 'c8']);
    expect(await ids({ or: [alpha, { not: beta }] })).toEqual(['c1', 'c2', 'c4', 'c5', 'c6', 'c8']);
    expect(await ids({ and: [{ not: alpha }, { not: none }, { issuedCount: { op: 'lt', value: 3 } }] })).toEqual(['c3', 'c6']);
    expect(await ids({ and: [{ issuedCount: { op: 'gte', value: 2 } }, { or: [{ issuedFromGroup: { group: 'Alpha', kind: 'repeat' } }, { issuedCount: { op: 'eq', value: 2, group: 'Beta', kind: 'repeat' } }] }] })).toEqual(['c2', 'c7']);
    expect(await ids({ not: { not: { and: [alpha] } } })).toEqual(['c1', 'c2', 'c4']);
  });

  it('pages through the segment in id order with an opaque cursor', async () => {
    const first = await query({ issuedCount: { op: 'gte', value: 0 } }, { limit: 3 });
    expect(first.body).toEqual({ count: 8, customerIds: ['c1', 'c2', 'c3'], nextCursor: expect.any(String) });
    const second = await query({ issuedCount: { op: 'gte', value: 0 } }, { limit: 3, cursor: first.body.nextCursor });
    expect(second.body).toEqual({ count: 8, customerIds: ['c4', 'c5', 'c6'], nextCursor: expect.any(String) });
    const third = await query({ issuedCount: { op: 'gte', value: 0 } }, { limit: 3, cursor: second.body.nextCursor });
    expect(third.body).toEqual({ count: 8, customerIds: ['c7', 'c8'], nextCursor: null });
    const exact = await query({ issuedFromGroup: { group: 'Alpha' } }, { limit: 3 });
    expect(exact.body).toEqual({ count: 3, customerIds: ['c1', 'c2', 'c4'], nextCursor: null });
    for (const filter of [{ issuedCount: { op: 'eq', value: 0 } }, { and: [{ issuedCount: { op: 'gt', value: 0 } }, { not: { issuedFromGroup: { group: 'Beta' } } }] }]) {
      expect(await everything(filter, 1)).toEqual(await everything(filter, 1000));
    }
    expect((await query({ issuedCount: { op: 'gte', value: 0 } })).body.customerIds).toHaveLength(8);
  });

  it('refuses bad paging input', async () => {
    const filter = { issuedFromGroup: { group: 'Alpha' } };
    expectProblem(await query(filter, { cursor: 'bm9wZQ' }), 400, 'cursor');
    expectProblem(await query(filter, { limit: 0 }), 400, 'limit');
    expectProblem(await query(filter, { limit: 1001 }), 400, 'limit');
    expectProblem(await query(filter, { limit: 2.5 }), 400, 'limit');
    expectProblem(await query(filter, { offset: 3 }), 400, 'offset');
  });

  it('names unknown groups, deleted ones included, by their path', async () => {
    const answer = await query({ or: [{ issuedFromGroup: { group: 'Nope' } }, { not: { issuedCount: { op: 'gt', value: 1, group: 'Old' } } }, { issuedFromGroup: { group: 'Alpha' } }] });
    expectProblem(answer, 400);
    expect(answer.body.errors).toEqual([
      { path: 'filter.or[0].issuedFromGroup.group', message: 'there is no promo code group named "Nope"' },
      { path: 'filter.or[1].not.issuedCount.group', message: 'there is no promo code group named "Old"' },
    ]);
    expect(answer.body.detail).toMatch(/"Nope"/);
  });

  it('names bad filter fields by their bracketed paths', async () => {
    const bad = await query({ and: [{ issuedFromGroup: { group: 'Alpha' } }, { issuedCount: { op: 'ge', value: -1 } }] });
    expectProblem(bad, 400);
    expect(bad.body.errors.map((e: { path: string }) => e.path)).toEqual(['filter.and[1].issuedCount.op', 'filter.and[1].issuedCount.value']);
    expectProblem(await query({ or: [] }), 400, 'filter.or');
    expectProblem(await query({ not: { issuedCount: { op: 'eq', value: 1, since: '2025-01-01' } } }), 400, 'filter.not.issuedCount.since');
    expectProblem(await query({ issuedFromGroup: { group: 'Alpha', colour: 'red' } }), 400, 'filter.issuedFromGroup.colour');
    expectProblem(await stack.api('POST', '/api/segments/query', { json: {} }), 400, 'filter');
    let deep: unknown = { issuedFromGroup: { group: 'Alpha' } };
    for (let i = 0; i < 10; i += 1) deep = { not: deep };
    expectProblem(await query(deep), 400, `filter${'.not'.repeat(10)}`);
    expectProblem(await query({ and: Array.from({ length: 100 }, () => ({ issuedFromGroup: { group: 'Alpha' } })) }), 400, 'filter');
    expectProblem(await stack.api('POST', '/api/segments/query', { json: { filter: { issuedFromGroup: { group: 'Alpha' } } }, token: null }), 401);
  });

  it('documents the route and the recursive filter in OpenAPI', async () => {
    const doc = (await stack.api('GET', '/api/openapi.json', { token: null })).body;
    const route = doc.paths['/api/segments/query'].post;
    expect(route.description).toMatch(/filter\.and\[1\]\.issuedCount\.op/);
    // exactly one key: a oneOf of single-key objects, so an empty `{}` is not schema-valid
    const variants = doc.components.schemas.SegmentFilter.oneOf as { properties: Record<string, unknown>; required: string[]; additionalProperties: boolean }[];
    expect(variants.map((variant) => variant.required)).toEqual([['and'], ['or'], ['not'], ['issuedCount'], ['issuedFromGroup'], ['redeemedCount']]);
    expect(variants.every((variant) => variant.additionalProperties === false)).toBe(true);
    expect(variants[0]!.properties.and).toMatchObject({ type: 'array', minItems: 1, items: { $ref: '#/components/schemas/SegmentFilter' } });
    expect(variants[2]!.properties.not).toEqual({ $ref: '#/components/schemas/SegmentFilter' });
  });
});

describe('segment queries against a plain evaluator', () => {
  it('give the same count and ids for random filters over random histories', async () => {
    // Alpha and Beta live, Old deleted (by the tests above), and Gamma
    const groups = (await stack.sql<{ id: string; name: string; deletedAt: Date | null }[]>`select id, name, deleted_at from promo_group`)
      .map((g) => ({ id: g.id, name: g.name, ...(g.deletedAt !== null && { deleted: true }) }));
    groups.push({ id: await createGroup('Gamma'), name: 'Gamma' });
    const instants = ['2025-01-01T00:00:00.000Z', '2025-01-01T12:00:00.000Z', '2025-01-02T00:00:00.000Z', '2025-01-03T00:00:00.000Z'];
    const filterInstants = [...instants, '2025-01-02T03:00:00+03:00', '2024-12-31T00:00:00Z', '2025-01-01T06:00:00.000Z'];
    const history = fc.integer({ min: 0, max: 12 }).chain((size) => {
      const customers = Array.from({ length: size }, (_, i) => `cust-${String(i).padStart(2, '0')}`);
      if (size === 0) return fc.constant<SegmentData>({ customers, groups, issuances: [] });
      const issuance = issuanceArbitrary(customers, groups.map((g) => g.id), instants);
      // several issuances a customer, so that counts of 2 to 4 within a group, kind or window occur
      return fc.array(issuance, { minLength: size, maxLength: 4 * size }).map((issuances): SegmentData => ({ customers, groups, issuances }));
    });
    const filters = fc.array(filterArbitrary(['Alpha', 'beta', ' GAMMA '], filterInstants), { minLength: 1, maxLength: 4 });
    await fc.assert(
      fc.asyncProperty(history, filters, fc.integer({ min: 1, max: 5 }), async (data, someFilters: SegmentFilter[], limit) => {
        await load(data);
        for (const filter of someFilters) {
          const expected = evaluateFilter(filter, data);
          const { count, ids } = await everything(filter, limit);
          expect({ filter, count, ids }).toEqual({ filter, count: expected.length, ids: expected });
        }
      }),
      { numRuns: 60 },
    );
  });
});

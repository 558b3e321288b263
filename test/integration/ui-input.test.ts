import { beforeAll, describe, expect, it } from 'vitest';
import { groupWithCodes, TEST_TOKEN, testStack, type TestStack } from '../support/stack.js';

// The operator pages take text PostgreSQL cannot store (a NUL character, a lone surrogate) in
// their paths, queries and form fields: each answer is a 4xx that says what is wrong, never a
// 500, and nothing changes.

let stack: TestStack;
let cookie: string;
let csrf: string;
let group: { id: string; name: string };
const NUL = '\u0000';
const LONE = '\uD800';

beforeAll(async () => {
  stack = await testStack({ worker: false });
  const signin = await stack.app.request('/signin', {
    method: 'POST',
    headers: { origin: 'http://localhost', 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: TEST_TOKEN, next: '/groups' }),
  });
  cookie = `promo_session=${/promo_session=([^;]+)/.exec(signin.headers.get('set-cookie') ?? '')?.[1]}`;
  csrf = /<meta name="csrf-token" content="([^"]+)"/.exec(await (await page('/groups')).text())![1]!;
  group = await groupWithCodes(stack, 'Pages', ['PAGE-1', 'PAGE-2']);
});

const page = (path: string) => stack.app.request(path, { headers: { cookie }, redirect: 'manual' });
const post = (path: string, fields: Record<string, string>) =>
  stack.app.request(path, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie, origin: 'http://localhost', 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, ...fields }),
  });

async function groupsAsStored() {
  return [await stack.sql`select * from promo_group order by id`, await stack.sql`select * from promo_group_counts order by group_id`];
}

describe('operator pages given unstorable text', () => {
  it.each([NUL, LONE])('answer 404 for a path segment holding %j', async (bad) => {
    const segment = bad === NUL ? '%00' : '%ED%A0%80'; // a lone surrogate's UTF-8 bytes, as a client may send them
    for (const path of [`/groups/${segment}`, `/mailings/${segment}`, `/customers/${segment}`, `/groups/${segment}/codes.csv`]) {
      const answer = await page(path);
      expect(answer.status, path).toBe(404);
    }
    for (const path of [`/mailings/${segment}/cancel`, `/sessions/${segment}/revoke`]) {
      expect((await post(path, {})).status, path).toBe(404);
    }
  });

  it('answer 400 for a query value holding a NUL, naming the parameter', async () => {
    for (const path of ['/groups?q=a%00b', '/customers?id=a%00', '/mailings?cursor=%00', `/groups/${group.id}?status=%00`]) {
      const answer = await page(path);
      expect(answer.status, path).toBe(400);
      expect(await answer.text(), path).toMatch(/NUL/);
    }
  });

  // (a form cannot carry a lone surrogate: browsers and URLSearchParams send U+FFFD in its place)
  it('refuse a form field holding a NUL beside the field, changing nothing', async () => {
    const before = await groupsAsStored();
    const created = await post('/groups/new', { name: `Bad${NUL}name`, description: '', method: 'upload', codes: 'A-1' });
    expect(created.status).toBe(400);
    expect(await created.text()).toMatch(/must not contain a NUL character/);

    const saved = await post(`/groups/${group.id}`, { name: 'Pages', description: `a ${NUL}`, format: '' });
    expect(saved.status).toBe(400);
    expect(await saved.text()).toMatch(/must not contain a NUL character/);

    const filled = await post(`/groups/${group.id}/codes`, { method: 'upload', codes: `GOOD-1\nBAD${NUL}` });
    expect(filled.status).toBe(400);
    expect(await groupsAsStored()).toEqual(before);
  });

  it('refuse a sign-in whose token holds a NUL as a wrong token', async () => {
    const answer = await stack.app.request('/signin', {
      method: 'POST',
      headers: { origin: 'http://localhost', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: `${TEST_TOKEN}${NUL}` }),
    });
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
  });
});

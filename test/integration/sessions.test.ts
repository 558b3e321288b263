import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { Client, Connection } from '@temporalio/client';
import pino from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import type { AppDeps } from '../../src/api/router.js';
import { createSql } from '../../src/db/client.js';
import { freePort } from '../../src/local/ports.js';
import { serveApp } from '../support/http-server.js';
import { onCleanup, TEST_TOKEN, testStack, type TestStack } from '../support/stack.js';

// Server-side operator sessions (sign-out and revoke end every copy of a cookie), their API,
// throttling of wrong tokens per client address, and /readyz naming what is down.

let stack: TestStack;
let deps: AppDeps;
/** the app as deployed behind a proxy (PROMO_TRUST_PROXY=true): the client is the first X-Forwarded-For */
let proxied: ReturnType<typeof createApp>;
let nextAddress = 1;
/** an address no earlier test used, so throttle counts never leak between tests */
const freshAddress = () => `10.0.0.${nextAddress++}`;

beforeAll(async () => {
  stack = await testStack({ worker: false });
  deps = { ...stack.deps, trustProxy: true };
  proxied = createApp(deps);
});

type App = ReturnType<typeof createApp>;
const ORIGIN = 'http://localhost';

async function signIn(app: App = proxied, address = freshAddress()): Promise<{ cookie: string; token: string }> {
  const answer = await app.request('/signin', {
    method: 'POST',
    headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': `${address}, 192.0.2.1`, 'user-agent': 'session-test/1.0' },
    body: new URLSearchParams({ token: TEST_TOKEN, next: '/groups' }),
  });
  expect(answer.status).toBe(303);
  const setCookie = answer.headers.get('set-cookie') ?? '';
  const token = /promo_session=([^;]+)/.exec(setCookie)?.[1];
  expect(token).toBeTruthy();
  return { cookie: `promo_session=${token}`, token: token! };
}

const page = (cookie: string, app: App = proxied, path = '/groups') => app.request(path, { headers: { cookie }, redirect: 'manual' });

async function csrfTokenOf(cookie: string): Promise<string> {
  const html = await (await page(cookie)).text();
  const token = /<meta name="csrf-token" content="([^"]+)"/.exec(html)?.[1];
  expect(token).toBeTruthy();
  return token!;
}

const api = (path: string, init: { method?: string; token?: string; cookie?: string; address?: string; app?: App; headers?: Record<string, string> } = {}) =>
  (init.app ?? proxied).request(path, {
    method: init.method ?? 'GET',
    headers: {
      ...(init.token !== undefined && { authorization: `Bearer ${init.token}` }),
      ...(init.cookie !== undefined && { cookie: init.cookie }),
      'x-forwarded-for': init.address ?? freshAddress(),
      ...init.headers,
    },
  });

describe('sessions on the server', () => {
  it('ends every copy of the cookie at sign-out', async () => {
    const { cookie } = await signIn();
    const copy = `${cookie}`;
    expect((await page(cookie)).status).toBe(200);
    expect((await api('/api/groups', { cookie: copy })).status).toBe(200);

    const csrf = await csrfTokenOf(cookie);
    const out = await proxied.request('/signout', { method: 'POST', headers: { cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: csrf }) });
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/signin');
    expect(out.headers.get('set-cookie')).toMatch(/promo_session=;/);

    const after = await page(copy);
    expect(after.status).toBe(302);
    expect(after.headers.get('location')).toBe('/signin?next=%2Fgroups');
    const apiAfter = await api('/api/groups', { cookie: copy });
    expect(apiAfter.status).toBe(401);
    expect(apiAfter.headers.get('content-type')).toBe('application/problem+json');
  });

  it('keeps the session in a row keyed by the token\'s SHA-256, not the token', async () => {
    const { token } = await signIn();
    const hash = createHash('sha256').update(token).digest('hex');
    const rows = await stack.sql`select id, public_id, address, user_agent, revoked_at from operator_session where id = ${hash}`;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ revokedAt: null, userAgent: 'session-test/1.0' });
    expect(rows[0]!.publicId).not.toBe(token);
    expect(rows[0]!.publicId).not.toBe(hash);
    expect((await stack.sql`select count(*)::int as n from operator_session where id = ${token} or public_id = ${token}`)[0]!.n).toBe(0);
  });

  it('lists live sessions a page at a time, marks the current one, and revokes by public id', async () => {
    const address = freshAddress();
    const mine = await signIn(proxied, address);
    const others = [await signIn(), await signIn()];

    const first = await api('/api/sessions?limit=2', { cookie: mine.cookie });
    expect(first.status).toBe(200);
    const firstPage = (await first.json()) as { items: Record<string, unknown>[]; nextCursor: string | null };
    expect(firstPage.items).toHaveLength(2);
    expect(firstPage.nextCursor).toEqual(expect.any(String));
    for (const item of firstPage.items) {
      expect(Object.keys(item).sort()).toEqual(['address', 'createdAt', 'current', 'expiresAt', 'id', 'lastSeenAt', 'userAgent']);
      expect(item.current).toBe(false); // newest first: the two others
    }

    const all: Record<string, unknown>[] = [];
    let cursor: string | null = null;
    do {
      const answer = await api(`/api/sessions?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { token: TEST_TOKEN });
      const body = (await answer.json()) as { items: Record<string, unknown>[]; nextCursor: string | null };
      all.push(...body.items);
      cursor = body.nextCursor;
    } while (cursor);
    expect(new Set(all.map((item) => item.id)).size).toBe(all.length);
    const listedTokens = JSON.stringify(all);
    for (const { token } of [mine, ...others]) {
      expect(listedTokens).not.toContain(token);
      expect(listedTokens).not.toContain(createHash('sha256').update(token).digest('hex'));
    }
    expect(all.every((item) => item.current === false)).toBe(true); // asked with a bearer token

    const withCookie = (await (await api('/api/sessions?limit=1000', { cookie: mine.cookie })).json()) as { items: Record<string, unknown>[] };
    const current = withCookie.items.filter((item) => item.current);
    expect(current).toHaveLength(1);
    expect(current[0]).toMatchObject({ address, userAgent: 'session-test/1.0' });
    expect(Date.parse(current[0]!.expiresAt as string) - Date.parse(current[0]!.createdAt as string)).toBe(12 * 60 * 60 * 1000);

    const victim = withCookie.items.find((item) => !item.current)!;
    const revoked = await api(`/api/sessions/${victim.id}`, { method: 'DELETE', token: TEST_TOKEN });
    expect(revoked.status).toBe(204);
    const left = (await (await api('/api/sessions?limit=1000', { token: TEST_TOKEN })).json()) as { items: { id: string }[] };
    expect(left.items.map((item) => item.id)).not.toContain(victim.id);
    expect(left.items).toHaveLength(withCookie.items.length - 1);
    const stillIn = await Promise.all(others.map(async ({ cookie }) => (await page(cookie)).status));
    expect(stillIn.sort()).toEqual([200, 302]);

    const unknown = await api('/api/sessions/no-such-session', { method: 'DELETE', token: TEST_TOKEN });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toBe('application/problem+json');
    expect((await api('/api/sessions', {})).status).toBe(401);
    // a change with the session cookie needs the CSRF header, as every API change does
    expect((await api(`/api/sessions/${current[0]!.id}`, { method: 'DELETE', cookie: mine.cookie })).status).toBe(403);
  });

  it('documents the sessions API with Bearer or Session security', async () => {
    const doc = (await (await proxied.request('/api/openapi.json')).json()) as { paths: Record<string, Record<string, { security?: unknown; responses: Record<string, unknown> }>> };
    expect(doc.paths['/api/sessions']?.get?.security).toEqual([{ Bearer: [] }, { Session: [] }]);
    expect(Object.keys(doc.paths['/api/sessions/{id}']?.delete?.responses ?? {})).toEqual(expect.arrayContaining(['204', '404']));
  });

  it('ends every session when the configured tokens change', async () => {
    const { cookie } = await signIn();
    expect((await page(cookie, createApp({ ...deps }))).status).toBe(200); // another process configured alike
    const rotated = createApp({ ...deps, apiTokens: ['a-new-token'] });
    expect((await page(cookie, rotated)).status).toBe(302);
    expect((await api('/api/groups', { cookie, app: rotated })).status).toBe(401);
    const listed = (await (await api('/api/sessions?limit=1000', { token: 'a-new-token', app: rotated })).json()) as { items: unknown[] };
    expect(listed.items).toEqual([]);
  });

  it('revokes from the Sessions page with the form token', async () => {
    const { cookie } = await signIn();
    const other = await signIn();
    const html = await (await page(cookie, proxied, '/sessions')).text();
    expect(html).toContain('<h1>Sessions</h1>');
    const actions = [...html.matchAll(/action="\/sessions\/([^"]+)\/revoke"/g)].map((match) => match[1]!);
    expect(actions.length).toBeGreaterThanOrEqual(2);
    const listed = (await (await api('/api/sessions?limit=1000', { cookie: other.cookie })).json()) as { items: { id: string; current: boolean }[] };
    const target = listed.items.find((item) => item.current)!.id;
    expect(actions).toContain(target);

    const form = (body: Record<string, string>) =>
      proxied.request(`/sessions/${target}/revoke`, { method: 'POST', headers: { cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body) });
    expect((await form({})).status).toBe(403);
    expect((await page(other.cookie)).status).toBe(200);
    const done = await form({ _csrf: await csrfTokenOf(cookie) });
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe('/sessions');
    expect((await page(other.cookie)).status).toBe(302);
    expect((await page(cookie)).status).toBe(200);
  });
});

describe('throttling wrong tokens per client address', () => {
  it('answers 429 with Retry-After past 10 wrong bearer tokens, for that address only', async () => {
    const address = freshAddress();
    for (let i = 0; i < 10; i++) expect((await api('/api/groups', { token: `wrong-${i}`, address })).status).toBe(401);
    const refused = await api('/api/groups', { token: 'wrong-again', address });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toBe('application/problem+json');
    expect(await refused.json()).toMatchObject({ status: 429, title: 'Too many requests' });
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // the right token from there waits too; from elsewhere it works, and counts start afresh
    expect((await api('/api/groups', { token: TEST_TOKEN, address })).status).toBe(429);
    const elsewhere = freshAddress();
    expect((await api('/api/groups', { token: TEST_TOKEN, address: elsewhere })).status).toBe(200);
    expect((await api('/api/groups', { token: 'wrong', address: elsewhere })).status).toBe(401);
    // a missing token is not a guess
    expect((await api('/api/groups', { address: freshAddress() })).status).toBe(401);
  });

  it('throttles sign-in with a message on the page, counting wrong bearer tokens from the same address', async () => {
    const address = freshAddress();
    const signin = (token: string) =>
      proxied.request('/signin', {
        method: 'POST',
        headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': address },
        body: new URLSearchParams({ token, next: '/groups' }),
      });
    for (let i = 0; i < 5; i++) expect((await api('/api/groups', { token: `wrong-${i}`, address })).status).toBe(401);
    for (let i = 0; i < 5; i++) expect((await signin(`wrong-${i}`)).status).toBe(401);
    const refused = await signin(TEST_TOKEN);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.headers.get('set-cookie')).toBeNull();
    expect(await refused.text()).toMatch(/Too many wrong tokens from this address\. Try again in \d+ seconds\./);
    expect((await api('/api/groups', { token: TEST_TOKEN, address })).status).toBe(429);
  });

  it('takes the address from the socket, not a header, unless told to trust the proxy', async () => {
    const app = createApp({ ...deps, trustProxy: false });
    const { port } = await serveApp(app);
    const call = (token: string, spoofed: string) => fetch(`http://127.0.0.1:${port}/api/groups`, { headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': spoofed } });
    for (let i = 0; i < 10; i++) expect((await call('wrong', `198.51.100.${i}`)).status).toBe(401);
    expect((await call('wrong', '198.51.100.200')).status).toBe(429);
    // in-process requests have no socket: a separate count
    expect((await app.request('/api/groups', { headers: { authorization: `Bearer ${TEST_TOKEN}` } })).status).toBe(200);
  });

  it('forgets failures once they leave the window', async () => {
    const { createThrottle } = await import('../../src/auth/throttle.js');
    let now = 1_000_000;
    const throttle = createThrottle({ maxFailures: 3, windowMs: 60_000 }, () => now);
    for (let i = 0; i < 3; i++) {
      expect(throttle.retryAfter('a')).toBe(0);
      throttle.fail('a');
      now += 10_000;
    }
    expect(throttle.retryAfter('a')).toBe(30); // the first failure leaves the window at +60 s
    expect(throttle.retryAfter('b')).toBe(0);
    now += 29_000;
    expect(throttle.retryAfter('a')).toBe(1);
    now += 1_000;
    expect(throttle.retryAfter('a')).toBe(0);
    throttle.fail('a');
    expect(throttle.retryAfter('a')).toBe(10);
  });
});

describe('/readyz', () => {
  function capturingLogger() {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()));
        done();
      },
    });
    return { lines, logger: pino({ level: 'warn' }, stream) };
  }

  it('says which dependency is down without the error text, and logs why', async () => {
    expect(await (await proxied.request('/readyz')).json()).toEqual({ status: 'ready', database: 'ok', temporal: 'ok' });

    const ended = createSql(stack.databaseUrl, { max: 1 });
    await ended.end();
    const closedPort = await freePort();
    // no retry interceptor: a retry still scheduled when the connection closes at cleanup would throw from its timer
    const nowhere = new Client({ connection: Connection.lazy({ address: `127.0.0.1:${closedPort}`, connectTimeout: 1000, interceptors: [] }), namespace: 'default' });
    onCleanup(() => nowhere.connection.close());
    const cases = [
      [{ sql: ended }, { status: 'unavailable', database: 'down', temporal: 'ok' }, 'database'],
      [{ temporal: nowhere }, { status: 'unavailable', database: 'ok', temporal: 'down' }, 'temporal'],
    ] as const;
    for (const [override, expected, dependency] of cases) {
      const { lines, logger: captured } = capturingLogger();
      const app = createApp({ ...deps, ...override, logger: captured });
      const answer = await app.request('/readyz');
      expect(answer.status).toBe(503);
      const text = await answer.text();
      expect(JSON.parse(text)).toEqual(expected);
      expect(text).not.toMatch(/unreachable|error|ECONN|ended/i);
      await new Promise((resolve) => setImmediate(resolve));
      expect(lines).toEqual([expect.objectContaining({ level: 40, dependency, msg: 'readiness check failed', err: expect.objectContaining({ message: expect.any(String) }) })]);
    }
  });
});

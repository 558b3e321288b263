import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { createSql } from '../../src/db/client.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { onCleanup, TEST_TOKEN, testStack, type TestStack } from '../support/stack.js';

let stack: TestStack;
let proxy: TcpProxy;
let app: ReturnType<typeof createApp>;
beforeAll(async () => {
  stack = await testStack({ worker: false });
  const database = new URL(stack.databaseUrl);
  proxy = await startTcpProxy(database.host);
  const throughProxy = new URL(stack.databaseUrl);
  throughProxy.host = proxy.address;
  const sql = createSql(throughProxy.toString(), { max: 2 });
  onCleanup(() => sql.end({ timeout: 1 }));
  app = createApp({ ...stack.deps, sql });
});

const request = (path: string, init: RequestInit = {}) =>
  app.request(path, { ...init, headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json', ...init.headers } });

describe('the database stopped', () => {
  it('makes the API answer 503 with Retry-After, not 500, and /readyz say the database is down; it answers again once it is back', async () => {
    expect((await request('/api/groups')).status).toBe(200);
    const group = (await stack.api('POST', '/api/groups', { json: { name: 'Stocked' } })).body;
    await stack.api('POST', `/api/groups/${group.id}/codes`, { text: 'STOCK-1\nSTOCK-2' });
    const issue = () => request(`/api/groups/${group.id}/issue`, { method: 'POST', body: JSON.stringify({ customerId: 'outage-1' }) });
    await proxy.stop();

    const listed = await request('/api/groups');
    expect(listed.status).toBe(503);
    expect(listed.headers.get('retry-after')).toBe('5');
    expect(await listed.json()).toMatchObject({ status: 503, title: 'Service unavailable', detail: expect.stringContaining('database is unavailable') });
    const created = await request('/api/groups', { method: 'POST', body: JSON.stringify({ name: 'During the outage' }) });
    expect(created.status).toBe(503);
    // a batch of direct issues is one pipelined transaction on a reserved connection: refused the same way
    expect((await issue()).status).toBe(503);
    const ready = await app.request('/readyz');
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ database: 'down', temporal: 'ok' });

    await proxy.start();
    expect((await request('/api/groups')).status).toBe(200);
    expect(await (await issue()).json()).toEqual({ code: expect.stringMatching(/^STOCK-/), kind: 'initial' });
    expect((await stack.api('GET', `/api/groups/${group.id}`)).body).toMatchObject({ active: 1, issued: 1 });
    expect((await stack.api('GET', '/api/groups')).body.items.map((group: { name: string }) => group.name)).not.toContain('During the outage');
  });
});

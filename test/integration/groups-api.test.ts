import { beforeAll, describe, expect, it } from 'vitest';
import { testStack, type TestStack } from '../support/stack.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await testStack({ maxBodyBytes: 64 * 1024 });
});

const createGroup = async (name: string, extra: Record<string, unknown> = {}) => {
  const answer = await stack.api('POST', '/api/groups', { json: { name, ...extra } });
  expect(answer.status, answer.text).toBe(201);
  return answer.body;
};

const expectProblem = (answer: { status: number; headers: Headers; body: any }, status: number, path?: string) => {
  expect(answer.status).toBe(status);
  expect(answer.headers.get('content-type')).toBe('application/problem+json');
  expect(answer.body).toMatchObject({ status, title: expect.any(String), detail: expect.any(String), type: expect.any(String) });
  if (path) expect(answer.body.errors.map((e: { path: string }) => e.path)).toContain(path);
};

describe('auth', () => {
  it('refuses a missing or wrong token with 401 problem', async () => {
    expectProblem(await stack.api('GET', '/api/groups', { token: null }), 401);
    expectProblem(await stack.api('GET', '/api/groups', { token: 'wrong' }), 401);
  });

  it('serves the OpenAPI document and the docs without a token', async () => {
    const doc = await stack.api('GET', '/api/openapi.json', { token: null });
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/api/groups', '/api/groups/{id}', '/api/groups/{id}/codes']));
    expect(Object.keys(doc.body.components.securitySchemes)).toEqual(['Bearer', 'Session']);
    expect(doc.body.paths['/api/groups'].get.security).toEqual([{ Bearer: [] }, { Session: [] }]);
    const docs = await stack.api('GET', '/api/docs', { token: null });
    expect(docs.status).toBe(200);
    expect(docs.text).toContain('/api/docs/assets/swagger-ui-dist/swagger-ui-bundle.js');
    expect(docs.text).not.toMatch(/https?:\/\//); // nothing from a CDN
    const script = await stack.api('GET', '/api/docs/assets/swagger-ui-dist/swagger-ui-bundle.js', { token: null });
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    expect((await stack.api('GET', '/api/docs/assets/swagger-ui-dist/package.json', { token: null })).status).toBe(404);
  });

  it('answers health without a token and readiness after checking both backends', async () => {
    expect((await stack.api('GET', '/healthz', { token: null })).status).toBe(200);
    const ready = await stack.api('GET', '/readyz', { token: null });
    expect(ready.body).toEqual({ status: 'ready', database: 'ok', temporal: 'ok' });
  });
});

describe('groups', () => {
  it('creates a group with zero counters and reads it back', async () => {
    const group = await createGroup('  Summer sale ', { description: 'June' });
    expect(group).toMatchObject({ name: 'Summer sale', description: 'June', format: null, total: 0, active: 0, blocked: 0, issued: 0 });
    expect(group.id).toMatch(/^\d+$/);
    expect(new Date(group.createdAt).toISOString()).toBe(group.createdAt);
    expect((await stack.api('GET', `/api/groups/${group.id}`)).body).toEqual(group);
  });

  it('refuses a name taken case-insensitively after trimming with 409', async () => {
    await createGroup('Winter');
    expectProblem(await stack.api('POST', '/api/groups', { json: { name: ' wINTER  ' } }), 409);
  });

  it('refuses empty, over-long and missing names with the field named', async () => {
    expectProblem(await stack.api('POST', '/api/groups', { json: { name: '   ' } }), 400, 'name');
    expectProblem(await stack.api('POST', '/api/groups', { json: { name: 'x'.repeat(201) } }), 400, 'name');
    expectProblem(await stack.api('POST', '/api/groups', { json: {} }), 400, 'name');
    expectProblem(await stack.api('POST', '/api/groups', { json: { name: 'ok', colour: 'red' } }), 400);
  });

  it('refuses a bad format naming its position', async () => {
    const answer = await stack.api('POST', '/api/groups', { json: { name: 'Bad format', format: "A{string('0-9', 4)}}" } });
    expectProblem(answer, 400, 'format');
    expect(answer.body.errors[0].message).toMatch(/position 19/);
  });

  it('refuses malformed JSON with 400 and a wrong content type with 415', async () => {
    expectProblem(await stack.api('POST', '/api/groups', { text: '{"name": ', headers: { 'content-type': 'application/json' } }), 400);
    expectProblem(await stack.api('POST', '/api/groups', { text: 'name=x', headers: { 'content-type': 'application/xml' } }), 415);
  });

  it('refuses a body over the limit with 413, declared or chunked, and takes a chunked one under it', async () => {
    expectProblem(await stack.api('POST', '/api/groups', { json: { name: 'big', description: 'x'.repeat(70 * 1024) } }), 413);
    // a stream goes out chunked, with no Content-Length: the limit counts it as it arrives
    const chunked = (text: string) => ({ body: new Blob([text]).stream(), headers: { 'content-type': 'application/json' } });
    expectProblem(await stack.api('POST', '/api/groups', chunked(JSON.stringify({ name: 'big chunked', description: 'x'.repeat(70 * 1024) }))), 413);
    const small = await stack.api('POST', '/api/groups', chunked(JSON.stringify({ name: 'small chunked' })));
    expect(small.status).toBe(201);
    const names = (await stack.sql<{ name: string }[]>`select name from promo_group where name like '%chunked' or name = 'big'`).map((row) => row.name);
    expect(names).toEqual(['small chunked']);
  });

  it('answers 404 for unknown and malformed ids', async () => {
    for (const id of ['999999', 'abc', '0', '1e3']) {
      expectProblem(await stack.api('GET', `/api/groups/${id}`), 404);
      expectProblem(await stack.api('PATCH', `/api/groups/${id}`, { json: { name: 'x' } }), 404);
      expectProblem(await stack.api('DELETE', `/api/groups/${id}`), 404);
      expectProblem(await stack.api('POST', `/api/groups/${id}/codes`, { json: { codes: ['A'] } }), 404);
      expectProblem(await stack.api('GET', `/api/groups/${id}/codes`), 404);
    }
  });

  it('patches name, description and format', async () => {
    const group = await createGroup('Patch me');
    const answer = await stack.api('PATCH', `/api/groups/${group.id}`, {
      json: { name: 'Patched', description: 'new', format: "P{string('A-Z', 6)}" },
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ id: group.id, name: 'Patched', description: 'new', format: "P{string('A-Z', 6)}" });
    expect(new Date(answer.body.updatedAt) >= new Date(group.updatedAt)).toBe(true);
    await createGroup('Other');
    expectProblem(await stack.api('PATCH', `/api/groups/${group.id}`, { json: { name: 'other' } }), 409);
    expectProblem(await stack.api('PATCH', `/api/groups/${group.id}`, { json: { format: '{oops}' } }), 400, 'format');
    expect((await stack.api('GET', `/api/groups/${group.id}`)).body.name).toBe('Patched');
  });

  it('lists groups with cursor pagination and rejects a forged cursor', async () => {
    for (let i = 0; i < 5; i += 1) await createGroup(`Paged ${i}`);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await stack.api('GET', `/api/groups?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((g: { name: string }) => g.name));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(expect.arrayContaining(['Paged 0', 'Paged 1', 'Paged 2', 'Paged 3', 'Paged 4']));
    expect(new Set(seen).size).toBe(seen.length);
    expectProblem(await stack.api('GET', '/api/groups?cursor=bm9wZQ'), 400, 'cursor');
    expectProblem(await stack.api('GET', '/api/groups?limit=1001'), 400, 'limit');
    expectProblem(await stack.api('GET', '/api/groups?limit=0'), 400, 'limit');
  });

  it('deletes a group: gone from reads, its name free again, its active codes free again', async () => {
    const group = await createGroup('Doomed');
    await stack.api('POST', `/api/groups/${group.id}/codes`, { json: { codes: ['DOOMED-1'] } });
    expect((await stack.api('DELETE', `/api/groups/${group.id}`)).status).toBe(204);
    expectProblem(await stack.api('GET', `/api/groups/${group.id}`), 404);
    const again = await createGroup('doomed');
    const upload = await stack.api('POST', `/api/groups/${again.id}/codes`, { json: { codes: ['DOOMED-1'] } });
    expect(upload.body).toMatchObject({ added: 1, duplicates: 0 });
  });

  it('refuses to delete a group while any code is blocked', async () => {
    const group = await createGroup('Busy');
    await stack.api('POST', `/api/groups/${group.id}/codes`, { json: { codes: ['BUSY-1', 'BUSY-2'] } });
    await stack.sql`update promo_code set status = 'blocked' where code = 'BUSY-1'`;
    expectProblem(await stack.api('DELETE', `/api/groups/${group.id}`), 409);
    expect((await stack.api('GET', `/api/groups/${group.id}`)).body).toMatchObject({ total: 2, active: 1, blocked: 1 });
  });
});

describe('uploading codes', () => {
  it('adds valid new codes and reports duplicates and invalid lines with their line numbers', async () => {
    const other = await createGroup('Elsewhere');
    await stack.api('POST', `/api/groups/${other.id}/codes`, { json: { codes: ['TAKEN-1'] } });
    const group = await createGroup('Pasted');
    const text = ['  CODE-1\t', 'CODE-2\r', '', 'CODE-1', 'has space', 'x'.repeat(65), 'CAFÉ', 'TAKEN-1', 'ctl\u0007', 'CODE-3'].join('\n');
    const answer = await stack.api('POST', `/api/groups/${group.id}/codes`, { text });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      added: 3,
      duplicates: 2,
      invalid: [
        { line: 5, value: 'has space', reason: 'contains whitespace' },
        { line: 6, value: 'x'.repeat(65), reason: 'longer than 64 characters' },
        { line: 7, value: 'CAFÉ', reason: 'contains a non-ASCII character' },
        { line: 9, value: 'ctl\u0007', reason: 'contains a control character' },
      ],
    });
    expect((await stack.api('GET', `/api/groups/${group.id}`)).body).toMatchObject({ total: 3, active: 3, blocked: 0, issued: 0 });
  });

  it('takes JSON { codes } the same way, case-sensitively', async () => {
    const group = await createGroup('Json paste');
    const answer = await stack.api('POST', `/api/groups/${group.id}/codes`, { json: { codes: ['abc', 'ABC', ' abc '] } });
    expect(answer.body).toEqual({ added: 2, duplicates: 1, invalid: [] });
  });

  it('refuses more than 100,000 lines and a body without codes, changing nothing', async () => {
    const group = await createGroup('Too many');
    const lines = Array.from({ length: 100_001 }, (_, i) => `L${i}`).join('\n');
    expectProblem(await stack.api('POST', `/api/groups/${group.id}/codes`, { text: lines }), 413);
    const roomy = await testStack({ maxBodyBytes: 10 * 1024 * 1024 });
    const roomyGroup = (await roomy.api('POST', '/api/groups', { json: { name: 'Too many' } })).body;
    expectProblem(await roomy.api('POST', `/api/groups/${roomyGroup.id}/codes`, { text: lines }), 400, 'codes');
    expect((await roomy.api('GET', `/api/groups/${roomyGroup.id}`)).body.total).toBe(0);
    expectProblem(await stack.api('POST', `/api/groups/${group.id}/codes`, { json: {} }), 400, 'codes');
    expectProblem(await stack.api('POST', `/api/groups/${group.id}/codes`, { json: { codes: 'A' } }), 400, 'codes');
  });

  it('keeps counters equal to the rows under concurrent uploads into one group', async () => {
    const group = await createGroup('Racing');
    const batches = Array.from({ length: 8 }, (_, b) => Array.from({ length: 500 }, (_, i) => `RACE-${(b * 250 + i) % 2500}`));
    const reports = await Promise.all(batches.map((codes) => stack.api('POST', `/api/groups/${group.id}/codes`, { json: { codes } })));
    const added = reports.reduce((sum, r) => sum + r.body.added, 0);
    expect(added).toBe(new Set(batches.flat()).size);
    const [counts] = await stack.sql`select count(*)::int as n from promo_code where group_id = ${group.id}`;
    expect((await stack.api('GET', `/api/groups/${group.id}`)).body).toMatchObject({ total: counts!.n, active: counts!.n });
  });
});

describe('listing codes', () => {
  it('pages through codes by status and exports CSV', async () => {
    const group = await createGroup('Listed');
    await stack.api('POST', `/api/groups/${group.id}/codes`, { json: { codes: ['L-1', 'L-2', 'L-3', 'L,"4"'] } });
    await stack.sql`update promo_code set status = 'issued', customer_id = 'cust-1', issued_at = now() where code = 'L-2'`;
    const first = await stack.api('GET', `/api/groups/${group.id}/codes?limit=2`);
    expect(first.body.items.map((c: { code: string }) => c.code)).toEqual(['L-1', 'L-3']);
    const second = await stack.api('GET', `/api/groups/${group.id}/codes?limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body.items).toEqual([
      { code: 'L,"4"', status: 'active' },
      { code: 'L-2', status: 'issued', customerId: 'cust-1', issuedAt: expect.any(String) },
    ]);
    expect(second.body.nextCursor).toBeNull();
    const issued = await stack.api('GET', `/api/groups/${group.id}/codes?status=issued`);
    expect(issued.body.items.map((c: { code: string }) => c.code)).toEqual(['L-2']);
    expectProblem(await stack.api('GET', `/api/groups/${group.id}/codes?status=lost`), 400, 'status');

    const csv = await stack.api('GET', `/api/groups/${group.id}/codes`, { headers: { accept: 'text/csv' } });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = csv.text.trimEnd().split('\r\n');
    expect(lines[0]).toBe('code,status,customerId,issuedAt');
    expect(lines.slice(1, 4)).toEqual(['L-1,active,,', 'L-3,active,,', '"L,""4""",active,,']);
    expect(lines[4]).toMatch(/^L-2,issued,cust-1,\d{4}-/);
  });
});

import http from 'node:http';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AppDeps } from '../../src/api/router.js';
import { jobRoutes } from '../../src/api/routes/jobs.js';
import { createGenerationJob } from '../../src/db/generation.js';
import { createMailing } from '../../src/db/mailings.js';
import { compileFormat } from '../../src/domain/format.js';
import { cancelMailing } from '../../src/temporal/cancel-mailing.js';
import { serveStack } from '../support/http-server.js';
import { eventually, groupWithCodes, numberedCodes, TEST_TOKEN, testStack, type ApiAnswer, type TestStack } from '../support/stack.js';

const NUL = 'must not contain a NUL character';
const SURROGATE = 'must be valid Unicode (a lone surrogate)';

let stack: TestStack;
beforeAll(async () => {
  stack = await testStack();
});

function expectRefusal(answer: ApiAnswer, status: number, errors?: { path: string; message: string }[]) {
  expect(answer.status, answer.text).toBe(status);
  expect(answer.headers.get('content-type')).toBe('application/problem+json');
  expect(answer.body.status).toBe(status);
  if (errors) expect(answer.body.errors).toEqual(errors);
}

describe('text PostgreSQL cannot store', () => {
  it('is a 400 naming the field, in any JSON body, and changes nothing', async () => {
    expectRefusal(await stack.api('POST', '/api/groups', { json: { name: 'a\u0000b' } }), 400, [{ path: 'name', message: NUL }]);
    expectRefusal(await stack.api('POST', '/api/groups', { json: { name: 'Lone', description: 'x\ud800y' } }), 400, [{ path: 'description', message: SURROGATE }]);
    expect((await stack.api('GET', '/api/groups')).body.items).toEqual([]);

    const group = await groupWithCodes(stack, 'Edges', numberedCodes('EDGE', 5));
    expectRefusal(await stack.api('PATCH', `/api/groups/${group.id}`, { json: { description: '\udc00' } }), 400, [{ path: 'description', message: SURROGATE }]);
    expectRefusal(await stack.api('POST', `/api/groups/${group.id}/issue`, { json: { customerId: 'c-1', idempotencyKey: 'k\u0000' } }), 400, [{ path: 'idempotencyKey', message: NUL }]);
    expectRefusal(await stack.api('POST', `/api/groups/${group.id}/issue`, { json: { customerId: 'c\u0000' } }), 400, [{ path: 'customerId', message: NUL }]);
    expect((await stack.api('GET', `/api/groups/${group.id}`)).body).toMatchObject({ description: '', active: 5, issued: 0 });

    expectRefusal(await stack.api('PUT', '/api/customers/c-1', { json: { attributes: { x: 'a\u0000' } } }), 400, [{ path: 'attributes.x', message: NUL }]);
    expectRefusal(await stack.api('PUT', '/api/customers/c-1', { json: { attributes: { 'a\u0000b': 1 } } }), 400, [{ path: 'attributes.a\\u0000b', message: `the key ${NUL}` }]);
    expectRefusal(await stack.api('PUT', '/api/customers/c-1', { json: { attributes: { ['k\ud800']: 1 } } }), 400, [{ path: 'attributes.k\\ud800', message: `the key ${SURROGATE}` }]);
    expect((await stack.api('GET', '/api/customers/c-1')).status).toBe(404);

    const recipients = Array.from({ length: 5 }, (_, i) => ({ customerId: `r-${i}`, ...(i === 3 && { attributes: { x: 'bad\u0000' } }) }));
    const mailing = { name: 'Edges', channel: { type: 'log' }, template: { body: 'Hi {{ client.promocode("Edges") }}' }, recipients };
    expectRefusal(await stack.api('POST', '/api/mailings', { json: mailing }), 400, [{ path: 'recipients.3.attributes.x', message: NUL }]);
    expectRefusal(await stack.api('POST', '/api/mailings', { json: { ...mailing, recipients: undefined, name: 'N\u0000' } }), 400, [{ path: 'name', message: NUL }]);
    expectRefusal(await stack.api('POST', '/api/mailings', { json: { ...mailing, recipients: undefined, template: { body: 'Hi \ud800' } } }), 400, [{ path: 'template.body', message: SURROGATE }]);
    expectRefusal(await stack.api('POST', '/api/templates/check', { json: { template: { body: '\u0000' } } }), 400, [{ path: 'template.body', message: NUL }]);
    expect((await stack.api('GET', '/api/mailings')).body.items).toEqual([]);

    expectRefusal(await stack.api('POST', '/api/segments/query', { json: { filter: { issuedFromGroup: { group: 'Ed\u0000ges' } } } }), 400, [{ path: 'filter.issuedFromGroup.group', message: NUL }]);
    // the body stays readable by the route after the check
    expect((await stack.api('POST', '/api/segments/query', { json: { filter: { issuedFromGroup: { group: 'Edges' } } } })).status).toBe(200);
  });

  it('is a 400 in a path segment or a query parameter', async () => {
    expectRefusal(await stack.api('GET', '/api/customers/a%00b'), 400, [{ path: 'id', message: NUL }]);
    expectRefusal(await stack.api('PUT', '/api/customers/a%00b', { json: { attributes: {} } }), 400, [{ path: 'id', message: NUL }]);
    expectRefusal(await stack.api('GET', '/api/customers/a%00b/promocodes'), 400, [{ path: 'id', message: NUL }]);
    expectRefusal(await stack.api('GET', '/api/jobs?groupId=1%00'), 400, [{ path: 'groupId', message: NUL }]);
    expectRefusal(await stack.api('GET', '/api/groups?cursor=%00'), 400, [{ path: 'cursor', message: NUL }]);
  });

  it('is a 400 from the app served over HTTP too, which still reads a clean body', async () => {
    const base = await serveStack(stack);
    const post = (body: unknown) => fetch(`${base}/api/groups`, { method: 'POST', headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(body) });
    const refused = await post({ name: 'Served\u0000' });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { errors: unknown }).errors).toEqual([{ path: 'name', message: NUL }]);
    const created = await post({ name: 'Served', description: 'fine' });
    expect(created.status, await created.clone().text()).toBe(201);
    expect(await created.json()).toMatchObject({ name: 'Served', description: 'fine' });
  });

  it('is an invalid line of an NDJSON upload, and a paste reports it as an invalid code', async () => {
    const draft = await stack.api('POST', '/api/mailings', { json: { name: 'Draft', channel: { type: 'log' }, template: { body: 'Hi' } } });
    expect(draft.status, draft.text).toBe(202);
    const lines = [
      JSON.stringify({ customerId: 'n-1' }),
      JSON.stringify({ customerId: 'n-2', attributes: { x: 'a\u0000' } }),
      JSON.stringify({ customerId: 'n\ud800' }),
      JSON.stringify({ customerId: 'n-3', attributes: { 'k\u0000': 1 } }),
      '{"customerId":"n-4\u0000"}',
    ].join('\n');
    const added = await stack.api('POST', `/api/mailings/${draft.body.id}/recipients`, { text: lines, headers: { 'content-type': 'application/x-ndjson' } });
    expect(added.status, added.text).toBe(200);
    expect(added.body).toMatchObject({ added: 1, duplicates: 0 });
    expect(added.body.invalid.map((line: { line: number; reason: string }) => [line.line, line.reason])).toEqual([
      [2, `attributes.x: ${NUL}`],
      [3, `customerId: ${SURROGATE}`],
      [4, `attributes.k\\u0000: the key ${NUL}`],
      [5, 'not a JSON object'], // a raw control character is no JSON
    ]);

    const group = await groupWithCodes(stack, 'Paste', []);
    const paste = await stack.api('POST', `/api/groups/${group.id}/codes`, { text: 'GOOD-1\nBAD\u0000X\n' });
    expect(paste.status, paste.text).toBe(200);
    expect(paste.body).toMatchObject({ added: 1, invalid: [{ line: 2, reason: 'contains a control character' }] });
    expectRefusal(await stack.api('POST', `/api/groups/${group.id}/codes`, { json: { codes: ['GOOD-2', 'BAD\u0000'] } }), 400, [{ path: 'codes.1', message: NUL }]);
  });
});

describe('the docs assets', () => {
  it('are a 404 for a name an object inherits', async () => {
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      const answer = await stack.api('GET', `/api/docs/assets/swagger-ui-dist/${name}`, { token: null });
      expect(answer.status, name).toBe(404);
    }
    expect((await stack.api('GET', '/api/docs/assets/swagger-ui-dist/swagger-ui.css', { token: null })).status).toBe(200);
  });
});

describe('cancelling a mailing or job whose workflow is missing', () => {
  const template = { body: 'Hi {{ client.promocode("Unstarted") }}' };

  it('ends a mailing whose workflow never started as cancelled', async () => {
    await groupWithCodes(stack, 'Unstarted', numberedCodes('UNST', 5));
    const { mailing } = await createMailing(stack.sql, {
      publicId: 'never-started',
      name: 'Never started',
      channel: { type: 'log' },
      template,
      recipients: [{ customerId: 'u-1' }, { customerId: 'u-2' }],
    });
    expect(mailing.status).toBe('reserving');
    const cancelled = await stack.api('POST', '/api/mailings/never-started/cancel');
    expect(cancelled.status, cancelled.text).toBe(202);
    expect(cancelled.body).toMatchObject({ id: 'never-started', status: 'cancelled' });
    expectRefusal(await stack.api('POST', '/api/mailings/never-started/cancel'), 409);
  });

  it('answers 409 for a mailing whose workflow completed between the read and the cancel', async () => {
    await createMailing(stack.sql, { publicId: 'raced', name: 'Raced', channel: { type: 'log' }, template, recipients: [{ customerId: 'u-3' }] });
    const temporal = {
      workflow: {
        getHandle: () => ({
          // cancelling a workflow that has closed is accepted and does nothing
          cancel: async () => {
            await stack.sql`update mailing set status = 'completed', finished_at = now() where public_id = 'raced'`;
          },
          describe: async () => ({ status: { name: 'COMPLETED' } }),
        }),
      },
    } as unknown as Client;
    await expect(cancelMailing({ sql: stack.sql, temporal }, 'raced')).rejects.toThrow(/is completed already/);
  });

  it('ends a job whose workflow never started, or was terminated, as cancelled', async () => {
    const group = await groupWithCodes(stack, 'Jobs', [], { format: "EDG-{string('A-Z', 12)}" });
    const { job } = await createGenerationJob(stack.sql, { groupId: group.id, requested: 10, format: compileFormat("EDG-{string('A-Z', 12)}"), maxLanes: 1 });
    const cancelled = await stack.api('POST', `/api/jobs/${job.id}/cancel`);
    expect(cancelled.status, cancelled.text).toBe(202);
    expect(cancelled.body).toMatchObject({ id: job.id, status: 'cancelled' });
    expectRefusal(await stack.api('POST', `/api/jobs/${job.id}/cancel`), 409);

    const running = (await stack.api('POST', `/api/groups/${group.id}/generations`, { json: { quantity: 1_000_000 } })).body;
    await eventually(async () => (await stack.api('GET', `/api/jobs/${running.id}`)).body.added > 0 || undefined);
    await stack.temporal.workflow.getHandle(running.workflowId ?? `generate-${running.id}`).terminate('operator');
    const afterTerminate = await stack.api('POST', `/api/jobs/${running.id}/cancel`);
    expect(afterTerminate.status, afterTerminate.text).toBe(202);
    expect(afterTerminate.body.status).toBe('cancelled');
  });

  it('answers 409 for a job whose workflow completed between the read and the cancel', async () => {
    const group = await groupWithCodes(stack, 'Raced job', [], { format: "EDR-{string('A-Z', 12)}" });
    const { job } = await createGenerationJob(stack.sql, { groupId: group.id, requested: 10, format: compileFormat("EDR-{string('A-Z', 12)}"), maxLanes: 1 });
    const temporal = {
      workflow: {
        getHandle: (workflowId: string) => ({
          cancel: async () => {
            await stack.sql`update job set status = 'completed', finished_at = now() where id = ${job.id}`;
            throw new WorkflowNotFoundError('workflow execution already completed', workflowId, undefined);
          },
          describe: async () => ({ status: { name: 'COMPLETED' } }),
        }),
      },
    } as unknown as Client;
    const app = jobRoutes({ sql: stack.sql, temporal } as unknown as AppDeps);
    app.onError((error, c) => c.json({ message: error.message, name: error.constructor.name }, 500));
    const answer = await app.request(`/jobs/${job.id}/cancel`, { method: 'POST' });
    expect(await answer.json()).toMatchObject({ name: 'ConflictError', message: expect.stringMatching(/is completed already/) });
  });
});

describe('a method a declared path does not take', () => {
  it('is a 405 naming the methods it takes; an unknown path stays a 404', async () => {
    const cases: [string, string, string][] = [
      ['PUT', '/api/groups', 'GET, HEAD, POST'],
      ['DELETE', '/api/mailings', 'GET, HEAD, POST'],
      ['POST', '/api/groups/1', 'DELETE, GET, HEAD, PATCH'],
      ['GET', '/api/mailings/m-1/cancel', 'POST'],
    ];
    for (const [method, path, allow] of cases) {
      const answer = await stack.api(method, path);
      expectRefusal(answer, 405);
      expect(answer.headers.get('allow'), `${method} ${path}`).toBe(allow);
    }
    // fetch refuses to send TRACE: over a socket to the app served as in production
    const base = new URL(await serveStack(stack));
    const trace = await new Promise<{ status: number; allow: string | undefined; type: string | undefined }>((resolve, reject) => {
      const request = http.request({ host: base.hostname, port: base.port, path: '/api/groups', method: 'TRACE', headers: { authorization: `Bearer ${TEST_TOKEN}` } }, (response) => {
        response.resume();
        response.on('end', () => resolve({ status: response.statusCode ?? 0, allow: response.headers.allow, type: response.headers['content-type'] }));
      });
      request.on('error', reject);
      request.end();
    });
    expect(trace).toEqual({ status: 405, allow: 'GET, HEAD, POST', type: 'application/problem+json' });

    expectRefusal(await stack.api('GET', '/api/nothing-here'), 404);
    expectRefusal(await stack.api('DELETE', '/api/nothing/here'), 404);
    // a declared method whose handler finds nothing is still a 404
    expectRefusal(await stack.api('GET', '/api/groups/999999'), 404);
  });
});

describe("a mailing's own id", () => {
  it('is refused when it is a dot segment, which no path could name (found by the OpenAPI fuzzer)', async () => {
    for (const id of ['.', '..', '.hidden']) {
      const answer = await stack.api('POST', '/api/mailings', { json: { id, name: 'Dots', channel: { type: 'log' }, template: { body: 'hi' } } });
      expectRefusal(answer, 400);
      expect(answer.body.errors.map((error: { path: string }) => error.path)).toEqual(['id']);
    }
    expect(await stack.sql`select public_id from mailing where public_id like '.%'`).toEqual([]);
  });
});

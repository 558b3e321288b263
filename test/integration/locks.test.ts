import http from 'node:http';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { createSql } from '../../src/db/client.js';
import { serveApp } from '../support/http-server.js';
import { expectLifecycleInvariants } from '../support/invariants.js';
import { eventually, groupWithCodes, mailingEnded, numberedCodes, onCleanup, TEST_TOKEN, testStack, type TestStack } from '../support/stack.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await testStack({ env: { PROMO_MAILING_BATCH_SIZE: '100' } });
});

const ended = (id: string) => mailingEnded(stack, id);

const ndjson = (ids: string[], extra: (id: string) => Record<string, unknown> = () => ({})) =>
  ids.map((customerId) => JSON.stringify({ customerId, ...extra(customerId) })).join('\n');

describe('NDJSON recipient uploads commit in chunks', () => {
  it('commits each chunk on its own (the draft is not held locked), reports the whole request, and a retry counts what was kept as duplicates', async () => {
    const draft = (await stack.api('POST', '/api/mailings', { json: { name: 'Chunked', channel: { type: 'log' }, template: { body: 'hi' } } })).body;
    const encoder = new TextEncoder();
    let push!: (text: string) => void;
    let close!: () => void;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        push = (text) => controller.enqueue(encoder.encode(text));
        close = () => controller.close();
      },
    });
    const first = Array.from({ length: 5001 }, (_, i) => `chunk-${i}`);
    const rest = Array.from({ length: 999 }, (_, i) => `chunk-${5001 + i}`);
    const part1 = `${ndjson(first)}\nnot json\n`;
    const part2 = `${ndjson(rest)}\n${JSON.stringify({ customerId: 'chunk-0' })}\n`;
    // with its length declared, the body streams through the body limit (which buffers one of unknown length)
    const headers = { 'content-type': 'application/x-ndjson', 'content-length': String(Buffer.byteLength(part1 + part2)) };
    const answer = stack.api('POST', `/api/mailings/${draft.id}/recipients`, { body, headers });
    push(part1);
    // the first chunk is committed while the request is still under way, and the draft's row is free
    await eventually(async () => {
      const [row] = await stack.sql<{ n: number }[]>`
        select count(*)::int as n from mailing_recipient r join mailing m on m.id = r.mailing_id where m.public_id = ${draft.id}`;
      return row!.n >= 5000;
    }, 20_000);
    await stack.sql.begin(async (tx) => {
      await tx`set local lock_timeout = '2s'`;
      await tx`select id from mailing where public_id = ${draft.id} for update`;
    });
    push(part2);
    close();
    const report = await answer;
    expect(report.status, report.text).toBe(200);
    expect(report.body).toMatchObject({ added: 6000, duplicates: 1, invalid: [{ line: 5002, reason: 'not a JSON object' }] });

    const retry = await stack.api('POST', `/api/mailings/${draft.id}/recipients`, { text: ndjson([...first, 'chunk-new']), headers: { 'content-type': 'application/x-ndjson' } });
    expect(retry.body).toMatchObject({ added: 1, duplicates: 5001, invalid: [] });
    expect((await stack.api('GET', `/api/mailings/${draft.id}`)).body.recipients).toBe(6001);
  });

  it('documents that a failed request keeps the chunks it committed', async () => {
    const doc = (await stack.api('GET', '/api/openapi.json', { token: null })).body;
    const description: string = doc.paths['/api/mailings/{id}/recipients'].post.description;
    expect(description).toMatch(/keeps the chunks it committed/);
    expect(description).toMatch(/duplicates/);
    expect(description).not.toMatch(/or, if it fails, nothing/);
  });
});

describe('lock order between customers, groups and mailings', () => {
  it('runs overlapping mailings with reversed customer lists and direct issues at once without a deadlock', async () => {
    const rounds = 3;
    const customers = Array.from({ length: 300 }, (_, i) => `lock-${String(i + 1).padStart(3, '0')}`);
    const reversed = [...customers].reverse();
    // each round: two inline mailings, two drafts fed concurrently, 40 direct issues
    const group = await groupWithCodes(stack, 'Overlap', numberedCodes('Overlap', rounds * (4 * 300 + 40), 6));
    const template = { body: '{{ client.promocode("Overlap") }}' };
    const mailingIds: string[] = [];
    for (let round = 0; round < rounds; round += 1) {
      const attributes = (id: string) => ({ attributes: { round, mark: `${id}-${round}` } });
      const inline = (name: string, ids: string[]) =>
        stack.api('POST', '/api/mailings', { json: { name, channel: { type: 'log' }, template, recipients: ids.map((customerId) => ({ customerId, ...attributes(customerId) })) } });
      const fedDraft = async (name: string, ids: string[]) => {
        const draft = await stack.api('POST', '/api/mailings', { json: { name, channel: { type: 'log' }, template } });
        if (draft.status !== 202) return draft;
        const fed = await stack.api('POST', `/api/mailings/${draft.body.id}/recipients`, { text: ndjson(ids, attributes), headers: { 'content-type': 'application/x-ndjson' } });
        if (fed.status !== 200) return fed;
        return stack.api('POST', `/api/mailings/${draft.body.id}/start`);
      };
      const issues = Array.from({ length: 40 }, (_, i) =>
        stack.api('POST', `/api/groups/${group.id}/issue`, { json: { customerId: customers[(i * 37 + round * 11) % customers.length] } }),
      );
      const answers = await Promise.all([
        inline(`A${round}`, customers),
        inline(`B${round}`, reversed),
        fedDraft(`C${round}`, reversed),
        fedDraft(`D${round}`, customers),
        ...issues,
      ]);
      for (const answer of answers) expect(answer.status, answer.text).toBeLessThan(300);
      mailingIds.push(...answers.slice(0, 4).map((answer) => answer.body.id as string));
    }
    for (const id of mailingIds) expect(await ended(id)).toMatchObject({ status: 'completed', recipients: 300, sent: 300, pending: 0 });
    const [customer] = await stack.sql<{ attributes: { round: number } }[]>`select attributes from customer where id = 'lock-150'`;
    expect(customer!.attributes.round).toBe(rounds - 1);
    await expectLifecycleInvariants(stack.sql);
  });
});

describe('a slow CSV reader does not starve the connection pool', () => {
  it('answers other requests promptly while two exports are read very slowly, with a pool of 2', async () => {
    const group = await groupWithCodes(stack, 'Export slowly');
    await stack.sql`
      insert into promo_code (group_id, code)
      select ${group.id}, 'EXPORT-SLOW-READER-PADDING-' || lpad(n::text, 12, '0') from generate_series(1, 150000) n`;
    await stack.sql`analyze promo_code`;

    // stopped newest first: the readers, then the server, then the pool
    const sql = createSql(stack.databaseUrl, { max: 2 });
    onCleanup(() => sql.end({ timeout: 5 }));
    const { port } = await serveApp(createApp({ ...stack.deps, sql }));
    const requests: http.ClientRequest[] = [];
    onCleanup(async () => {
      for (const request of requests) request.destroy();
    });

    // a client that takes the answer's head and then never reads
    const slowExport = () =>
      new Promise<http.IncomingMessage>((resolve, reject) => {
        const request = http.get(
          { host: '127.0.0.1', port, path: `/api/groups/${group.id}/codes`, headers: { authorization: `Bearer ${TEST_TOKEN}`, accept: 'text/csv' } },
          (response) => resolve(response),
        );
        request.on('error', reject);
        requests.push(request);
      });
    const exports = [await slowExport(), await slowExport()];
    for (const response of exports) expect(response.statusCode).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 500)); // the server fills the sockets' buffers and waits

    const prompt = async (path: string) => {
      const started = Date.now();
      const answer = await Promise.race([
        fetch(`http://127.0.0.1:${port}${path}`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } }),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${path} waited more than 5 s`)), 5000)),
      ]);
      expect(answer.status).toBe(200);
      await answer.text();
      return Date.now() - started;
    };
    for (let i = 0; i < 5; i += 1) {
      await prompt('/api/groups');
      await prompt(`/api/groups/${group.id}`);
    }
    // the exports are still under way: not everything has been sent
    for (const response of exports) expect(response.complete).toBe(false);
  });
});

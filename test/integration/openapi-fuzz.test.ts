import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { contradictions, documentValidator, type FuzzRequest, type Operation, operationsOf, requestArbitrary } from '../support/openapi-fuzz.js';
import type { JsonSchema } from '../support/schema-arbitrary.js';
import { groupWithCodes, mailingEnded, numberedCodes, TEST_TOKEN, testStack, type TestStack } from '../support/stack.js';
import { startWebhookReceiver } from '../support/webhook-receiver.js';

// A schema-driven fuzzer over /api/openapi.json: for every operation, requests drawn from the
// document (valid ones, and ones broken in one place) go to the real service. No answer may be a
// 5xx, carry a status the document does not declare, contradict its declared schema, accept a
// request the schema refuses, or refuse a schema-valid one for a rule the operation does not
// document in its description.
// FUZZ_RUNS=500 for a longer hunt; the suite runs 40
const RUNS_PER_OPERATION = Number(process.env.FUZZ_RUNS ?? 40);

let stack: TestStack;
let document: JsonSchema;
let validator: ReturnType<typeof documentValidator>;
const ids: Record<string, string[]> = {};

beforeAll(async () => {
  const receiver = await startWebhookReceiver();
  stack = await testStack({ env: { PROMO_WEBHOOK_ALLOW: '127.0.0.1', PROMO_MAILING_BATCH_SIZE: '10' } });
  ids.receiver = [receiver.url];
  document = (await stack.api('GET', '/api/openapi.json', { token: null })).body;
  validator = documentValidator(document);

  const group = await groupWithCodes(stack, 'Fuzz', numberedCodes('FUZZ-', 300), { format: "FZ-{string('A-Z', 8)}" });
  await stack.api('PUT', '/api/customers/fuzz-customer', { json: { attributes: { tier: 'gold' } } });
  const issued = (await stack.api('POST', `/api/groups/${group.id}/issue`, { json: { customerId: 'fuzz-customer' } })).body.code;
  const job = (await stack.api('POST', `/api/groups/${group.id}/generations`, { json: { quantity: 100 } })).body;
  const draft = (await stack.api('POST', '/api/mailings', { json: { id: 'fuzz-draft', name: 'Draft', channel: { type: 'log' }, template: { body: 'hi' } } })).body;
  const sent = (await stack.api('POST', '/api/mailings', {
    json: { id: 'fuzz-sent', name: 'Sent', channel: { type: 'log' }, template: { body: "{{ client.promocode('Fuzz') }}" }, recipients: [{ customerId: 'fuzz-customer' }] },
  })).body;
  await mailingEnded(stack, sent.id);
  Object.assign(ids, { groups: [group.id], jobs: [job.id], mailings: [draft.id, sent.id], customers: ['fuzz-customer'], codes: [issued, 'FUZZ--299'] });
}, 120_000);

/** Rows that exist, so that requests reach past the 404. */
function pathIds(path: string): string[] {
  const resource = /^\/api\/(\w+)\/\{\w+\}/.exec(path)?.[1];
  return (resource && ids[resource]) || [];
}

async function send(request: FuzzRequest) {
  const response = await stack.app.request(request.url, {
    method: request.method,
    headers: { ...(!request.anonymous && { authorization: `Bearer ${TEST_TOKEN}` }), ...(request.contentType && { 'content-type': request.contentType }) },
    ...(request.body !== undefined && { body: request.body }),
  });
  const text = await response.text();
  const contentType = response.headers.get('content-type') ?? '';
  return { status: response.status, contentType, body: /json/.test(contentType) && text ? JSON.parse(text) : text };
}

// deleting and cancelling go last, so that the others still find the rows they use
const ORDER = (operation: Operation) => (operation.method === 'DELETE' ? 2 : /cancel|start/.test(operation.path) ? 1 : 0);

describe('the OpenAPI document, fuzzed against the service', () => {
  it('declares every operation the service answers, with its constraints', () => {
    const operations = operationsOf(document);
    expect(operations.length).toBeGreaterThan(25);
    expect(document.components.schemas.SegmentFilter.oneOf).toHaveLength(6);
  });

  it('keeps every answer to the document', async () => {
    const options = {
      components: document.components.schemas,
      formats: { uri: fc.webPath().map((path) => `${ids.receiver![0]}${path}`) },
      knownValues: { group: ['Fuzz', 'fuzz'], body: ["{{ client.promocode('Fuzz') }}", "{{ client.last_promocode('Fuzz') }} {{ client.attributes.tier }}"], customerId: ['fuzz-customer'] },
      pathIds,
    };
    const operations = operationsOf(document).sort((a, b) => ORDER(a) - ORDER(b));
    const failures: string[] = [];
    for (const operation of operations) {
      const failure = await fc.check(
        fc.asyncProperty(requestArbitrary(operation, options, validator), async (request) => {
          const answer = await send(request);
          const found = contradictions(operation, request, answer, validator, document.components.schemas);
          if (found.length > 0) throw new Error(`${request.method} ${request.url} ${request.body ?? ''}\n→ ${answer.status} ${JSON.stringify(answer.body).slice(0, 500)}\n${found.join('\n')}`);
        }),
        { numRuns: RUNS_PER_OPERATION, endOnFailure: true },
      );
      if (failure.failed) failures.push(String(failure.errorInstance instanceof Error ? failure.errorInstance.message : failure.errorInstance));
    }
    expect(failures).toEqual([]);
  }, 300_000);
});

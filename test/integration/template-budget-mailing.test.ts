// Templates that explode only for some recipients' data pass every static check and reach the
// worker. The worker (in this process, beside the API) must fail just those recipients, send
// the rest, and keep answering: /readyz is asked throughout.
import { beforeAll, describe, expect, it } from 'vitest';
import { expectLifecycleInvariants } from '../support/invariants.js';
import { groupWithCodes, mailingEnded, numberedCodes, testStack, type TestStack } from '../support/stack.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await testStack({ env: { PROMO_MAILING_BATCH_SIZE: '4', PROMO_MAILING_PARALLELISM: '2' } });
});

const TEMPLATE = [
  '{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}',
  `{% if client.bomb == "list" %}{% set a = [1] %}${'{% set a = a + a %}'.repeat(30)}{{ a | length }}{% endif %}`,
  '{% if client.depth %}{{ f(client.depth) }}{% endif %}',
  'Code {{ client.promocode("Bombed") }}',
].join('');

function nested(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = { leaf: 1 };
  for (let i = 1; i < levels; i++) value = { a: value };
  return value;
}

/** Asks /readyz every 50 ms until stopped; answers the slowest answer's time. */
function watchReadiness() {
  let slowest = 0;
  let failures = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      const answer = await stack.app.request('/readyz');
      slowest = Math.max(slowest, performance.now() - started);
      if (answer.status !== 200) failures += 1;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return async () => {
    running = false;
    await loop;
    return { slowest, failures };
  };
}

describe('a mailing whose template explodes for some recipients', () => {
  it('fails those recipients with the budget they exceeded, sends the others, and the service keeps answering', async () => {
    const group = await groupWithCodes(stack, 'Bombed', numberedCodes('BOMBED', 12));
    const check = await stack.api('POST', '/api/templates/check', { json: { template: { body: TEMPLATE } } });
    expect(check.body, 'nothing explodes without recipient data').toMatchObject({ valid: true });
    // stored before attributes were limited at the API
    await stack.sql`insert into customer (id, attributes) values ('deep', ${stack.sql.json({ profile: nested(2000) } as never)})`;

    const stopWatching = watchReadiness();
    const answer = await stack.api('POST', '/api/mailings', {
      json: {
        name: 'Bombs',
        channel: { type: 'log' },
        template: { body: TEMPLATE },
        recipients: [
          ...Array.from({ length: 7 }, (_, i) => ({ customerId: `calm-${i}` })),
          { customerId: 'list-1', attributes: { bomb: 'list' } },
          { customerId: 'list-2', attributes: { bomb: 'list' } },
          { customerId: 'macro-1', attributes: { depth: 40 } },
          { customerId: 'macro-2', attributes: { depth: 40 } },
          { customerId: 'deep' },
        ],
      },
    });
    expect(answer.status, answer.text).toBe(202);
    const done = await mailingEnded(stack, answer.body.id, 60_000);
    const readiness = await stopWatching();

    expect(done).toMatchObject({ status: 'completed', recipients: 12, sent: 7, failed: 5, unknown: 0, pending: 0 });
    const failed = (await stack.api('GET', `/api/mailings/${answer.body.id}/recipients?status=failed`)).body.items;
    const reasons = Object.fromEntries(failed.map((r: { customerId: string; error: string }) => [r.customerId, r.error]));
    for (const id of ['list-1', 'list-2', 'macro-1', 'macro-2']) expect(reasons[id]).toMatch(/^the template failed for this recipient: body: the template exceeded its render budget: /);
    expect(reasons.deep).toMatch(/nested more than 32 levels/);
    expect((await stack.api('GET', `/api/groups/${group.id}`)).body).toMatchObject({ active: 5, blocked: 0, issued: 7 });
    expect(readiness.failures).toBe(0);
    expect(readiness.slowest, '/readyz answered within a second throughout').toBeLessThan(1000);
    await expectLifecycleInvariants(stack.sql);
  });
});

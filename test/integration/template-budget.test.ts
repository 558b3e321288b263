import { beforeAll, describe, expect, it } from 'vitest';
import { testStack, type TestStack } from '../support/stack.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await testStack({ worker: false });
});

const BOMBS = {
  'a list doubled thirty times': `{% set a = [1] %}${'{% set a = a + a %}'.repeat(30)}{{ a | length }}`,
  'a macro calling itself twice per level': '{% macro f(n) %}{% if n > 0 %}{{ f(n-1) }}{{ f(n-1) }}{% endif %}{% endmacro %}{{ f(40) }}',
};

function nested(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = { leaf: 1 };
  for (let i = 1; i < levels; i++) value = { a: value };
  return value;
}
/** the keys below an attribute down to the first object too deep */
const TOO_DEEP = Array.from({ length: 32 }, () => 'a').join('.');

const mailing = (template: Record<string, unknown>, recipients: unknown[] = [{ customerId: 'c-1' }]) => ({
  name: 'Budget',
  channel: { type: 'log' },
  template,
  recipients,
});

describe('POST /api/templates/check', () => {
  it.each(Object.entries(BOMBS))('flags %s as over its render budget', async (_, body) => {
    const answer = await stack.api('POST', '/api/templates/check', { json: { template: { subject: 'Hi', body } } });
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body).toMatchObject({ valid: false, error: { field: 'body', line: 1, column: 1 } });
    expect(answer.body.error.message).toMatch(/^the template exceeded its render budget: /);
  });

  it('names the subject when the subject is the bomb', async () => {
    const answer = await stack.api('POST', '/api/templates/check', { json: { template: { subject: Object.values(BOMBS)[0], body: 'x' } } });
    expect(answer.body).toMatchObject({ valid: false, error: { field: 'subject' } });
  });

  it('passes a template whose errors depend on the recipient', async () => {
    const answer = await stack.api('POST', '/api/templates/check', { json: { template: { body: "{{ client.age + 1 }} {{ client.promocode('Gift') }}" } } });
    expect(answer.body).toEqual({ valid: true, groups: { initial: ['Gift'], repeat: [] } });
  });
});

describe('POST /api/mailings', () => {
  it.each(Object.entries(BOMBS))('refuses %s with a 400 and records nothing', async (_, body) => {
    const answer = await stack.api('POST', '/api/mailings', { json: mailing({ body }) });
    expect(answer.status, answer.text).toBe(400);
    expect(answer.body.errors).toEqual([{ path: 'template.body', message: expect.stringMatching(/^line 1, column 1: the template exceeded its render budget: /) as string }]);
    expect((await stack.api('GET', '/api/mailings')).body.items).toEqual([]);
  });

  it('refuses recipient attributes nested too deep, naming where', async () => {
    const recipients = [{ customerId: 'c-1' }, { customerId: 'c-2', attributes: { fine: nested(32), deep: 'DEEP' } }];
    // too deep for JSON.stringify here
    const text = JSON.stringify(mailing({ body: 'Hi' }, recipients)).replace('"DEEP"', `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`);
    const answer = await stack.api('POST', '/api/mailings', { text, headers: { 'content-type': 'application/json' } });
    expect(answer.status, answer.text).toBe(400);
    expect(answer.body.errors).toEqual([{ path: `recipients.1.attributes.deep.${TOO_DEEP}`, message: 'nested more than 32 levels deep' }]);
    expect((await stack.api('GET', '/api/mailings')).body.items).toEqual([]);
  });

  it('refuses such a recipient line of a draft, and adds the others', async () => {
    const draft = await stack.api('POST', '/api/mailings', { json: { name: 'Draft', channel: { type: 'log' }, template: { body: 'Hi' } } });
    expect(draft.status, draft.text).toBe(202);
    const lines = [{ customerId: 'ok-1' }, { customerId: 'deep', attributes: { x: nested(100) } }].map((line) => JSON.stringify(line)).join('\n');
    const answer = await stack.api('POST', `/api/mailings/${draft.body.id}/recipients`, { text: lines, headers: { 'content-type': 'application/x-ndjson' } });
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body).toMatchObject({ added: 1, invalid: [{ line: 2, reason: `attributes.x.${TOO_DEEP}: nested more than 32 levels deep` }] });
  });
});

describe('PUT /api/customers/{id}', () => {
  it('refuses attributes nested too deep', async () => {
    const answer = await stack.api('PUT', '/api/customers/deep', { json: { attributes: { profile: nested(40) } } });
    expect(answer.status, answer.text).toBe(400);
    expect(answer.body.errors).toEqual([{ path: `attributes.profile.${TOO_DEEP}`, message: 'nested more than 32 levels deep' }]);
    expect((await stack.api('PUT', '/api/customers/fine', { json: { attributes: { profile: nested(32) } } })).status).toBe(200);
  });
});

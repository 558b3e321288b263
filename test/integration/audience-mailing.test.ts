import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveAudience } from '../../src/db/mailing-audience.js';
import { createMailing } from '../../src/db/mailings.js';
import { expectLifecycleInvariants, expectReceivedCodesIssued } from '../support/invariants.js';
import { groupWithCodes, mailingEnded, numberedCodes, testStack, type TestStack } from '../support/stack.js';

let stack: TestStack;
const groupIds: Record<string, string> = {};

// aud-1 … aud-6 got a Summer code (through a mailing that gave them email, phone and a name);
// aud-1 and aud-2 also one from Autumn; aud-7 none at all.
beforeAll(async () => {
  stack = await testStack({ env: { PROMO_MAILING_BATCH_SIZE: '3' } });
  for (const [name, n] of [['Summer', 10], ['Autumn', 10], ['Winter', 20]] as const) {
    groupIds[name] = (await groupWithCodes(stack, name, numberedCodes(name.toUpperCase(), n))).id;
  }
  const summer = await post({
    name: 'Summer',
    template: { body: '{{ client.promocode("Summer") }}' },
    recipients: Array.from({ length: 6 }, (_, i) => ({
      customerId: `aud-${i + 1}`,
      email: `aud${i + 1}@example.com`,
      phone: `+4912345${i + 1}`,
      attributes: { first_name: `Name${i + 1}` },
    })),
  });
  expect(await mailingEnded(stack, summer.body.id)).toMatchObject({ status: 'completed', sent: 6 });
  for (const customerId of ['aud-1', 'aud-2']) {
    expect((await stack.api('POST', `/api/groups/${groupIds.Autumn}/issue`, { json: { customerId } })).status).toBe(200);
  }
  expect((await stack.api('PUT', '/api/customers/aud-7', { json: { attributes: { first_name: 'Seven' } } })).status).toBe(200);
  // attributes and an email stored after the mailing that brought the customer in are the ones a later mailing uses
  expect((await stack.api('PUT', '/api/customers/aud-3', { json: { attributes: { first_name: 'Renamed' }, email: 'renamed3@example.com' } })).status).toBe(200);
  // a PUT without contacts leaves them as they are
  expect((await stack.api('PUT', '/api/customers/aud-4', { json: { attributes: { first_name: 'Name4' } } })).body).toMatchObject({ email: 'aud4@example.com', phone: '+49123454' });
});

const post = (body: Record<string, unknown>) => stack.api('POST', '/api/mailings', { json: { channel: { type: 'log' }, ...body } });

async function segment(filter: unknown): Promise<{ count: number; customerIds: string[] }> {
  const answer = await stack.api('POST', '/api/segments/query', { json: { filter, limit: 1000 } });
  expect(answer.status, answer.text).toBe(200);
  return answer.body;
}

async function recipientIds(mailingId: string): Promise<string[]> {
  const answer = await stack.api('GET', `/api/mailings/${mailingId}/recipients?limit=1000`);
  return answer.body.items.map((item: { customerId: string }) => item.customerId).sort();
}

async function loggedMessages(mailingId: string) {
  const text = await readFile(path.join(stack.config.dataDir, 'messages.ndjson'), 'utf8');
  return text.trim().split('\n').map((line) => JSON.parse(line)).filter((m) => m.mailingId === mailingId);
}

const mailingCount = async () => Number((await stack.sql`select count(*) as n from mailing`)[0]!.n);

const summerNotAutumn = { and: [{ issuedFromGroup: { group: 'Summer' } }, { not: { issuedFromGroup: { group: 'Autumn' } } }] };

describe('a mailing to a segment audience', () => {
  it('sends to exactly the customers the segment query finds, with their stored attributes, email and phone', async () => {
    const expected = await segment(summerNotAutumn);
    expect(expected.customerIds).toEqual(['aud-3', 'aud-4', 'aud-5', 'aud-6']);
    const answer = await post({
      name: 'Summer, not Autumn',
      template: { subject: 'Hi {{ client.first_name }}', body: 'Winter code {{ client.promocode("Winter") }}' },
      audience: { segment: summerNotAutumn },
    });
    expect(answer.status, answer.text).toBe(202);
    expect(answer.body.audience).toEqual({ segment: summerNotAutumn });

    const done = await mailingEnded(stack, answer.body.id);
    expect(done).toMatchObject({
      status: 'completed',
      audience: { segment: summerNotAutumn },
      recipients: expected.count,
      sent: expected.count,
      codes: [{ group: 'Winter', reserved: expected.count, issued: expected.count, released: 0 }],
    });
    expect(await recipientIds(answer.body.id)).toEqual(expected.customerIds);

    const messages = await loggedMessages(answer.body.id);
    const byCustomer = new Map(messages.map((m) => [m.customerId, m]));
    expect(byCustomer.get('aud-4')).toMatchObject({ email: 'aud4@example.com', phone: '+49123454', subject: 'Hi Name4' });
    expect(byCustomer.get('aud-3')).toMatchObject({ email: 'renamed3@example.com', phone: '+49123453', subject: 'Hi Renamed' });
    await expectReceivedCodesIssued(stack.sql, messages.map((m) => ({ customerId: m.customerId, code: /Winter code (\S+)/.exec(m.body)![1]! })));
    await expectLifecycleInvariants(stack.sql);
  });

  it('takes customers without any code when the filter reaches them (a negated top level)', async () => {
    const filter = { not: { issuedFromGroup: { group: 'Autumn' } } };
    const expected = await segment(filter);
    expect(expected.customerIds).toEqual(expect.arrayContaining(['aud-3', 'aud-7']));
    const answer = await post({ name: 'No Autumn', template: { body: 'Hello {{ client.first_name }}' }, audience: { segment: filter } });
    expect(answer.status, answer.text).toBe(202);
    expect(await mailingEnded(stack, answer.body.id)).toMatchObject({ status: 'completed', recipients: expected.count, sent: expected.count });
    expect(await recipientIds(answer.body.id)).toEqual(expected.customerIds);
    const seven = (await loggedMessages(answer.body.id)).find((m) => m.customerId === 'aud-7');
    expect(seven).toMatchObject({ body: 'Hello Seven' });
    expect(seven.email).toBeUndefined();
  });

  it('refuses a filter naming an unknown group at its path, recording nothing', async () => {
    const before = await mailingCount();
    const answer = await post({
      name: 'Nowhere',
      template: { body: 'Hi' },
      audience: { segment: { or: [{ issuedFromGroup: { group: 'Summer' } }, { not: { issuedCount: { op: 'gte', value: 1, group: 'Spring' } } }] } },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([{ path: 'audience.segment.or[1].not.issuedCount.group', message: 'there is no promo code group named "Spring"' }]);
    expect(await mailingCount()).toBe(before);
  });

  it('names a bad filter field by its path under audience.segment', async () => {
    const answer = await post({ name: 'Bad', template: { body: 'Hi' }, audience: { segment: { and: [{ issuedCount: { op: 'most', value: 1 } }] } } });
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([{ path: 'audience.segment.and[0].issuedCount.op', message: expect.any(String) }]);
  });

  it('refuses recipients and an audience together, recording nothing', async () => {
    const before = await mailingCount();
    const answer = await post({ name: 'Both', template: { body: 'Hi' }, recipients: [{ customerId: 'aud-1' }], audience: { segment: summerNotAutumn } });
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([{ path: 'audience', message: 'give either recipients or an audience, not both' }]);
    expect(await mailingCount()).toBe(before);
  });

  it('takes its snapshot once: a repeated resolution (a retried activity) adds no one, even a customer who matches since', async () => {
    const filter = { issuedFromGroup: { group: 'Autumn' } };
    const { mailing } = await createMailing(stack.sql, {
      publicId: 'snapshot-once',
      name: 'Snapshot',
      channel: { type: 'log' },
      template: { body: 'Hi' },
      audience: { segment: filter },
    });
    expect(await resolveAudience(stack.sql, mailing.publicId)).toBeUndefined();
    expect((await stack.api('POST', `/api/groups/${groupIds.Autumn}/issue`, { json: { customerId: 'aud-7' } })).status).toBe(200);
    expect(await resolveAudience(stack.sql, mailing.publicId)).toBeUndefined();
    expect(await recipientIds(mailing.publicId)).toEqual(['aud-1', 'aud-2']);
    expect((await segment(filter)).customerIds).toEqual(['aud-1', 'aud-2', 'aud-7']);
  });

  it('states the rule in the OpenAPI document: a request has recipients or an audience, never both', async () => {
    const doc = (await stack.api('GET', '/api/openapi.json', { token: null })).body;
    const request = doc.components.schemas.MailingRequest;
    expect(request.not).toEqual({ required: ['recipients', 'audience'] });
    expect(request.additionalProperties).toBe(false);
    expect(request.properties.audience).toEqual({ $ref: '#/components/schemas/Audience' });
  });
});

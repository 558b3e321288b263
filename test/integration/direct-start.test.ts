import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure, WorkflowExecutionAlreadyStartedError, WorkflowFailedError } from '@temporalio/client';
import { beforeAll, describe, expect, it } from 'vitest';
import { recordMailing } from '../../src/activities/record-mailing.js';
import type { MailingRequest } from '../../src/api/schemas/mailings.js';
import { PromoGroup, PromoMailingId } from '../../src/temporal/search-attributes.js';
import type { MailingInput, MailingPromoWorkflow } from '../../src/workflows/mailing-promo.js';
import { expectLifecycleInvariants } from '../support/invariants.js';
import { groupWithCodes, numberedCodes, testStack, type TestStack } from '../support/stack.js';

// A campaign system starts MailingPromoWorkflow with a Temporal client only: no HTTP.
let stack: TestStack;
let groupId: string;
beforeAll(async () => {
  stack = await testStack({ env: { PROMO_MAILING_BATCH_SIZE: '2' } });
  groupId = (await groupWithCodes(stack, 'Direct', numberedCodes('DIRECT', 20))).id;
});

const request = (overrides: Partial<MailingRequest> = {}): MailingRequest => ({
  name: 'Direct',
  channel: { type: 'log' },
  template: { subject: 'Hi {{ client.first_name }}', body: 'Code {{ client.promocode("Direct") }}' },
  recipients: [1, 2, 3].map((i) => ({ customerId: `direct-${i}`, email: `direct${i}@example.com`, attributes: { first_name: `N${i}` } })),
  ...overrides,
});

const start = (mailingId: string, input: Omit<MailingInput, 'mailingId'>, workflowId = `mailing-${mailingId}`) =>
  stack.temporal.workflow.start<typeof MailingPromoWorkflow>('MailingPromoWorkflow', { workflowId, taskQueue: stack.taskQueue, args: [{ mailingId, ...input }] });

async function loggedMessages(mailingId: string) {
  const text = await readFile(path.join(stack.config.dataDir, 'messages.ndjson'), 'utf8').catch(() => '');
  return text.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line)).filter((m) => m.mailingId === mailingId);
}

const recorded = async (publicId: string) => Number((await stack.sql`select count(*) as n from mailing where public_id = ${publicId}`)[0]!.n);

/** The failure a run ended with: the workflow's own, not an activity failure around it. */
async function failureOf(result: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await result.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(WorkflowFailedError);
  const cause = (error as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return cause as ApplicationFailure;
}

describe('MailingPromoWorkflow started directly', () => {
  it('records the mailing, sends it, returns its summary, and shows in the API like any other', async () => {
    const handle = await start('direct-1', { request: request() });
    const summary = await handle.result();
    expect(summary).toMatchObject({
      id: 'direct-1',
      name: 'Direct',
      status: 'completed',
      recipients: 3,
      sent: 3,
      failed: 0,
      unknown: 0,
      pending: 0,
      codes: [{ group: 'Direct', reserved: 3, issued: 3, released: 0 }],
      workflowId: 'mailing-direct-1',
    });
    expect(summary).not.toHaveProperty('audience');
    expect((await stack.api('GET', '/api/mailings/direct-1')).body).toEqual(summary);
    const messages = await loggedMessages('direct-1');
    expect(messages.map((m) => [m.customerId, m.email, m.subject]).sort()).toEqual([
      ['direct-1', 'direct1@example.com', 'Hi N1'],
      ['direct-2', 'direct2@example.com', 'Hi N2'],
      ['direct-3', 'direct3@example.com', 'Hi N3'],
    ]);
    const { typedSearchAttributes } = await handle.describe();
    expect(typedSearchAttributes.get(PromoMailingId)).toBe('direct-1');
    expect(typedSearchAttributes.get(PromoGroup)?.sort()).toEqual(['Direct', groupId].sort());
    await expectLifecycleInvariants(stack.sql);
  });

  it('records one mailing however often it is started with the same id', async () => {
    const first = await start('direct-twice', { request: request() });
    await expect(start('direct-twice', { request: request({ name: 'Other' }) })).rejects.toBeInstanceOf(WorkflowExecutionAlreadyStartedError);
    const summary = await first.result();
    expect(summary).toMatchObject({ status: 'completed', sent: 3 });
    // a run after the first ended finds the mailing recorded and sends nothing again
    const again = await start('direct-twice', { request: request({ name: 'Other' }) });
    expect(await again.result()).toEqual(summary);
    expect(await recorded('direct-twice')).toBe(1);
    expect(await loggedMessages('direct-twice')).toHaveLength(3);
    await expectLifecycleInvariants(stack.sql);
  });

  it('records nothing twice when its first activity is retried', async () => {
    const attempt = () => recordMailing(stack.deps, 'mailing-direct-retried', 'direct-retried', request());
    expect(await attempt()).toEqual(await attempt());
    expect(await recorded('direct-retried')).toBe(1);
    expect((await stack.sql`select count(*)::int as n from mailing_recipient r join mailing m on m.id = r.mailing_id where m.public_id = 'direct-retried'`)[0]!.n).toBe(3);
  });

  it('starts a draft the API recorded under its id, as POST /start would', async () => {
    const draft = await stack.api('POST', '/api/mailings', { json: { id: 'direct-draft', name: 'Draft', channel: { type: 'log' }, template: { body: 'Hi' } } });
    expect(draft.body.status).toBe('draft');
    const lines = ['draft-1', 'draft-2'].map((customerId) => JSON.stringify({ customerId })).join('\n');
    expect((await stack.api('POST', '/api/mailings/direct-draft/recipients', { text: lines, headers: { 'content-type': 'application/x-ndjson' } })).body.added).toBe(2);
    const summary = await (await start('direct-draft', { request: request() })).result();
    expect(summary).toMatchObject({ name: 'Draft', status: 'completed', recipients: 2, sent: 2 });
  });

  it('sends to a segment audience', async () => {
    const audience = { segment: { issuedFromGroup: { group: 'Direct' } } };
    const segment = (await stack.api('POST', '/api/segments/query', { json: { filter: audience.segment, limit: 1000 } })).body;
    expect(segment.count).toBeGreaterThan(0);
    const { recipients: _, ...rest } = request({ template: { body: 'Again {{ client.last_promocode("Direct") }}' } });
    const summary = await (await start('direct-audience', { request: { ...rest, audience } })).result();
    expect(summary).toMatchObject({ status: 'completed', audience, recipients: segment.count, sent: segment.count });
    expect((await loggedMessages('direct-audience')).map((m) => m.customerId).sort()).toEqual(segment.customerIds);
  });

  it('fails for good, naming the field, on a request the API would refuse, and records nothing', async () => {
    const cases: [string, MailingInput['request'], string][] = [
      ['direct-bad-template', request({ template: { body: 'Code {{ client.promocode( }}' } }), 'template.body'],
      ['direct-bad-email', request({ recipients: [{ customerId: 'x', email: 'not-an-address' }] }), 'recipients.0.email'],
      ['direct-smtp', request({ channel: { type: 'smtp', from: 'shop@example.com' } }), 'channel.type'],
      ['direct-unknown-group', { ...request(), recipients: undefined, audience: { segment: { issuedFromGroup: { group: 'Nowhere' } } } }, 'audience.segment.issuedFromGroup.group'],
      ['direct-too-many', request({ recipients: Array.from({ length: 1001 }, (_, i) => ({ customerId: `many-${i}` })) }), 'recipients'],
      ['direct-no-recipients', request({ recipients: undefined }), 'recipients'],
      ['direct-other-id', request({ id: 'someone-else' }), 'id'],
    ];
    for (const [mailingId, bad, field] of cases) {
      const failure = await failureOf((await start(mailingId, { request: bad })).result());
      expect(failure.nonRetryable, mailingId).toBe(true);
      expect(failure.message, mailingId).toContain(`${field}: `);
      expect(await recorded(mailingId), mailingId).toBe(0);
    }
  });

  it('refuses a workflow id other than mailing-<id>', async () => {
    const failure = await failureOf((await start('direct-wrong-wf', { request: request() }, 'not-the-scheme')).result());
    expect(failure.message).toContain('workflowId: must be "mailing-direct-wrong-wf"');
    expect(await recorded('direct-wrong-wf')).toBe(0);
  });
});

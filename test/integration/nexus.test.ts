import { WorkflowFailedError } from '@temporalio/client';
import type { StartOperationContext } from 'nexus-rpc';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CampaignResult, CodeRequest, WelcomeCampaign } from '../../examples/campaign/workflows.js';
import type { IdentifiedMailingRequest, IssuedCode } from '../../src/client/index.js';
import { IssueBatcher } from '../../src/db/issue-batcher.js';
import { issuanceOperations } from '../../src/nexus/issuance-operations.js';
import { expectLifecycleInvariants } from '../support/invariants.js';
import { campaignSide, type CampaignSide } from '../support/nexus.js';
import { eventually, groupWithCodes, numberedCodes, spawnWorkerProcess, testStack, type TestStack } from '../support/stack.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { startWebhookReceiver } from '../support/webhook-receiver.js';

// The Nexus service `promo-codes` called from the example campaign workflows in the namespace
// `campaigns`, through an endpoint routed to this file's worker.

let stack: TestStack;
let side: CampaignSide;
beforeAll(async () => {
  // small batches one at a time: a cancelled mailing has most of its recipients still to send
  stack = await testStack({ env: { PROMO_MAILING_BATCH_SIZE: '5', PROMO_MAILING_PARALLELISM: '1' } });
  side = await campaignSide(stack);
});

let runs = 0;
/** Starts an example campaign workflow in `campaigns`, pointed at this file's endpoint. */
const start = (workflow: string, input: CodeRequest | WelcomeCampaign) => {
  const args = 'welcome' in input ? { ...input, welcome: { ...input.welcome, endpoint: side.endpoint } } : { ...input, endpoint: side.endpoint };
  return side.campaigns.workflow.start(workflow, { taskQueue: side.taskQueue, workflowId: `nexus-test-${++runs}-${Date.now()}`, args: [args] });
};
const run = async <T>(workflow: string, input: CodeRequest | WelcomeCampaign) => (await start(workflow, input)).result() as Promise<T>;

const recipients = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => ({ customerId: `${prefix}-${i}` }));

/** The failure that ended a caller workflow: each cause's class and message, outermost first. */
async function failure(workflow: Promise<unknown>): Promise<string[]> {
  const error = await workflow.then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(WorkflowFailedError);
  const messages: string[] = [];
  for (let cause = (error as Error).cause; cause instanceof Error; cause = cause.cause) messages.push(`${cause.constructor.name}: ${cause.message}`);
  return messages;
}

describe('issueCode and reissueCode through Nexus', () => {
  it('issues a code by group name (case-insensitively), the same one again for the same idempotency key, and repeats it', async () => {
    const group = await groupWithCodes(stack, 'Welcome Nexus', numberedCodes('WN', 3));
    const issued = await run<{ code: string; kind: string }>('WelcomeCodeWorkflow', { group: ' welcome NEXUS ', customerId: 'nx-1' });
    expect(issued).toEqual({ code: expect.stringMatching(/^WN-/), kind: 'initial' });
    expect(await run('WelcomeCodeWorkflow', { group: 'Welcome Nexus', customerId: 'nx-1' })).toEqual(issued);
    expect(await run('ReminderWorkflow', { group: 'Welcome Nexus', customerId: 'nx-1' })).toEqual({ code: issued.code, kind: 'repeat' });
    expect(await run('ReminderWorkflow', { group: 'Welcome Nexus', customerId: 'nx-never' })).toEqual({ code: null, kind: 'repeat' });
    const history = (await stack.api('GET', '/api/customers/nx-1/promocodes')).body.items;
    expect(history.map((item: { code: string; kind: string }) => [item.code, item.kind])).toEqual([[issued.code, 'repeat'], [issued.code, 'initial']]);
    expect((await stack.api('GET', `/api/groups/${group.id}`)).body).toMatchObject({ active: 2, issued: 1 });
    await expectLifecycleInvariants(stack.sql);
  });

  it('fails the caller at once, without retries, when the group has no active code left', async () => {
    await groupWithCodes(stack, 'Empty Nexus', numberedCodes('EN', 1));
    await run('WelcomeCodeWorkflow', { group: 'Empty Nexus', customerId: 'en-1' });
    const started = Date.now();
    const messages = await failure(run('WelcomeCodeWorkflow', { group: 'Empty Nexus', customerId: 'en-2' }));
    expect(Date.now() - started).toBeLessThan(10_000);
    // the operation failed (OperationError), which the caller's Nexus machinery never retries
    expect(messages.slice(0, 2)).toEqual(['NexusOperationFailure: nexus operation completed unsuccessfully', 'ApplicationFailure: Group "Empty Nexus" has no active code left.']);
  });

  it('answers callers issuing at the same time each on their own, through the worker\'s batches: one code each while codes last, then "none left"', async () => {
    const group = await groupWithCodes(stack, 'Rush Nexus', numberedCodes('RN', 15));
    const callers = Array.from({ length: 20 }, (_, i) => run<{ code: string }>('WelcomeCodeWorkflow', { group: 'Rush Nexus', customerId: `rn-${i}` }));
    const outcomes = await Promise.allSettled(callers);
    const codes = outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value.code] : []));
    expect(codes).toHaveLength(15);
    expect(new Set(codes).size).toBe(15);
    for (const outcome of outcomes.filter((o) => o.status === 'rejected')) {
      expect(String((outcome as PromiseRejectedResult).reason.cause?.cause?.message)).toBe('Group "Rush Nexus" has no active code left.');
    }
    // one more round of the same callers (same idempotency keys) changes nothing
    const again = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => run<{ code: string }>('WelcomeCodeWorkflow', { group: 'Rush Nexus', customerId: `rn-${i}` })));
    expect(again.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value.code] : [])).sort()).toEqual([...codes].sort());
    expect((await stack.api('GET', `/api/groups/${group.id}`)).body).toMatchObject({ active: 0, issued: 15 });
    await expectLifecycleInvariants(stack.sql);
  });

  it('records a reissueCode retried after its worker died (the same Nexus request id) once; another call records another repeat', async () => {
    await groupWithCodes(stack, 'Retried Reminder', numberedCodes('RR', 2));
    const { code } = await run<{ code: string }>('WelcomeCodeWorkflow', { group: 'Retried Reminder', customerId: 'rr-1' });
    // through Temporal: the repeat is keyed by the request id of the caller's scheduled operation, which every attempt carries
    const caller = await start('ReminderWorkflow', { group: 'Retried Reminder', customerId: 'rr-1' });
    expect(await caller.result()).toEqual({ code, kind: 'repeat' });
    const { events } = await caller.fetchHistory();
    const requestId = events!.find((event) => event.nexusOperationScheduledEventAttributes)!.nexusOperationScheduledEventAttributes!.requestId!;
    const keys = async () =>
      (await stack.sql<{ key: string | null }[]>`
        select idempotency_key as key from code_issuance where customer_id = 'rr-1' and kind = 'repeat' order by id`).map((row) => row.key);
    expect(await keys()).toEqual([`nexus-request:${requestId}`]);
    // a second attempt of that operation, as the server sends it when the first one's worker died after committing
    const operations = issuanceOperations(stack.sql, new IssueBatcher(stack.sql, 10));
    const input = { group: 'Retried Reminder', customerId: 'rr-1' };
    expect(await operations.reissueCode({ requestId } as StartOperationContext, input)).toEqual({ code, kind: 'repeat' });
    expect(await keys()).toHaveLength(1);
    expect(await run('ReminderWorkflow', input)).toEqual({ code, kind: 'repeat' });
    expect(await keys()).toHaveLength(2);
    // a caller without a request id: no key, so two such calls for two customers are two repeats, not one answer
    await groupWithCodes(stack, 'Unkeyed Reminder', numberedCodes('UR', 2));
    const codes = await Promise.all(['ur-1', 'ur-2'].map(async (customerId) => (await run<{ code: string }>('WelcomeCodeWorkflow', { group: 'Unkeyed Reminder', customerId })).code));
    const unkeyed = await Promise.all(['ur-1', 'ur-2'].map((customerId) => operations.reissueCode({ requestId: '' } as StartOperationContext, { group: 'Unkeyed Reminder', customerId })));
    expect(unkeyed).toEqual(codes.map((issued) => ({ code: issued, kind: 'repeat' })));
    await expectLifecycleInvariants(stack.sql);
  });

  it('fails the caller at once when no group has that name', async () => {
    const started = Date.now();
    const messages = await failure(run('ReminderWorkflow', { group: 'No Such Group', customerId: 'ns-1' }));
    expect(Date.now() - started).toBeLessThan(10_000);
    // a BAD_REQUEST handler error, not retried either
    expect(messages.slice(0, 2)).toEqual(['NexusOperationFailure: nexus operation completed unsuccessfully', 'HandlerError: There is no promo code group named "No Such Group".']);
  });
});

describe('startMailing through Nexus', () => {
  const welcomeMailing = (id: string, group: string, extra: Partial<IdentifiedMailingRequest> = {}): IdentifiedMailingRequest => ({
    id,
    name: 'Welcome wave',
    channel: { type: 'log' },
    template: { body: `Your code: {{ client.promocode(${JSON.stringify(group)}) }}` },
    recipients: recipients(id, 5),
    ...extra,
  });

  it('answers the mailing summary when the mailing ends; the mailing shows in the API; the same id again answers the same mailing', async () => {
    const group = await groupWithCodes(stack, 'Wave', numberedCodes('WAVE', 10));
    const campaign: WelcomeCampaign = { welcome: { group: 'Wave', customerId: 'wave-new' }, mailing: welcomeMailing('nexus-wave-1', 'Wave') };
    const result = await run<CampaignResult>('WelcomeCampaignWorkflow', campaign);
    expect(result.welcomeCode).toMatch(/^WAVE-/);
    expect(result.mailing).toMatchObject({ id: 'nexus-wave-1', status: 'completed', recipients: 5, sent: 5, workflowId: 'mailing-nexus-wave-1', codes: [{ group: 'Wave', reserved: 5, issued: 5, released: 0 }] });
    expect((await stack.api('GET', '/api/mailings/nexus-wave-1')).body).toEqual(result.mailing);

    const again = await run<CampaignResult>('WelcomeCampaignWorkflow', campaign);
    expect(again).toEqual(result);
    expect((await stack.api('GET', `/api/groups/${group.id}`)).body).toMatchObject({ active: 4, blocked: 0, issued: 6 });
    await expectLifecycleInvariants(stack.sql);
  });

  it('refuses a request without an id, naming the field, at once', async () => {
    await groupWithCodes(stack, 'NoId', numberedCodes('NOID', 2));
    const { id: _id, ...withoutId } = welcomeMailing('unused', 'NoId');
    const messages = await failure(run('WelcomeCampaignWorkflow', { welcome: { group: 'NoId', customerId: 'noid-1' }, mailing: withoutId as IdentifiedMailingRequest }));
    expect(messages[1]).toBe('HandlerError: Invalid startMailing input: id: Invalid input: expected string, received undefined');
  });

  it('cancelling the caller cancels the mailing: it ends cancelled with nothing blocked', async () => {
    const group = await groupWithCodes(stack, 'Slow Wave', numberedCodes('SLOWWAVE', 200));
    const webhook = await startWebhookReceiver();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    webhook.behave(async () => {
      await held; // the first messages are held until the caller has been cancelled
      return 200;
    });
    const mailing = welcomeMailing('nexus-slow-1', 'Slow Wave', { channel: { type: 'webhook', url: webhook.url }, recipients: recipients('slow', 150) });
    const caller = await start('WelcomeCampaignWorkflow', { welcome: { group: 'Slow Wave', customerId: 'slow-new' }, mailing });
    await eventually(async () => webhook.received.length > 0);
    await caller.cancel();
    setTimeout(release, 500);
    // the caller waits for the operation's cancellation to complete (the default), so by the time
    // it has ended the mailing has too
    expect(await failure(caller.result())).toEqual(['CancelledFailure: Workflow canceled']);
    const ended = (await stack.api('GET', '/api/mailings/nexus-slow-1')).body;
    expect(ended.status).toBe('cancelled');
    expect(ended.sent).toBeLessThan(150);
    expect(ended.codes[0]).toMatchObject({ reserved: 150, issued: ended.sent + ended.unknown });
    expect((await stack.api('GET', `/api/groups/${group.id}`)).body).toMatchObject({ blocked: 0, issued: ended.sent + ended.unknown + 1 });
    await expectLifecycleInvariants(stack.sql);
  });
});

/** Callers of the fault tests below: each issues a code of a 300-code group to a customer of its own. */
const CALLERS = 200;

/** CALLERS workflows in `campaigns`, caller i issuing a code of `group` to customer `${prefix}-${i}` through the endpoint. */
function issuingCallers(side: CampaignSide, group: string, prefix: string): Promise<IssuedCode[]> {
  return Promise.all(
    Array.from({ length: CALLERS }, (_, i) =>
      side.campaigns.workflow.execute('WelcomeCodeWorkflow', {
        taskQueue: side.taskQueue,
        workflowId: `${prefix}-${i}-${Date.now()}`,
        args: [{ group, customerId: `${prefix}-${i}`, endpoint: side.endpoint }],
      }),
    ),
  );
}

/** Every caller got one code, the one recorded for its customer, none twice; the group's other 100 codes active, none blocked. */
async function expectOneCodeEach(faultStack: TestStack, groupId: string, answers: IssuedCode[], prefix: string): Promise<void> {
  expect(answers.every((answer) => answer.kind === 'initial')).toBe(true);
  expect(new Set(answers.map((answer) => answer.code)).size).toBe(CALLERS);
  const rows = await faultStack.sql<{ customerId: string; code: string }[]>`
    select i.customer_id, c.code from code_issuance i join promo_code c on c.id = i.code_id where i.group_id = ${groupId}`;
  expect(Object.fromEntries(rows.map((row) => [row.customerId, row.code]))).toEqual(
    Object.fromEntries(answers.map((answer, i) => [`${prefix}-${i}`, answer.code])),
  );
  expect(rows).toHaveLength(CALLERS);
  expect((await faultStack.api('GET', `/api/groups/${groupId}`)).body).toMatchObject({ active: 100, blocked: 0, issued: CALLERS });
  await expectLifecycleInvariants(faultStack.sql);
}

describe('a worker stopped while it issues through Nexus', () => {
  it.each([
    ['killed (SIGKILL)', 'kill'],
    ['stopped as a deploy does (SIGTERM)', 'terminate'],
  ] as const)('%s mid-batch: every caller gets one code, the code issued to its customer, none twice', async (_, stop) => {
    const crashStack = await testStack({ worker: false });
    const crashSide = await campaignSide(crashStack);
    const group = await groupWithCodes(crashStack, `Stopped Nexus ${stop}`, numberedCodes(`SN${stop.toUpperCase()}`, 300));
    const doomed = await spawnWorkerProcess(crashStack);
    const callers = issuingCallers(crashSide, group.name, `sn-${stop}`);
    const issued = async () => (await crashStack.api('GET', `/api/groups/${group.id}`)).body.issued as number;
    await eventually(async () => (await issued()) >= 20, 60_000, 10);
    await doomed[stop]();
    expect(await issued(), 'the worker was stopped with callers still to answer').toBeLessThan(CALLERS);
    await spawnWorkerProcess(crashStack);
    await expectOneCodeEach(crashStack, group.id, await callers, `sn-${stop}`);
  }, 180_000);
});

describe('PostgreSQL gone while the worker issues through Nexus', () => {
  it('every caller waits it out and gets one code, the code issued to its customer, none twice', async () => {
    const outageStack = await testStack({ worker: false });
    const outageSide = await campaignSide(outageStack);
    const group = await groupWithCodes(outageStack, 'Outage Nexus', numberedCodes('ON', 300));
    // the worker reaches its database through a proxy that the test takes away and brings back
    const database = new URL(outageStack.databaseUrl);
    const proxy = await startTcpProxy(database.host);
    database.host = proxy.address;
    await spawnWorkerProcess(outageStack, { DATABASE_URL: database.toString() });
    const callers = issuingCallers(outageSide, group.name, 'on');
    const issued = async () => (await outageStack.api('GET', `/api/groups/${group.id}`)).body.issued as number;
    await eventually(async () => (await issued()) >= 20, 60_000, 10);
    await proxy.stop(); // open connections dropped mid-transaction, new ones refused
    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    await pause(1000); // a commit PostgreSQL received before the drop has landed
    const during = await issued();
    expect(during, 'the database went with callers still to answer').toBeLessThan(CALLERS);
    await pause(15_000);
    expect(await issued(), 'nothing is issued while the database is gone').toBe(during);
    await proxy.start();
    await expectOneCodeEach(outageStack, group.id, await callers, 'on');
  }, 300_000);
});

import { randomUUID } from 'node:crypto';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import pino from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import type { HousekeepingOutcome } from '../../src/workflows/housekeeping.js';
import { expectLifecycleInvariants } from '../support/invariants.js';
import { eventually, groupWithCodes, numberedCodes, onCleanup, testStack, type TestStack } from '../support/stack.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

let stack: TestStack;
let receiver: WebhookReceiver;
/** what the worker logged at warn and above */
const logged: { msg: string; alert?: Record<string, unknown> }[] = [];
beforeAll(async () => {
  receiver = await startWebhookReceiver();
  const logger = pino({ level: 'warn' }, { write: (line: string) => logged.push(JSON.parse(line)) });
  stack = await testStack({ env: { PROMO_ALERT_WEBHOOK_URL: receiver.url, PROMO_WEBHOOK_BACKOFF_MS: '10' }, logger });
});

/** One housekeeping run, as the schedule starts it, waited for. */
const housekeep = () =>
  stack.temporal.workflow.execute<() => Promise<HousekeepingOutcome>>('HousekeepingWorkflow', {
    taskQueue: stack.taskQueue,
    workflowId: `housekeeping-${randomUUID()}`,
  });
const group = async (id: string) => (await stack.api('GET', `/api/groups/${id}`)).body;
const issue = async (groupId: string, customerId: string): Promise<string> => {
  const answer = await stack.api('POST', `/api/groups/${groupId}/issue`, { json: { customerId } });
  expect(answer.status, answer.text).toBe(200);
  return answer.body.code;
};
const alertsOf = (type: string, groupId: string) => receiver.received.filter((alert) => alert.type === type && alert.groupId === groupId);
const jobsOf = async (groupId: string) => (await stack.api('GET', `/api/jobs?groupId=${groupId}`)).body.items;
const jobsDone = (groupId: string) => eventually(async () => {
  const jobs = await jobsOf(groupId);
  return jobs.every((job: { status: string }) => job.status !== 'running') && jobs;
});

describe('the promo-housekeeping schedule', () => {
  it('is created by the worker at start, every minute, one run at a time; a triggered run expires what is due', async () => {
    const scheduleId = `promo-housekeeping-${randomUUID()}`;
    const scheduled = await testStack({ env: { PROMO_HOUSEKEEPING_SCHEDULE_ID: scheduleId } });
    const handle = scheduled.temporal.schedule.getHandle(scheduleId);
    onCleanup(() => handle.delete());
    const description = await handle.describe();
    expect(description.spec.intervals).toMatchObject([{ every: 60_000 }]);
    expect(description.policies.overlap).toBe(ScheduleOverlapPolicy.SKIP);
    expect(description.action).toMatchObject({ type: 'startWorkflow', workflowType: 'HousekeepingWorkflow', taskQueue: scheduled.taskQueue });

    const created = await scheduled.api('POST', '/api/groups', { json: { name: 'Ends', expiresAt: new Date(Date.now() + 200).toISOString() } });
    await scheduled.api('POST', `/api/groups/${created.body.id}/codes`, { json: { codes: numberedCodes('END', 3) } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await handle.trigger();
    const expired = await eventually(async () => {
      const body = (await scheduled.api('GET', `/api/groups/${created.body.id}`)).body;
      return body.expired === 3 && body;
    });
    expect(expired).toMatchObject({ total: 3, active: 0, expired: 3 });
    // a worker started again finds the schedule there
    const again = await testStack({ env: { PROMO_HOUSEKEEPING_SCHEDULE_ID: scheduleId } });
    expect((await again.temporal.schedule.getHandle(scheduleId).describe()).action).toMatchObject({ taskQueue: scheduled.taskQueue });
  });
});

describe('expiry by housekeeping', () => {
  it("expires the active and issued codes of an expired group and the issued codes past validForDays; redeemed and fresh codes stay", async () => {
    const ended = await groupWithCodes(stack, 'Ended', numberedCodes('ENDED', 5));
    const endedIssued = await issue(ended.id, 'c-1');
    const endedRedeemed = await issue(ended.id, 'c-2');
    expect((await stack.api('POST', `/api/codes/${endedRedeemed}/redeem`)).status).toBe(200);
    await stack.api('PATCH', `/api/groups/${ended.id}`, { json: { expiresAt: new Date(Date.now() - 1000).toISOString() } });

    const month = await groupWithCodes(stack, 'Month', numberedCodes('MONTH', 5), { validForDays: 30 });
    const old = await issue(month.id, 'c-3');
    const fresh = await issue(month.id, 'c-4');
    // time passes for one of them: issued 31 days ago
    await stack.sql`update promo_code set issued_at = issued_at - interval '31 days' where code = ${old}`;

    const outcome = await housekeep();
    expect(outcome.expired).toEqual({ ofExpiredGroups: 4, pastValidity: 1 });
    expect(await group(ended.id)).toMatchObject({ total: 5, active: 0, issued: 0, redeemed: 1, expired: 4 });
    expect(await group(month.id)).toMatchObject({ total: 5, active: 3, issued: 1, expired: 1 });
    const statuses = Object.fromEntries(await Promise.all([endedIssued, endedRedeemed, old, fresh].map(async (code) => [code, (await stack.api('GET', `/api/codes/${code}`)).body.status])));
    expect(statuses).toEqual({ [endedIssued]: 'expired', [endedRedeemed]: 'redeemed', [old]: 'expired', [fresh]: 'issued' });
    // the customer's history keeps the expired code
    expect((await stack.api('GET', '/api/customers/c-3/promocodes')).body.items.map((item: { code: string }) => item.code)).toEqual([old]);

    expect((await housekeep()).expired).toEqual({ ofExpiredGroups: 0, pastValidity: 0 });
    await expectLifecycleInvariants(stack.sql);
  });
});

describe('low-stock alerts', () => {
  it('sends one alert per crossing to the alert webhook, however many runs see the group below its threshold', async () => {
    const stock = await groupWithCodes(stack, 'Stock', numberedCodes('STOCK', 4), { lowStockThreshold: 3 });
    await housekeep();
    expect(alertsOf('low_stock', stock.id)).toEqual([]);

    await issue(stock.id, 'c-5');
    await issue(stock.id, 'c-6'); // 2 active: below 3
    await housekeep();
    await housekeep();
    expect(alertsOf('low_stock', stock.id)).toEqual([
      { type: 'low_stock', groupId: stock.id, groupName: 'Stock', active: 2, threshold: 3, header: `low_stock:${stock.id}:1`, answer: 200 },
    ]);

    // back above the threshold, then below again: a second crossing, a second alert
    await stack.api('POST', `/api/groups/${stock.id}/codes`, { json: { codes: numberedCodes('MORE', 2) } });
    await housekeep();
    await issue(stock.id, 'c-7');
    await issue(stock.id, 'c-8');
    await housekeep();
    await housekeep();
    expect(alertsOf('low_stock', stock.id).map((alert) => [alert.active, alert.header])).toEqual([[2, `low_stock:${stock.id}:1`], [2, `low_stock:${stock.id}:2`]]);
    // and always to the log
    expect(logged.filter((line) => line.alert?.groupId === stock.id)).toMatchObject([
      { msg: 'alert: low_stock in group "Stock"', alert: { type: 'low_stock', active: 2, threshold: 3 } },
      { msg: 'alert: low_stock in group "Stock"', alert: { type: 'low_stock', active: 2, threshold: 3 } },
    ]);
  });

  it('sends an alert the receiver refused again on the next run, with the same idempotency key', async () => {
    const flaky = await groupWithCodes(stack, 'Flaky', numberedCodes('FLAKY', 1), { lowStockThreshold: 2 });
    receiver.behave((alert) => (alert.groupId === flaky.id && alertsOf('low_stock', flaky.id).length <= 4 ? 503 : 200));
    expect((await housekeep()).lowStockAlerts).toBe(0);
    expect(await housekeep()).toMatchObject({ lowStockAlerts: 1 });
    receiver.behave(() => 200);
    const tries = alertsOf('low_stock', flaky.id);
    expect(tries.length).toBe(5); // four tries of the first run, the fifth accepted
    expect(new Set(tries.map((alert) => alert.header))).toEqual(new Set([`low_stock:${flaky.id}:1`]));
  });
});

describe('auto-refill', () => {
  it('tops a group up to upTo with one autoRefill generation job at a time, and not again while it is above below', async () => {
    const refilled = await groupWithCodes(stack, 'Refilled', [], { format: "REFILL-{string('0-9', 6)}", autoRefill: { below: 5, upTo: 40 } });
    const first = await housekeep();
    expect(first.refills).toEqual({ started: 1, exhausted: 0 });
    // one at a time: a run while the job may still run starts none
    await housekeep();
    const [job] = await jobsDone(refilled.id);
    expect((await jobsOf(refilled.id)).length).toBe(1);
    expect(job).toMatchObject({ kind: 'generate', reason: 'autoRefill', status: 'completed', requested: 40, added: 40 });
    expect(await group(refilled.id)).toMatchObject({ total: 40, active: 40 });

    expect((await housekeep()).refills).toEqual({ started: 0, exhausted: 0 });
    for (let i = 0; i < 36; i += 1) await issue(refilled.id, `r-${i}`); // 4 active: below 5
    expect((await housekeep()).refills.started).toBe(1);
    const jobs = await jobsDone(refilled.id);
    expect(jobs[0]).toMatchObject({ reason: 'autoRefill', requested: 36, added: 36 });
    expect(await group(refilled.id)).toMatchObject({ active: 40, issued: 36, total: 76 });
    await expectLifecycleInvariants(stack.sql);
  });

  it('meets an exhausted keyspace with one alert per crossing, not a loop of jobs', async () => {
    // ten codes in all: X0 … X9
    const small = await groupWithCodes(stack, 'Small', [], { format: "X{string('0-9', 1)}", autoRefill: { below: 5, upTo: 50 } });
    expect((await housekeep()).refills).toEqual({ started: 1, exhausted: 1 });
    const [job] = await jobsDone(small.id);
    expect(job).toMatchObject({ reason: 'autoRefill', requested: 10, added: 10 });
    expect(alertsOf('refill_exhausted', small.id)).toMatchObject([{ groupName: 'Small', active: 0, below: 5, capacity: 10, header: `refill_exhausted:${small.id}:1` }]);

    await housekeep(); // 10 active: the group is above `below` again
    for (let i = 0; i < 8; i += 1) await issue(small.id, `s-${i}`); // 2 active, nothing left to generate
    expect((await housekeep()).refills).toEqual({ started: 0, exhausted: 1 });
    expect((await housekeep()).refills).toEqual({ started: 0, exhausted: 0 });
    expect((await jobsOf(small.id)).length).toBe(1);
    expect(alertsOf('refill_exhausted', small.id).map((alert) => [alert.capacity, alert.header])).toEqual([
      [10, `refill_exhausted:${small.id}:1`],
      [0, `refill_exhausted:${small.id}:2`],
    ]);
  });

  it('starts no refill while one of the group runs, and the database allows only one running', async () => {
    const busy = await groupWithCodes(stack, 'Busy', [], { format: "BUSY-{string('0-9', 6)}", autoRefill: { below: 5, upTo: 10 } });
    // a refill whose workflow is still going
    const insertRunning = () => stack.sql`
      insert into job (kind, group_id, requested, format, reason, workflow_id) values ('generate', ${busy.id}, 10, 'x', 'autoRefill', ${`generate-busy-${randomUUID()}`})`;
    await insertRunning();
    expect((await housekeep()).refills).toEqual({ started: 0, exhausted: 0 });
    await expect(insertRunning()).rejects.toMatchObject({ constraint_name: 'job_one_auto_refill' });
  });

  it('does not refill an expired group', async () => {
    const gone = await groupWithCodes(stack, 'Gone', [], { format: "GONE-{string('0-9', 6)}", autoRefill: { below: 5, upTo: 10 }, expiresAt: new Date(Date.now() - 1000).toISOString() });
    expect((await housekeep()).refills).toEqual({ started: 0, exhausted: 0 });
    expect(await jobsOf(gone.id)).toEqual([]);
  });
});

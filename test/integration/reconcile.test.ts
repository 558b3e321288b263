import { beforeAll, describe, expect, it } from 'vitest';
import { createGenerationJob } from '../../src/db/generation.js';
import { compileFormat } from '../../src/domain/format.js';
import { reconcileJobs, reconcileMailings } from '../../src/temporal/reconcile.js';
import { expectLifecycleInvariants, expectReceivedCodesIssued } from '../support/invariants.js';
import { eventually, groupWithCodes, numberedCodes, testStack, type TestStack } from '../support/stack.js';
import { heldCodes, startWebhookReceiver } from '../support/webhook-receiver.js';

const FORMAT = "REC-{string('A-Z', 12)}";

let stack: TestStack;
beforeAll(async () => {
  stack = await testStack();
});

const jobOf = async (id: string) => (await stack.api('GET', `/api/jobs/${id}`)).body;
const backdate = (id: string) => stack.sql`update job set created_at = now() - interval '10 minutes' where id = ${id}`;

async function runningGeneration(groupId: string): Promise<string> {
  const job = (await stack.api('POST', `/api/groups/${groupId}/generations`, { json: { quantity: 1_000_000 } })).body;
  await eventually(async () => (await jobOf(job.id)).added > 0 || undefined);
  return job.id;
}

describe('reconciling jobs with their workflows', () => {
  it('fails a job whose workflow was terminated or never started, and leaves the others', async () => {
    const group = await groupWithCodes(stack, 'Reconciled', [], { format: FORMAT });
    const recordOnly = async () => (await createGenerationJob(stack.sql, { groupId: group.id, requested: 10, format: compileFormat(FORMAT), maxLanes: 1 })).job.id;
    const neverStarted = await recordOnly();
    const justRecorded = await recordOnly();
    const terminated = await runningGeneration(group.id);
    await stack.temporal.workflow.getHandle(`generate-${terminated}`).terminate('operator');
    const running = await runningGeneration(group.id);
    for (const id of [neverStarted, terminated, running]) await backdate(id);

    const missing = await reconcileJobs(stack, new Set(), 60);
    expect([...missing]).toEqual([neverStarted]);
    expect(await jobOf(terminated)).toMatchObject({ status: 'failed', errors: [{ reason: expect.stringMatching(/workflow ended \(TERMINATED\)/) }] });
    expect((await jobOf(neverStarted)).status).toBe('running');

    expect([...(await reconcileJobs(stack, missing, 60))]).toEqual([]);
    expect(await jobOf(neverStarted)).toMatchObject({ status: 'failed', errors: [{ reason: expect.stringMatching(/never started/) }] });
    expect((await jobOf(justRecorded)).status).toBe('running');
    expect((await jobOf(running)).status).toBe('running');

    expect((await stack.api('POST', `/api/jobs/${running}/cancel`)).status).toBe(202);
    await eventually(async () => (await jobOf(running)).status === 'cancelled' || undefined);
  });
});

describe('reconciling mailings with their workflows', () => {
  it('fails a mailing whose workflow was terminated mid-send: those being sent keep their codes, the others give theirs back', async () => {
    // a stack of its own: its worker is stopped, so that no batch of the terminated run still sends
    const mailStack = await testStack({ env: { PROMO_MAILING_BATCH_SIZE: '5', PROMO_MAILING_PARALLELISM: '1' } });
    const webhook = await startWebhookReceiver();
    let release!: () => void;
    const held = new Promise<number>((resolve) => (release = () => resolve(503)));
    webhook.behave((message) => (Number(message.customerId.split('-')[1]) < 7 ? 200 : held));
    const group = await groupWithCodes(mailStack, 'Terminated', numberedCodes('TERM', 20));
    const started = await mailStack.api('POST', '/api/mailings', {
      json: {
        name: 'Terminated',
        channel: { type: 'webhook', url: webhook.url },
        template: { body: '{{ client.promocode("Terminated") }}' },
        recipients: Array.from({ length: 12 }, (_, i) => ({ customerId: `term-${i}` })),
      },
    });
    expect(started.status, started.text).toBe(202);
    const { id, workflowId } = started.body;
    await eventually(async () => webhook.received.length >= 10 || undefined);
    expect(await reconcileMailings(mailStack)).toEqual([]);

    await mailStack.temporal.workflow.getHandle(workflowId).terminate('operator');
    const stopped = mailStack.worker.stop();
    release();
    await stopped;
    expect((await mailStack.api('GET', `/api/mailings/${id}`)).body).toMatchObject({ status: 'sending' });
    expect((await mailStack.api('GET', `/api/groups/${group.id}`)).body.blocked).toBeGreaterThan(0);

    // no grace period: the stopped batch claims no one once the mailing has ended
    expect(await reconcileMailings(mailStack)).toEqual([id]);
    const mailing = (await mailStack.api('GET', `/api/mailings/${id}`)).body;
    // seq 8–10 were handed to the receiver (held, then 503: may have arrived); 11–12 never left
    expect(mailing).toMatchObject({ status: 'failed', sent: 7, unknown: 3, pending: 2, error: { code: 'workflow_ended', detail: expect.stringMatching(/TERMINATED/) } });
    expect((await mailStack.api('GET', `/api/groups/${group.id}`)).body).toMatchObject({ total: 20, active: 10, blocked: 0, issued: 10 });
    await expectReceivedCodesIssued(mailStack.sql, heldCodes(webhook.received));
    await expectLifecycleInvariants(mailStack.sql);
  });
});

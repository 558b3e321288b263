// Attempts of one send batch that die or overlap: the receiver's log is the oracle. Whatever
// the order of events, a code a customer was shown ends issued to that customer.
import { describe, expect, inject, it } from 'vitest';
import { claimRecipients, loadUnsettledRecipients, recordOutcomes } from '../../src/db/mailing-delivery.js';
import { reserveMailingCodes } from '../../src/db/mailing-reservation.js';
import { createMailing, getMailingRecord } from '../../src/db/mailings.js';
import { expectLifecycleInvariants, expectReceivedCodesIssued } from '../support/invariants.js';
import { eventually, groupWithCodes, mailingEnded, numberedCodes, spawnWorkerProcess, testStack, type TestStack } from '../support/stack.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { heldCodes, startWebhookReceiver } from '../support/webhook-receiver.js';

/** A promise and the function that settles it. */
function gate<T>() {
  let open!: (value: T) => void;
  const opened = new Promise<T>((resolve) => (open = resolve));
  return { opened, open };
}

async function startMailing(stack: TestStack, group: string, url: string, count: number, prefix: string) {
  const answer = await stack.api('POST', '/api/mailings', {
    json: {
      name: prefix,
      channel: { type: 'webhook', url },
      template: { body: `{{ client.promocode("${group}") }}` },
      recipients: Array.from({ length: count }, (_, i) => ({ customerId: `${prefix}-${i}` })),
    },
  });
  expect(answer.status, answer.text).toBe(202);
  return answer.body as { id: string };
}


/** Waits until a statement of this database waits for a lock (a batch's record blocked by the test). */
async function someoneWaitsForALock(stack: TestStack) {
  await eventually(async () => {
    const [row] = await stack.sql`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`;
    return row!.n > 0;
  });
}

describe('a send batch whose attempt dies or is overtaken', () => {
  it('keeps delivered codes issued when the mailing is cancelled while the batch waits for its retry', async () => {
    const stack = await testStack({ worker: false, env: { PROMO_MAILING_BATCH_SIZE: '10', PROMO_MAILING_PARALLELISM: '1', PROMO_MAILING_HEARTBEAT_SECONDS: '5' } });
    const group = await groupWithCodes(stack, 'Waiting', numberedCodes('WAIT', 30));
    const webhook = await startWebhookReceiver();
    const answered = gate<number>();
    webhook.behave(() => answered.opened);
    const doomed = await spawnWorkerProcess(stack);
    const mailing = await startMailing(stack, 'Waiting', webhook.url, 25, 'wait');
    await eventually(async () => webhook.received.length >= 10 || undefined);

    // the batch delivers; while it waits to record, the mailing is cancelled, then the attempt dies:
    // the workflow has asked for the batch's cancellation before the server could schedule a retry
    const blocked = await stack.sql.reserve();
    await blocked`begin`;
    await blocked`select id from promo_code where group_id = ${group.id} and status = 'blocked' for update`;
    answered.open(200);
    await someoneWaitsForALock(stack);
    expect((await stack.api('POST', `/api/mailings/${mailing.id}/cancel`)).status).toBe(202);
    await eventually(async () => {
      const { events } = await stack.temporal.workflow.getHandle(`mailing-${mailing.id}`).fetchHistory();
      return events?.some((event) => event.activityTaskCancelRequestedEventAttributes);
    });
    await doomed.kill();
    await blocked`rollback`;
    blocked.release();

    await spawnWorkerProcess(stack);
    const done = await mailingEnded(stack, mailing.id);
    expect(done).toMatchObject({ status: 'cancelled', recipients: 25, sent: 0, failed: 0, unknown: 10, pending: 15 });
    expect(heldCodes(webhook.received, mailing.id), 'the batch was not retried').toHaveLength(10);
    await expectReceivedCodesIssued(stack.sql, heldCodes(webhook.received, mailing.id));
    expect((await stack.api('GET', `/api/groups/${group.id}`)).body).toMatchObject({ total: 30, active: 20, blocked: 0, issued: 10 });
    await expectLifecycleInvariants(stack.sql);
  });

  it('keeps heartbeating while its record waits for a lock, so no second attempt starts behind a live one', async () => {
    const heartbeatSeconds = 4;
    const stack = await testStack({ worker: false, env: { PROMO_MAILING_BATCH_SIZE: '10', PROMO_MAILING_PARALLELISM: '1', PROMO_MAILING_HEARTBEAT_SECONDS: String(heartbeatSeconds) } });
    const group = await groupWithCodes(stack, 'Patient', numberedCodes('PATIENT', 10));
    const webhook = await startWebhookReceiver();
    const answered = gate<void>();
    // a second attempt would be accepted where the first was refused
    webhook.behave(async (_message, attempt) => (attempt === 1 ? (await answered.opened, 400) : 200));
    await spawnWorkerProcess(stack);
    await spawnWorkerProcess(stack);
    const mailing = await startMailing(stack, 'Patient', webhook.url, 10, 'patient');
    await eventually(async () => webhook.received.length >= 10 || undefined);

    const blocked = await stack.sql.reserve();
    await blocked`begin`;
    await blocked`select id from promo_code where group_id = ${group.id} and status = 'blocked' for update`;
    answered.open();
    await someoneWaitsForALock(stack);
    await new Promise((resolve) => setTimeout(resolve, 3 * heartbeatSeconds * 1000));
    await blocked`rollback`;
    blocked.release();

    const done = await mailingEnded(stack, mailing.id);
    expect(webhook.received.map((m) => m.answer), 'one attempt, never overtaken').toEqual(Array(10).fill(400));
    expect(done).toMatchObject({ status: 'completed', recipients: 10, sent: 0, failed: 10, unknown: 0, pending: 0 });
    await expectReceivedCodesIssued(stack.sql, heldCodes(webhook.received, mailing.id));
    expect((await stack.api('GET', `/api/groups/${group.id}`)).body).toMatchObject({ active: 10, blocked: 0, issued: 0 });
    await expectLifecycleInvariants(stack.sql);
  });

  it('lets the attempt that delivered win over an overtaken attempt that failed, whichever records first', async () => {
    const stack = await testStack({ worker: false, env: { PROMO_MAILING_BATCH_SIZE: '10', PROMO_MAILING_PARALLELISM: '1', PROMO_MAILING_HEARTBEAT_SECONDS: '2' } });
    await groupWithCodes(stack, 'Overlap', numberedCodes('OVERLAP', 10));
    const webhook = await startWebhookReceiver();
    const first = gate<number>();
    const second = gate<number>();
    webhook.behave((_message, attempt) => (attempt === 1 ? first.opened : second.opened));
    const temporal = await startTcpProxy(inject('temporalAddress'));
    await spawnWorkerProcess(stack, { TEMPORAL_ADDRESS: temporal.address });
    const mailing = await startMailing(stack, 'Overlap', webhook.url, 10, 'overlap');
    await eventually(async () => webhook.received.length >= 10 || undefined);

    // the first attempt, alive, loses Temporal: its heartbeats stop, and the server starts a second elsewhere
    temporal.cut();
    await spawnWorkerProcess(stack);
    await eventually(async () => webhook.received.length >= 20 || undefined, 30_000);
    // the first attempt is refused and records its failures before the second records its deliveries
    first.open(400);
    await eventually(async () => webhook.received.slice(0, 10).every((m) => m.answer === 400) || undefined);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    second.open(200);

    const done = await mailingEnded(stack, mailing.id);
    expect(done).toMatchObject({ status: 'completed', recipients: 10, sent: 10, failed: 0, unknown: 0, pending: 0 });
    await expectReceivedCodesIssued(stack.sql, heldCodes(webhook.received, mailing.id));
    await expectLifecycleInvariants(stack.sql);
  });

  it('issues the code of a message whose receiver answered only after the timeout, and shows the recipient as unknown', async () => {
    const stack = await testStack({ env: { PROMO_MAILING_BATCH_SIZE: '10', PROMO_WEBHOOK_TIMEOUT_MS: '300', PROMO_WEBHOOK_ATTEMPTS: '2', PROMO_WEBHOOK_BACKOFF_MS: '50' } });
    const group = await groupWithCodes(stack, 'Slowpoke', numberedCodes('SLOW', 10));
    const webhook = await startWebhookReceiver();
    webhook.behave(async (message) => {
      if (message.customerId === 'slow-3') await new Promise((resolve) => setTimeout(resolve, 600));
      return 200;
    });
    const mailing = await startMailing(stack, 'Slowpoke', webhook.url, 8, 'slow');
    const done = await mailingEnded(stack, mailing.id);
    expect(done).toMatchObject({ status: 'completed', recipients: 8, sent: 7, failed: 0, unknown: 1, pending: 0 });
    const unknown = (await stack.api('GET', `/api/mailings/${mailing.id}/recipients?status=unknown`)).body.items;
    expect(unknown).toEqual([{ customerId: 'slow-3', status: 'unknown', error: expect.stringMatching(/300 ms/), codes: [{ group: 'Slowpoke', code: expect.any(String), kind: 'initial' }] }]);
    await expectReceivedCodesIssued(stack.sql, heldCodes(webhook.received, mailing.id));
    expect((await stack.api('GET', `/api/groups/${group.id}`)).body).toMatchObject({ active: 2, blocked: 0, issued: 8 });
    await expectLifecycleInvariants(stack.sql);
  });
});

describe('recording a batch while another transaction settles its code', () => {
  it('checks the code again once that transaction commits: issued once, with one history row', async () => {
    const stack = await testStack({ worker: false });
    const group = await groupWithCodes(stack, 'Settled elsewhere', ['ELSEWHERE-1']);
    await createMailing(stack.sql, { publicId: 'settled-elsewhere', name: 'Settled elsewhere', channel: { type: 'log' }, template: { body: '{{ client.promocode("Settled elsewhere") }}' }, recipients: [{ customerId: 'elsewhere-1' }] });
    expect(await reserveMailingCodes(stack.sql, 'settled-elsewhere')).toMatchObject({ ok: true });
    const mailing = await getMailingRecord(stack.sql, 'settled-elsewhere');
    const [recipient] = (await loadUnsettledRecipients(stack.sql, 'settled-elsewhere', 1, 1)).recipients;
    const codeId = recipient!.reserved[0]!.codeId;
    await claimRecipients(stack.sql, mailing, [recipient!.seq], 1);

    // another attempt issues the code and records its history row, and has not committed yet
    const other = await stack.sql.reserve();
    await other`begin`;
    await other`update promo_code set status = 'issued', customer_id = 'elsewhere-1', issued_at = now() where id = ${codeId}`;
    await other`insert into code_issuance (customer_id, group_id, code_id, kind, mailing_id) values ('elsewhere-1', ${group.id}, ${codeId}, 'initial', ${mailing.id})`;
    const recording = recordOutcomes(stack.sql, mailing, 1, [{ seq: recipient!.seq, customerId: 'elsewhere-1', status: 'sent', used: [codeId], repeated: [] }]);
    await someoneWaitsForALock(stack);
    await other`commit`;
    other.release();

    expect(await recording).toEqual({ sent: 1, failed: 0, unknown: 0 });
    const history = await stack.sql`select customer_id from code_issuance where code_id = ${codeId}`;
    expect(history).toEqual([{ customerId: 'elsewhere-1' }]);
    await expectLifecycleInvariants(stack.sql);
  });
});

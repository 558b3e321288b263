// A worker stopped as a deploy stops it (SIGTERM) in the middle of a batch: what it delivered
// is recorded, the rest is sent by the next worker, and the mailing completes with no one left.
import { describe, expect, it } from 'vitest';
import { expectLifecycleInvariants, expectReceivedCodesIssued } from '../support/invariants.js';
import { eventually, groupWithCodes, mailingEnded, numberedCodes, spawnWorkerProcess, testStack, type TestStack } from '../support/stack.js';
import { type ReceivedMail, startSmtpReceiver } from '../support/smtp-receiver.js';
import { heldCodes, startWebhookReceiver } from '../support/webhook-receiver.js';

describe('a worker stopped with SIGTERM mid-batch', () => {
  it('webhook: records what it delivered, fails the batch, and a new worker sends the rest', async () => {
    const stack = await testStack({ worker: false, env: { PROMO_MAILING_BATCH_SIZE: '60', PROMO_MAILING_PARALLELISM: '2' } });
    const group = await groupWithCodes(stack, 'Deploy', numberedCodes('DEPLOY', 150));
    const webhook = await startWebhookReceiver();
    webhook.behave(async () => {
      await new Promise((resolve) => setTimeout(resolve, 100));
      return 200;
    });
    const first = await spawnWorkerProcess(stack);
    const answer = await stack.api('POST', '/api/mailings', {
      json: {
        name: 'Deploy',
        channel: { type: 'webhook', url: webhook.url },
        template: { body: '{{ client.promocode("Deploy") }}' },
        recipients: Array.from({ length: 120 }, (_, i) => ({ customerId: `deploy-${i}` })),
      },
    });
    expect(answer.status, answer.text).toBe(202);
    await eventually(async () => webhook.received.length >= 20 || undefined, 30_000, 10);
    await first.terminate();
    const atShutdown = new Set(webhook.received.map((m) => m.customerId)).size;
    expect(atShutdown, 'the worker stopped mid-mailing').toBeLessThan(120);

    await spawnWorkerProcess(stack);
    const done = await mailingEnded(stack, answer.body.id);
    expect(done).toMatchObject({ status: 'completed', recipients: 120, sent: 120, failed: 0, unknown: 0, pending: 0 });
    expect(new Set(webhook.received.map((m) => m.customerId)).size).toBe(120);
    await expectReceivedCodesIssued(stack.sql, heldCodes(webhook.received));
    expect((await stack.api('GET', `/api/groups/${group.id}`)).body).toMatchObject({ total: 150, active: 30, blocked: 0, issued: 120 });
    await expectLifecycleInvariants(stack.sql);
  });

  it('smtp: stops between messages, and a new worker sends the rest', async () => {
    const smtp = await startSmtpReceiver({ delayMs: 100 });
    const stack = await testStack({ worker: false, env: { PROMO_MAILING_BATCH_SIZE: '200', SMTP_URL: smtp.url } });
    await groupWithCodes(stack, 'Mailed', numberedCodes('MAILED', 200));
    const first = await spawnWorkerProcess(stack);
    const answer = await startSmtpMailing(stack, 'Mailed', 200, 'smtp-deploy');
    await eventually(async () => smtp.mails.length >= 8 || undefined, 30_000, 10);
    await first.terminate();
    // four connections at 100 ms a message: the whole batch would take five seconds
    expect(smtp.mails.length, 'the worker stopped sending soon after SIGTERM').toBeLessThan(100);

    await spawnWorkerProcess(stack);
    const done = await mailingEnded(stack, answer.id);
    expect(done).toMatchObject({ status: 'completed', recipients: 200, sent: 200, failed: 0, unknown: 0, pending: 0 });
    expect(new Set(smtp.mails.map((mail) => mail.to[0])).size).toBe(200);
    await expectReceivedCodesIssued(stack.sql, smtp.mails.map(shownCode));
    await expectLifecycleInvariants(stack.sql);
  });
});

describe('an SMTP server that drops the connection after DATA', () => {
  it('issues the code to that customer and shows the recipient as unknown', async () => {
    const smtp = await startSmtpReceiver({ drop: (address) => address === 'dropped-2@example.com' });
    const stack = await testStack({ env: { SMTP_URL: smtp.url } });
    const group = await groupWithCodes(stack, 'Dropped', numberedCodes('DROPPED', 6));
    const answer = await startSmtpMailing(stack, 'Dropped', 5, 'dropped');
    const done = await mailingEnded(stack, answer.id);
    expect(done).toMatchObject({ status: 'completed', recipients: 5, sent: 4, failed: 0, unknown: 1, pending: 0 });
    expect(smtp.dropped).toHaveLength(1);
    await expectReceivedCodesIssued(stack.sql, [...smtp.mails, ...smtp.dropped].map(shownCode));
    expect((await stack.api('GET', `/api/groups/${group.id}`)).body).toMatchObject({ active: 1, blocked: 0, issued: 5 });
    await expectLifecycleInvariants(stack.sql);
  });
});

async function startSmtpMailing(stack: TestStack, group: string, count: number, prefix: string): Promise<{ id: string }> {
  const answer = await stack.api('POST', '/api/mailings', {
    json: {
      name: prefix,
      channel: { type: 'smtp', from: 'promo@example.com' },
      template: { subject: 'Your code', body: `Code: {{ client.promocode("${group}") }}` },
      recipients: Array.from({ length: count }, (_, i) => ({ customerId: `${prefix}-${i}`, email: `${prefix}-${i}@example.com` })),
    },
  });
  expect(answer.status, answer.text).toBe(202);
  return answer.body;
}

/** The customer (by address) and the code a mail showed them. */
const shownCode = (mail: ReceivedMail) => ({ customerId: mail.to[0]!.replace(/@.*/, ''), code: /Code: (\S+)/.exec(mail.raw)![1]! });

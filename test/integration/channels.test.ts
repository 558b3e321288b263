import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutgoingMessage } from '../../src/channels/channel.js';
import { logChannel } from '../../src/channels/log.js';
import { smtpChannel } from '../../src/channels/smtp.js';
import { addressPolicy, parseAllowList } from '../../src/channels/address-policy.js';
import { webhookChannel, type WebhookOptions } from '../../src/channels/webhook.js';
import { type SmtpReceiver, startSmtpReceiver } from '../support/smtp-receiver.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

// The channels against real receivers in this process: no database, no Temporal.

let batches = 0;
/** `count` messages of a new mailing; `email` gives each one's address */
function messages(count: number, email: (index: number) => string | undefined = (index) => `customer-${index}@example.com`): OutgoingMessage[] {
  const mailingId = `mailing-${++batches}`;
  return Array.from({ length: count }, (_, index) => ({
    mailingId,
    customerId: `customer-${index}`,
    email: email(index),
    subject: 'Your code',
    body: `code ${index}`,
    idempotencyKey: `${mailingId}:customer-${index}`,
  }));
}

const live = () => new AbortController().signal;

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('webhook channel', () => {
  // the receivers listen on loopback, which a webhook may reach only when allowed
  const fast: WebhookOptions = { timeoutMs: 300, attempts: 3, backoffMs: 20, concurrency: 4, policy: addressPolicy(parseAllowList('127.0.0.1').entries) };
  let webhook: WebhookReceiver;
  beforeAll(async () => {
    webhook = await startWebhookReceiver();
  });
  const triesOf = (message: OutgoingMessage) => webhook.received.filter((m) => m.idempotencyKey === message.idempotencyKey).length;

  it('delivers on a 2xx, with the idempotency key as a header', async () => {
    webhook.behave(() => 204);
    const batch = messages(3);
    expect(await webhookChannel(webhook.url, fast).deliver(batch, live())).toEqual(batch.map(() => ({ status: 'delivered' })));
    for (const message of batch) {
      expect(webhook.received.find((m) => m.idempotencyKey === message.idempotencyKey)).toMatchObject({ header: message.idempotencyKey, body: message.body });
    }
  });

  it('sends a key with non-ASCII characters or a line break percent-encoded in the header, raw in the body', async () => {
    webhook.behave(() => 200);
    const key = 'mailing-x:ü\r\nX%20 y';
    const message: OutgoingMessage = { mailingId: 'mailing-x', customerId: 'ü\r\nX%20 y', body: 'code', idempotencyKey: key };
    expect(await webhookChannel(webhook.url, fast).deliver([message], live())).toEqual([{ status: 'delivered' }]);
    const received = webhook.received.find((m) => m.idempotencyKey === key)!;
    expect(received.header).toBe('mailing-x:%C3%BC%0D%0AX%2520%20y');
    expect(decodeURIComponent(received.header!)).toBe(received.idempotencyKey);
  });

  it('fails on a 4xx at once', async () => {
    webhook.behave(() => 422);
    const [message] = messages(1);
    expect(await webhookChannel(webhook.url, fast).deliver([message!], live())).toEqual([{ status: 'failed', error: 'the webhook answered 422' }]);
    expect(triesOf(message!)).toBe(1);
  });

  it('retries a 5xx and delivers when a later try is accepted', async () => {
    webhook.behave((_message, attempt) => (attempt === 1 ? 503 : 200));
    const [message] = messages(1);
    expect(await webhookChannel(webhook.url, fast).deliver([message!], live())).toEqual([{ status: 'delivered' }]);
    expect(triesOf(message!)).toBe(2);
  });

  it('leaves a message answered only with 5xx unknown', async () => {
    webhook.behave(() => 500);
    const [message] = messages(1);
    expect(await webhookChannel(webhook.url, fast).deliver([message!], live())).toEqual([{ status: 'unknown', error: 'the webhook answered 500 (after 3 attempts)' }]);
    expect(triesOf(message!)).toBe(3);
  });

  it('leaves a message unknown when the answer comes after the timeout', async () => {
    webhook.behave(async () => {
      await sleep(500);
      return 200;
    });
    const [message] = messages(1);
    const [result] = await webhookChannel(webhook.url, { ...fast, attempts: 2 }).deliver([message!], live());
    expect(result).toEqual({ status: 'unknown', error: 'the webhook did not answer within 300 ms (after 2 attempts)' });
  });

  it('leaves a message unknown when the connection drops after the request was read', async () => {
    webhook.behave(() => 'drop');
    const [message] = messages(1);
    const [result] = await webhookChannel(webhook.url, fast).deliver([message!], live());
    expect(result).toMatchObject({ status: 'unknown', error: expect.stringMatching(/did not answer: other side closed \(after 3 attempts\)$/) });
    expect(triesOf(message!)).toBe(3);
  });

  it('fails when nothing listens (connection refused on every try)', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/hook`;
    const [result] = await webhookChannel(url, fast).deliver(messages(1), live());
    expect(result).toMatchObject({ status: 'failed', error: expect.stringMatching(/could not be reached: .*ECONNREFUSED.*\(after 3 attempts\)$/) });
  });

  it('leaves a message unknown when a 4xx follows a try that timed out', async () => {
    webhook.behave(async (_message, attempt) => {
      if (attempt === 1) await sleep(500);
      return 409;
    });
    const [message] = messages(1);
    const [result] = await webhookChannel(webhook.url, fast).deliver([message!], live());
    expect(result).toEqual({
      status: 'unknown',
      error: 'the webhook answered 409, but an earlier attempt may have been accepted: the webhook did not answer within 300 ms (after 2 attempts)',
    });
  });

  it('skips every message when the signal is aborted before the start', async () => {
    webhook.behave(() => 200);
    const batch = messages(3);
    const results = await webhookChannel(webhook.url, fast).deliver(batch, AbortSignal.abort());
    expect(results).toEqual(batch.map(() => ({ status: 'skipped' })));
    expect(batch.map(triesOf)).toEqual([0, 0, 0]);
  });

  it('lets the tries under way finish and skips the rest when aborted mid-batch', async () => {
    webhook.behave(async () => {
      await sleep(1000);
      return 200;
    });
    const batch = messages(6);
    const started = Date.now();
    const results = await webhookChannel(webhook.url, { ...fast, timeoutMs: 5000, concurrency: 2 }).deliver(batch, AbortSignal.timeout(100));
    expect(results.map((r) => r.status)).toEqual(['delivered', 'delivered', 'skipped', 'skipped', 'skipped', 'skipped']);
    expect(Date.now() - started).toBeLessThan(2000); // the whole batch takes 3 s
  });

  it('interrupts a message whose 5xx is waiting for a retry, without sleeping out the backoff', async () => {
    webhook.behave(() => 502);
    const [message] = messages(1);
    const started = Date.now();
    const [result] = await webhookChannel(webhook.url, { ...fast, backoffMs: 10_000 }).deliver([message!], AbortSignal.timeout(200));
    expect(result).toEqual({ status: 'interrupted', error: 'the webhook answered 502; stopped before a retry' });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(triesOf(message!)).toBe(1);
  });

  it('skips a message whose only tries were refused connections when aborted before a retry', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/hook`;
    const [result] = await webhookChannel(url, { ...fast, backoffMs: 10_000 }).deliver(messages(1), AbortSignal.timeout(200));
    expect(result).toEqual({ status: 'skipped' });
  });
});

describe('smtp channel', () => {
  const from = 'promo@example.com';
  let smtp: SmtpReceiver;
  let slow: SmtpReceiver;
  beforeAll(async () => {
    smtp = await startSmtpReceiver({ refuse: (address) => address.startsWith('refused'), drop: (address) => address.startsWith('dropped') });
    slow = await startSmtpReceiver({ delayMs: 250 });
  });

  it('delivers each message with its idempotency key as a header', async () => {
    const batch = messages(2);
    expect(await smtpChannel(smtp.url, from).deliver(batch, live())).toEqual([{ status: 'delivered' }, { status: 'delivered' }]);
    for (const message of batch) {
      const mail = smtp.mails.find((m) => m.to.includes(message.email!));
      expect(mail?.raw).toContain(`Idempotency-Key: ${message.idempotencyKey}`);
    }
  });

  it('fails a recipient refused at RCPT TO', async () => {
    const batch = messages(2, (index) => (index === 0 ? 'refused@example.com' : 'accepted@example.com'));
    const results = await smtpChannel(smtp.url, from).deliver(batch, live());
    expect(results[0]).toMatchObject({ status: 'failed', error: expect.stringContaining('550') });
    expect(results[1]).toEqual({ status: 'delivered' });
  });

  it('fails without a usable SMTP server or an address', async () => {
    expect(await smtpChannel(undefined, from).deliver(messages(1), live())).toMatchObject([{ status: 'failed' }]);
    expect(await smtpChannel('not a url', from).deliver(messages(1), live())).toMatchObject([{ status: 'failed' }]);
    expect(await smtpChannel(smtp.url, from).deliver(messages(1, () => undefined), live())).toMatchObject([{ status: 'failed' }]);
  });

  it('fails when the connection is refused', async () => {
    const [result] = await smtpChannel(`smtp://127.0.0.1:${await closedPort()}`, from).deliver(messages(1), live());
    expect(result).toMatchObject({ status: 'failed', error: expect.stringContaining('ECONNREFUSED') });
  });

  it('leaves a message unknown when the connection drops after its data was sent', async () => {
    const batch = messages(1, () => 'dropped@example.com');
    const [result] = await smtpChannel(smtp.url, from).deliver(batch, live());
    expect(result).toMatchObject({ status: 'unknown' });
    expect(smtp.dropped.some((mail) => mail.raw.includes(batch[0]!.idempotencyKey))).toBe(true);
  });

  it('finishes the messages under way and skips the rest when aborted mid-batch', async () => {
    const batch = messages(40);
    const started = Date.now();
    const results = await smtpChannel(slow.url, from).deliver(batch, AbortSignal.timeout(100));
    // four connections: the first four were under way
    expect(results.map((r) => r.status)).toEqual([...Array(4).fill('delivered'), ...Array(36).fill('skipped')]);
    expect(Date.now() - started).toBeLessThan(1800); // the whole batch takes 2.5 s
  });
});

describe('log channel', () => {
  let scratch: string;
  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'promo-log-'));
  });
  afterAll(() => rm(scratch, { recursive: true, force: true }));

  it('appends every message to the log', async () => {
    const file = path.join(scratch, 'logs', 'messages.ndjson');
    const batch = messages(2);
    expect(await logChannel(file).deliver(batch, live())).toEqual([{ status: 'delivered' }, { status: 'delivered' }]);
    const lines = (await readFile(file, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as OutgoingMessage);
    expect(lines.map((line) => line.idempotencyKey)).toEqual(batch.map((message) => message.idempotencyKey));
  });

  it('leaves the messages unknown when the append fails', async () => {
    // the log's path is a directory: the append throws
    const directory = path.join(scratch, 'a-directory');
    await mkdir(directory);
    const results = await logChannel(directory).deliver(messages(2), live());
    expect(results).toMatchObject([{ status: 'unknown' }, { status: 'unknown' }]);
  });

  it('fails the messages when the log cannot even be created', async () => {
    const file = path.join(scratch, 'a-file');
    await writeFile(file, '');
    const results = await logChannel(path.join(file, 'messages.ndjson')).deliver(messages(1), live());
    expect(results).toMatchObject([{ status: 'failed' }]);
  });
});

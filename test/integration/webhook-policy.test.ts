import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addressPolicy, type Lookup, parseAllowList } from '../../src/channels/address-policy.js';
import type { OutgoingMessage } from '../../src/channels/channel.js';
import { channelSettings, openChannel } from '../../src/channels/index.js';
import { webhookChannel, type WebhookOptions } from '../../src/channels/webhook.js';
import { eventually, groupWithCodes, testConfig, testStack, type TestStack } from '../support/stack.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

// Server-side request forgery: a webhook reaches no loopback, private, link-local or other
// non-public address unless PROMO_WEBHOOK_ALLOW allows it, neither when the mailing is accepted
// nor when each message is sent. Nothing here could send a packet beyond this machine even with
// the check broken: sends go only to loopback addresses (those outside the allow list must be
// refused), names resolve through a lookup of the test's own (or /etc/hosts for `localhost`),
// and the API cases record drafts, which send nothing.

let webhook: WebhookReceiver;
let port: number;
beforeAll(async () => {
  webhook = await startWebhookReceiver();
  port = Number(new URL(webhook.url).port);
});

let sequence = 0;
const message = (): OutgoingMessage => {
  const mailingId = `policy-${++sequence}`;
  return { mailingId, customerId: 'c-1', body: 'code', idempotencyKey: `${mailingId}:c-1` };
};
const live = () => new AbortController().signal;
const options = (allow: string, lookup?: Lookup): WebhookOptions => ({
  timeoutMs: 2000,
  attempts: 3,
  backoffMs: 10,
  concurrency: 2,
  policy: addressPolicy(parseAllowList(allow).entries, lookup),
});
/** A resolver that answers from a table and counts its questions; it never asks the network. */
function fakeResolver(answers: (hostname: string, call: number) => string[]): Lookup & { calls: string[] } {
  const calls: string[] = [];
  const lookup = async (hostname: string) => {
    calls.push(hostname);
    return answers(hostname, calls.length).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(lookup, { calls });
}

describe('the webhook channel at send time', () => {
  // Only addresses of this machine, outside the allow list: were the check ever broken, these
  // tests would still send nothing beyond it. Which ranges are refused is address-policy's unit test.
  it.each(['http://127.0.0.2:9/hook', 'http://[::1]:9/hook', 'http://0.0.0.0:9/hook', 'http://[::]:9/hook'])(
    'fails a message to %s at once, without connecting',
    async (url) => {
      const [result] = await webhookChannel(url, options('127.0.0.1')).deliver([message()], live());
      expect(result).toEqual({ status: 'failed', error: expect.stringMatching(/^the webhook address .* is not allowed/) });
    },
  );

  it('fails a message to a loopback receiver unless loopback is allowed', async () => {
    webhook.behave(() => 200);
    const refused = message();
    expect(await webhookChannel(webhook.url, options('')).deliver([refused], live())).toEqual([{ status: 'failed', error: expect.stringContaining('the webhook address 127.0.0.1 is not allowed') }]);
    expect(webhook.received.some((m) => m.idempotencyKey === refused.idempotencyKey)).toBe(false);
    // only the port allowed
    expect(await webhookChannel(webhook.url, options(`127.0.0.1:${port + 1 === 65536 ? 1 : port + 1}`)).deliver([message()], live())).toMatchObject([{ status: 'failed' }]);
    expect(await webhookChannel(webhook.url, options(`127.0.0.1:${port}`)).deliver([message()], live())).toEqual([{ status: 'delivered' }]);
    expect(await webhookChannel(webhook.url, options('127.0.0.0/8')).deliver([message()], live())).toEqual([{ status: 'delivered' }]);
  });

  it('refuses a name that resolves to a refused address, checking each connection (DNS rebinding)', async () => {
    webhook.behave(() => 200);
    const url = `http://hooks.test:${port}/hook`;
    // resolves to the receiver at first, to an address outside the allow list afterwards
    const resolver = fakeResolver((_hostname, call) => (call === 1 ? ['127.0.0.1'] : ['127.0.0.2']));
    const first = message();
    expect(await webhookChannel(url, options('127.0.0.1', resolver)).deliver([first], live())).toEqual([{ status: 'delivered' }]);
    expect(webhook.received.find((m) => m.idempotencyKey === first.idempotencyKey)).toBeDefined();
    const second = message();
    const [result] = await webhookChannel(url, options('127.0.0.1', resolver)).deliver([second], live());
    expect(result).toEqual({ status: 'failed', error: 'the webhook address of hooks.test (127.0.0.2) is not allowed: loopback, private, link-local and other non-public addresses need an entry in PROMO_WEBHOOK_ALLOW' });
    expect(resolver.calls).toEqual(['hooks.test', 'hooks.test']); // refused once: not retried
    expect(webhook.received.some((m) => m.idempotencyKey === second.idempotencyKey)).toBe(false);
  });

  it('connects only to an allowed address among those a name resolves to', async () => {
    webhook.behave(() => 200);
    const resolver = fakeResolver(() => ['127.0.0.2', '::1', '127.0.0.1']);
    const sent = message();
    expect(await webhookChannel(`http://mixed.test:${port}/hook`, options('127.0.0.1', resolver)).deliver([sent], live())).toEqual([{ status: 'delivered' }]);
    expect(webhook.received.find((m) => m.idempotencyKey === sent.idempotencyKey)).toBeDefined();
  });

  it('allows a host name entry whatever it resolves to', async () => {
    webhook.behave(() => 200);
    const resolver = fakeResolver(() => ['127.0.0.1']);
    expect(await webhookChannel(`http://hooks.internal:${port}/hook`, options('hooks.internal', resolver)).deliver([message()], live())).toEqual([{ status: 'delivered' }]);
    expect(await webhookChannel(`http://other.internal:${port}/hook`, options('hooks.internal', resolver)).deliver([message()], live())).toMatchObject([{ status: 'failed' }]);
  });

  it('keeps a message unknown when a refused lookup follows a try that may have been accepted', async () => {
    webhook.behave(() => 'drop');
    const resolver = fakeResolver((_hostname, call) => (call === 1 ? ['127.0.0.1'] : ['127.0.0.2']));
    const [result] = await webhookChannel(`http://flip.test:${port}/hook`, options('127.0.0.1', resolver)).deliver([message()], live());
    expect(result).toMatchObject({ status: 'unknown', error: expect.stringMatching(/is not allowed.*but an earlier attempt may have been accepted/) });
  });

  it('follows no redirect, and never puts the answer\'s body into the error', async () => {
    webhook.behave(() => 200);
    let answer: (response: import('node:http').ServerResponse) => void = () => {};
    const server = createServer((request, response) => {
      request.resume();
      request.on('end', () => answer(response));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    answer = (response) => {
      response.writeHead(307, { location: webhook.url });
      response.end();
    };
    const redirected = message();
    const [result] = await webhookChannel(url, { ...options('127.0.0.1'), attempts: 1 }).deliver([redirected], live());
    expect(result).toEqual({ status: 'unknown', error: 'the webhook answered 307' });
    expect(webhook.received.some((m) => m.idempotencyKey === redirected.idempotencyKey)).toBe(false);
    answer = (response) => {
      response.writeHead(422, { 'content-type': 'text/plain' });
      response.end(`SECRET ${'x'.repeat(1024 * 1024)}`);
    };
    expect(await webhookChannel(url, options('127.0.0.1')).deliver([message()], live())).toEqual([{ status: 'failed', error: 'the webhook answered 422' }]);
  });

  it('takes the policy from PROMO_WEBHOOK_ALLOW', async () => {
    webhook.behave(() => 200);
    const refused = openChannel({ type: 'webhook', url: webhook.url }, channelSettings(testConfig({ PROMO_WEBHOOK_ALLOW: '' })));
    expect(await refused.deliver([message()], live())).toMatchObject([{ status: 'failed', error: expect.stringContaining('is not allowed') }]);
    const allowed = openChannel({ type: 'webhook', url: webhook.url }, channelSettings(testConfig({ PROMO_WEBHOOK_ALLOW: '10.0.0.0/8, 127.0.0.1' })));
    expect(await allowed.deliver([message()], live())).toEqual([{ status: 'delivered' }]);
  });
});

describe('POST /api/mailings', () => {
  let stack: TestStack;
  let closed: TestStack;
  beforeAll(async () => {
    stack = await testStack(); // allows 127.0.0.1 (testConfig), no SMTP_URL
    closed = await testStack({ worker: false, env: { PROMO_WEBHOOK_ALLOW: '' } });
  });
  const post = (on: TestStack, channel: unknown, extra: Record<string, unknown> = {}) =>
    on.api('POST', '/api/mailings', { json: { name: 'Policy', channel, template: { body: 'x' }, ...extra } });

  it.each([
    'http://10.0.0.1/hook',
    'http://192.168.1.1/hook',
    'http://172.16.0.1/hook',
    'http://169.254.169.254/latest/meta-data/',
    'http://0.0.0.0/hook',
    'http://[::1]/hook',
    'http://[fd00::1]/hook',
    'http://[fe80::1]/hook',
    'http://[::ffff:10.0.0.1]/hook',
    'http://[::]/hook',
    'http://224.0.0.1/hook',
    'http://127.0.0.2/hook',
  ])('answers 400 at channel.url for %s', async (url) => {
    const answer = await post(stack, { type: 'webhook', url });
    expect(answer.status, answer.text).toBe(400);
    expect(answer.body.errors).toEqual([{ path: 'channel.url', message: expect.stringMatching(/^the webhook address .* is not allowed/) }]);
  });

  it('answers 400 for a name that resolves only to refused addresses, and accepts allowed ones', async () => {
    // /etc/hosts: localhost is 127.0.0.1, allowed on `stack` but not on `closed`
    const refused = await post(closed, { type: 'webhook', url: `http://localhost:${port}/hook` });
    expect(refused.status, refused.text).toBe(400);
    expect(refused.body.errors).toEqual([{ path: 'channel.url', message: expect.stringContaining('the webhook address of localhost (127.0.0.1') }]);
    expect((await post(closed, { type: 'webhook', url: webhook.url })).status).toBe(400);
    expect((await post(stack, { type: 'webhook', url: `http://localhost:${port}/hook` })).status).toBe(202);
    expect((await post(stack, { type: 'webhook', url: webhook.url })).status).toBe(202);
  });

  it('answers 400 at channel.type for smtp while no SMTP server is configured', async () => {
    const answer = await post(stack, { type: 'smtp', from: 'promo@example.com' }, { recipients: [{ customerId: 'c-1', email: 'c@example.com' }] });
    expect(answer.status, answer.text).toBe(400);
    expect(answer.body.errors).toEqual([{ path: 'channel.type', message: 'no SMTP server is configured (SMTP_URL)' }]);
  });

  it('delivers to a customer id with non-ASCII characters and a line break, the header decoding to the body key', async () => {
    webhook.behave(() => 200);
    await groupWithCodes(stack, 'Unicode', ['UNI-1']);
    const customerId = 'ü\r\nX';
    const answer = await post(stack, { type: 'webhook', url: webhook.url }, { template: { body: '{{ client.promocode("Unicode") }}' }, recipients: [{ customerId }] });
    expect(answer.status, answer.text).toBe(202);
    const mailing = await eventually(async () => {
      const body = (await stack.api('GET', `/api/mailings/${answer.body.id}`)).body;
      return body.status === 'completed' && body;
    });
    expect(mailing).toMatchObject({ sent: 1, failed: 0, unknown: 0 });
    const received = webhook.received.find((m) => m.mailingId === answer.body.id)!;
    expect(received).toMatchObject({ customerId, idempotencyKey: `${answer.body.id}:${customerId}`, body: 'UNI-1' });
    expect(received.header).toMatch(/^[\x21-\x7e]+$/);
    expect(decodeURIComponent(received.header!)).toBe(received.idempotencyKey);
  });
});

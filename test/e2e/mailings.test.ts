import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { browserStack, type BrowserStack, screenshot, widthAtPhoneSize } from '../support/browser.js';
import { eventually, groupWithCodes, numberedCodes, type TestStack } from '../support/stack.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

let stack: TestStack;
let baseUrl: string;
let signedInPage: BrowserStack['signedInPage'];
let webhook: WebhookReceiver;
beforeAll(async () => {
  // batches of 10, one at a time: a 12-recipient mailing has a second batch to hold back
  ({ stack, baseUrl, signedInPage } = await browserStack({ env: { PROMO_MAILING_BATCH_SIZE: '10', PROMO_MAILING_PARALLELISM: '1', PROMO_WEBHOOK_ATTEMPTS: '1' } }));
  webhook = await startWebhookReceiver();
});

async function startMailing(body: Record<string, unknown>): Promise<string> {
  const answer = await stack.api('POST', '/api/mailings', { json: { channel: { type: 'log' }, ...body } });
  expect(answer.status, answer.text).toBe(202);
  return answer.body.id;
}

const recipients = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => ({ customerId: `${prefix}-${String(i).padStart(2, '0')}` }));

const mailingWhen = (id: string, done: (mailing: any) => boolean) =>
  eventually(async () => {
    const mailing = (await stack.api('GET', `/api/mailings/${id}`)).body;
    return done(mailing) && mailing;
  });

const cellsOf = (page: Page, rowText: string) => page.getByRole('row').filter({ hasText: rowText }).getByRole('cell').allTextContents();
const codesRow = (page: Page) => page.locator('tr[data-codes-row]').getByRole('cell').allTextContents();
const counter = (page: Page, field: string) => page.locator(`[data-field="${field}"]`).textContent();

describe('mailing pages', () => {
  it('list mailings newest first and show one with its numbers and every recipient with their code', async () => {
    await groupWithCodes(stack, 'Spring', numberedCodes('SPRING', 70, 3));
    const id = await startMailing({ name: 'Spring launch', template: { body: 'Code {{ client.promocode("Spring") }}' }, recipients: recipients('spring', 60) });
    await mailingWhen(id, (m) => m.status === 'completed');
    const broken = await startMailing({ name: 'Broken', template: { body: '{{ client.promocode("Nope") }}' }, recipients: recipients('broken', 1) });
    await mailingWhen(broken, (m) => m.status === 'failed');
    const codes = new Map<string, string>();
    for (const item of (await stack.api('GET', `/api/mailings/${id}/recipients?limit=1000`)).body.items) codes.set(item.customerId, item.codes[0].code);

    const page = await signedInPage();
    await page.goto(`${baseUrl}/mailings`);
    expect(await page.getByRole('link', { name: 'Mailings' }).getAttribute('aria-current')).toBe('page');
    const names = await page.locator('tbody tr td:first-child').allTextContents();
    expect(names).toEqual(['Broken', 'Spring launch']);
    expect((await cellsOf(page, 'Spring launch')).slice(0, 6)).toEqual(['Spring launch', 'completed', '60', '60', '0', '0']);
    await screenshot(page, 'mailings');

    await Promise.all([page.waitForURL(`${baseUrl}/mailings/${id}`), page.getByRole('link', { name: 'Spring launch' }).click()]);
    expect(await page.locator('.mailing-summary .status').textContent()).toBe('completed');
    expect([await counter(page, 'recipients'), await counter(page, 'sent'), await counter(page, 'failed'), await counter(page, 'pending')]).toEqual(['60', '60', '0', '0']);
    expect(await codesRow(page)).toEqual(['Spring', '60', '60', '0']);
    expect(await page.getByRole('button', { name: 'Cancel mailing' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: /Temporal UI/ }).last().getAttribute('href')).toBe(`http://localhost:8233/namespaces/default/workflows/mailing-${id}`);
    const first = page.getByRole('row').filter({ has: page.getByRole('link', { name: 'spring-00' }) });
    expect(await first.getByRole('link').getAttribute('href')).toBe('/customers/spring-00');
    expect(await first.locator('code').textContent()).toBe(codes.get('spring-00'));
    expect(await page.locator('tbody tr').count()).toBe(1 + 50); // the codes table's row, then a page of recipients
    await screenshot(page, 'mailing');
    expect(await widthAtPhoneSize(page)).toBeLessThanOrEqual(390);

    await page.getByRole('link', { name: 'Next page →' }).click();
    const rest = page.locator('tbody tr:has(a[href^="/customers/"])');
    expect(await rest.count()).toBe(10);
    expect(await rest.last().locator('code').textContent()).toBe(codes.get('spring-59'));

    await page.goto(`${baseUrl}/mailings/${broken}`);
    expect(await page.getByRole('alert').textContent()).toBe('Failed: unknown_group — No group is named "Nope".');
    await page.context().close();
  });

  it('show recipients whose delivery is unknown, with their code and what to do about them', async () => {
    await groupWithCodes(stack, 'Dropped', numberedCodes('DROPPED', 3));
    const dropping = await startWebhookReceiver();
    dropping.behave((message) => (message.customerId === 'dropped-01' ? 'drop' : 200));
    const id = await startMailing({ name: 'Dropped', channel: { type: 'webhook', url: dropping.url }, template: { body: '{{ client.promocode("Dropped") }}' }, recipients: recipients('dropped', 3) });
    const done = await mailingWhen(id, (m) => m.status === 'completed');
    expect(done).toMatchObject({ sent: 2, unknown: 1 });

    const page = await signedInPage();
    await page.goto(`${baseUrl}/mailings`);
    expect((await cellsOf(page, 'Dropped')).slice(2, 7)).toEqual(['3', '2', '0', '1', '0']);
    await page.goto(`${baseUrl}/mailings/${id}`);
    expect([await counter(page, 'sent'), await counter(page, 'unknown'), await counter(page, 'pending')]).toEqual(['2', '1', '0']);
    expect(await page.getByRole('note').textContent()).toMatch(/may have arrived.*keep their codes/s);
    expect(await codesRow(page)).toEqual(['Dropped', '3', '3', '0']);
    const unknown = page.getByRole('row').filter({ has: page.getByRole('link', { name: 'dropped-01' }) });
    expect(await unknown.getByRole('cell').nth(1).textContent()).toBe('unknown');
    expect(await unknown.getByRole('cell').nth(3).textContent()).toMatch(/webhook did not answer/);
    await page.context().close();
  });

  it('follow a running mailing live and cancel it', async () => {
    await groupWithCodes(stack, 'Held', numberedCodes('HELD', 12, 3));
    let releaseFirst!: () => void;
    let releaseSecond!: () => void;
    const first = new Promise<number>((resolve) => (releaseFirst = () => resolve(200)));
    const second = new Promise<number>((resolve) => (releaseSecond = () => resolve(400)));
    webhook.behave((message) => (message.customerId < 'held-10' ? first : second));
    const id = await startMailing({ name: 'Held back', channel: { type: 'webhook', url: webhook.url }, template: { body: '{{ client.promocode("Held") }}' }, recipients: recipients('held', 12) });
    await eventually(async () => webhook.received.length === 10);

    const page = await signedInPage();
    await page.goto(`${baseUrl}/mailings/${id}`);
    expect(await page.locator('.mailing-summary .status').textContent()).toBe('sending');
    expect([await counter(page, 'sent'), await counter(page, 'pending')]).toEqual(['0', '12']);
    await page.evaluate('window.notReloaded = true');
    releaseFirst();
    await page.locator('[data-field="sent"]', { hasText: '10' }).waitFor();
    expect(await counter(page, 'pending')).toBe('2');
    expect(await page.evaluate('window.notReloaded')).toBe(true);

    await eventually(async () => webhook.received.length === 12);
    await page.getByRole('button', { name: 'Cancel mailing' }).click();
    releaseSecond();
    await page.locator('.mailing-summary .status', { hasText: 'cancelled' }).waitFor({ timeout: 20_000 });
    const mailing = await mailingWhen(id, (m) => m.status === 'cancelled');
    expect(mailing).toMatchObject({ sent: 10, failed: 2, pending: 0, codes: [{ group: 'Held', reserved: 12, issued: 10, released: 2 }] });
    expect([await counter(page, 'sent'), await counter(page, 'failed')]).toEqual(['10', '2']);
    expect(await codesRow(page)).toEqual(['Held', '12', '10', '2']);
    expect(await page.getByRole('button', { name: 'Cancel mailing' }).count()).toBe(0);
    expect(await cellsOf(page, 'held-11')).toEqual(['held-11', 'failed', '', 'the webhook answered 400']);
    await page.context().close();
  });

  it('send a visitor without a session to sign in first', async () => {
    for (const path of ['/mailings', '/mailings/x', '/customers', '/customers/x', '/segments']) {
      const answer = await fetch(`${baseUrl}${path}`, { redirect: 'manual' });
      expect(answer.status).toBe(302);
      expect(answer.headers.get('location')).toBe(`/signin?next=${encodeURIComponent(path)}`);
    }
    expect((await fetch(`${baseUrl}/mailings/x/cancel`, { method: 'POST', headers: { origin: baseUrl }, redirect: 'manual' })).status).toBe(302);
  });
});

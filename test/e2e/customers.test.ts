import type { Locator } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { browserStack, type BrowserStack, screenshot, widthAtPhoneSize } from '../support/browser.js';
import { eventually, groupWithCodes, numberedCodes, type TestStack } from '../support/stack.js';

let stack: TestStack;
let baseUrl: string;
let signedInPage: BrowserStack['signedInPage'];
beforeAll(async () => {
  ({ stack, baseUrl, signedInPage } = await browserStack());
});

const XSS = '<script>alert(1)</script>';

/** The text of each row's cells. */
async function rowTexts(rows: Locator): Promise<string[][]> {
  return Promise.all((await rows.all()).map((row) => row.locator('th, td').allTextContents()));
}

describe('customer pages', () => {
  it('show the attributes as text and every code issued, initial and repeat, with its group and mailing', async () => {
    const { id: welcome } = await groupWithCodes(stack, 'Welcome', numberedCodes('WELCOME', 3));
    const { id: loyalty } = await groupWithCodes(stack, 'Loyalty', numberedCodes('LOYALTY', 3));
    const mailing = await stack.api('POST', '/api/mailings', {
      json: {
        name: 'Welcome',
        channel: { type: 'log' },
        template: { body: 'Hi {{ client.first_name }}: {{ client.promocode("Welcome") }}' },
        recipients: [{ customerId: 'ann', attributes: { first_name: 'Ann', note: XSS, tags: ['a', 'b'], vip: true, visits: 1234 } }],
      },
    });
    const mailingId = mailing.body.id;
    await eventually(async () => (await stack.api('GET', `/api/mailings/${mailingId}`)).body.status === 'completed');
    const { code: repeated } = (await stack.api('POST', `/api/groups/${welcome}/reissue`, { json: { customerId: 'ann' } })).body;
    const { code: direct } = (await stack.api('POST', `/api/groups/${loyalty}/issue`, { json: { customerId: 'ann' } })).body;
    expect((await stack.api('POST', `/api/codes/${direct}/redeem`)).status).toBe(200);

    const page = await signedInPage();
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    const response = await page.goto(`${baseUrl}/customers/ann`);
    const html = await response!.text();
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain(XSS);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Customer ann');

    const attributes = page.getByRole('region', { name: 'Attributes' }).locator('tbody tr');
    expect(await rowTexts(attributes)).toEqual([
      ['first_name', 'Ann'],
      ['note', XSS],
      ['tags', '["a","b"]'],
      ['vip', 'true'],
      ['visits', '1234'],
    ]);

    await Promise.all([page.waitForURL(`${baseUrl}/customers/ann?tab=promo-codes`), page.getByRole('link', { name: 'Promo Codes', exact: true }).click()]);
    expect(await page.getByRole('link', { name: 'Promo Codes', exact: true }).getAttribute('aria-current')).toBe('page');
    const history = page.getByRole('region', { name: 'Promo Codes' }).locator('tbody tr');
    expect((await rowTexts(history)).map((cells) => cells.slice(0, 4))).toEqual([
      [direct, 'Loyalty', 'Initial', '—'],
      [repeated, 'Welcome', 'Repeat', '—'],
      [repeated, 'Welcome', 'Initial', mailingId],
    ]);
    expect(await history.nth(0).getByRole('link', { name: 'Loyalty' }).getAttribute('href')).toBe(`/groups/${loyalty}`);
    expect(await history.nth(2).getByRole('link', { name: mailingId }).getAttribute('href')).toBe(`/mailings/${mailingId}`);
    expect(await history.nth(0).locator('time').nth(0).getAttribute('datetime')).toMatch(/^\d{4}-\d\d-\d\dT/);
    // the redeemed code shows when; the others are not redeemed
    expect(await history.nth(0).locator('td').nth(5).locator('time').count()).toBe(1);
    expect((await rowTexts(history)).slice(1).map((cells) => cells[5])).toEqual(['—', '—']);
    expect(dialogs).toEqual([]);
    await screenshot(page, 'customer');
    expect(await widthAtPhoneSize(page)).toBeLessThanOrEqual(390);
    await page.context().close();
  });

  it('find a customer by id, and say so when there is none', async () => {
    const id = 'shop/42 ü';
    expect((await stack.api('PUT', `/api/customers/${encodeURIComponent(id)}`, { json: { attributes: {} } })).status).toBe(200);
    const page = await signedInPage();
    await page.goto(`${baseUrl}/customers`);
    expect(await page.getByRole('link', { name: 'Customers' }).getAttribute('aria-current')).toBe('page');
    await page.getByLabel('Customer id').fill(` ${id} `);
    await Promise.all([page.waitForURL(`${baseUrl}/customers/${encodeURIComponent(id)}`), page.getByRole('button', { name: 'Open profile' }).click()]);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe(`Customer ${id}`);
    await Promise.all([page.waitForURL(/tab=promo-codes$/), page.getByRole('link', { name: 'Promo Codes', exact: true }).click()]);
    expect(await page.getByText('No promo codes issued yet.').count()).toBe(1);

    await page.goto(`${baseUrl}/customers`);
    await page.getByLabel('Customer id').fill('nobody');
    const [answer] = await Promise.all([page.waitForResponse(`${baseUrl}/customers/nobody`), page.getByRole('button', { name: 'Open profile' }).click()]);
    expect(answer.status()).toBe(404);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('No such customer');
    const input = page.getByLabel('Customer id');
    expect(await input.inputValue()).toBe('nobody');
    expect(await page.locator(`#${await input.getAttribute('aria-describedby')}`).textContent()).toBe('No customer has the id “nobody”.');

    const empty = await page.goto(`${baseUrl}/customers?id=+`);
    expect(empty!.status()).toBe(400);
    expect(await page.locator('.field-error').textContent()).toBe('must not be empty');
    await page.context().close();
  });
});

import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { browserStack, type BrowserStack } from '../support/browser.js';
import { expectLifecycleInvariants } from '../support/invariants.js';
import { groupWithCodes, numberedCodes, type TestStack } from '../support/stack.js';

let stack: TestStack;
let baseUrl: string;
let signedInPage: BrowserStack['signedInPage'];
beforeAll(async () => {
  ({ stack, baseUrl, signedInPage } = await browserStack());
});

/** The code's fields as the page shows them, label → text. */
async function details(page: Page): Promise<Record<string, string>> {
  const list = page.getByRole('definition').first().locator('xpath=..');
  const [labels, values] = await Promise.all([list.locator('dt').allTextContents(), list.locator('dd').allTextContents()]);
  return Object.fromEntries(labels.map((label, i) => [label, values[i]!.trim()]));
}

describe('Find a code', () => {
  it('shows a code, redeems it with an order after a confirmation, and takes the redemption back', async () => {
    const group = await groupWithCodes(stack, 'Support', numberedCodes('SUPPORT', 2));
    const { code } = (await stack.api('POST', `/api/groups/${group.id}/issue`, { json: { customerId: 'caller' } })).body;
    const page = await signedInPage();

    await page.goto(`${baseUrl}/codes`);
    await page.getByLabel('Promo code').fill(code);
    await page.getByRole('button', { name: 'Find' }).click();
    expect(await details(page)).toMatchObject({ Code: code, Status: 'issued', Group: 'Support', Customer: 'caller', Redeemed: '—' });

    await page.getByRole('link', { name: 'Redeem' }).click();
    expect(await page.getByText(`Redeem the code ${code} of customer caller?`).count()).toBe(1);
    // an order too long is refused beside its field, and nothing changes
    await page.getByLabel('Order (optional)').fill('x'.repeat(201));
    await page.getByRole('button', { name: 'Redeem' }).click();
    expect(await page.getByText('must be at most 200 characters').count()).toBe(1);
    expect((await stack.api('GET', `/api/codes/${code}`)).body.status).toBe('issued');
    await page.getByLabel('Order (optional)').fill('order-42');
    await page.getByRole('button', { name: 'Redeem' }).click();
    expect(await page.getByRole('status').textContent()).toContain('The code is redeemed.');
    expect(await details(page)).toMatchObject({ Status: 'redeemed', Order: 'order-42' });
    expect((await stack.api('GET', `/api/codes/${code}`)).body).toMatchObject({ status: 'redeemed', orderId: 'order-42' });
    await page.goto(`${baseUrl}/groups/${group.id}`);
    expect(await page.locator('[data-counter="redeemed"]').textContent()).toBe('1');
    expect(await page.locator('[data-counter="issued"]').textContent()).toBe('0');

    // a second agent redeeming it meanwhile is told so, beside the question
    await page.goto(`${baseUrl}/codes/redeem?code=${encodeURIComponent(code)}`);
    await page.getByRole('button', { name: 'Redeem' }).click();
    expect(await page.getByRole('alert').textContent()).toContain('order-42');

    await page.goto(`${baseUrl}/codes?code=${encodeURIComponent(code)}`);
    await page.getByRole('link', { name: 'Take back the redemption' }).click();
    await page.getByRole('button', { name: 'Take back the redemption' }).click();
    expect(await page.getByRole('status').textContent()).toContain('The code is back to issued.');
    expect(await details(page)).toMatchObject({ Status: 'issued', Order: '—' });
    await expectLifecycleInvariants(stack.sql);
  });

  it('says when there is no such code, and offers no action on a code that is not issued', async () => {
    await groupWithCodes(stack, 'Unissued', ['UNISSUED-1']);
    const page = await signedInPage();
    const missing = await page.goto(`${baseUrl}/codes?code=NOPE-1`);
    expect(missing!.status()).toBe(404);
    expect(await page.getByText('There is no promo code “NOPE-1”.').count()).toBe(1);
    await page.goto(`${baseUrl}/codes?code=UNISSUED-1`);
    expect(await details(page)).toMatchObject({ Status: 'active', Customer: '—' });
    expect(await page.getByRole('link', { name: 'Redeem' }).count()).toBe(0);
  });
});

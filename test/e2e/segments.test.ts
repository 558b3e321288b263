import type { Locator } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { browserStack, type BrowserStack, screenshot, widthAtPhoneSize } from '../support/browser.js';
import { groupWithCodes, numberedCodes, type TestStack } from '../support/stack.js';

let stack: TestStack;
let baseUrl: string;
let signedInPage: BrowserStack['signedInPage'];
const groupIds: Record<string, string> = {};
beforeAll(async () => {
  ({ stack, baseUrl, signedInPage } = await browserStack({ worker: false }));
  for (const name of ['Alpha', 'Beta']) groupIds[name] = (await groupWithCodes(stack, name, numberedCodes(name.toUpperCase(), 5))).id;
  // seg-1: Alpha · seg-2: Alpha (redeemed), Beta · seg-3: Beta (redeemed) · seg-4: Alpha (redeemed), Alpha · seg-5: none
  const issuances = [['seg-1', 'Alpha'], ['seg-2', 'Alpha', 'redeem'], ['seg-2', 'Beta'], ['seg-3', 'Beta', 'redeem'], ['seg-4', 'Alpha', 'redeem'], ['seg-4', 'Alpha']] as const;
  for (const [customerId, group, redeem] of issuances) {
    const issued = await stack.api('POST', `/api/groups/${groupIds[group]}/issue`, { json: { customerId } });
    expect(issued.status).toBe(200);
    if (redeem) expect((await stack.api('POST', `/api/codes/${issued.body.code}/redeem`, { json: {} })).status).toBe(200);
  }
  await stack.api('PUT', '/api/customers/seg-5', { json: { attributes: {} } });
});

describe('segment builder', () => {
  it('builds a filter with a nested group and NOT, counts as the API does, and shows errors beside the condition', async () => {
    const page = await signedInPage();
    await page.goto(`${baseUrl}/segments`);
    expect(await page.getByRole('link', { name: 'Segments' }).getAttribute('aria-current')).toBe('page');

    // NOT (number of issued codes ≥ 2) AND (from Alpha OR from Beta)
    const count = page.locator('[data-node="issuedCount"]');
    await count.getByLabel('Value').fill('2');
    await count.getByLabel(/^NOT/).check();
    await page.getByRole('button', { name: '+ Group of conditions' }).click();
    const nested = page.locator('[data-node="group"]').nth(1);
    await nested.getByLabel('Combine with').selectOption('or');
    for (const group of ['Alpha', 'Beta']) {
      await nested.getByRole('button', { name: '+ Issued promo codes from the group' }).click();
      await nested.locator('[data-node="issuedFromGroup"]').last().getByRole('combobox', { name: 'Group', exact: true }).selectOption(group);
    }
    const filter = JSON.parse((await page.locator('#segment-json').textContent())!);
    expect(filter).toEqual({
      and: [{ not: { issuedCount: { op: 'gte', value: 2 } } }, { or: [{ issuedFromGroup: { group: 'Alpha' } }, { issuedFromGroup: { group: 'Beta' } }] }],
    });

    await page.getByRole('button', { name: 'Count customers' }).click();
    const api = (await stack.api('POST', '/api/segments/query', { json: { filter } })).body;
    expect(api).toMatchObject({ count: 2, customerIds: ['seg-1', 'seg-3'] });
    expect(await page.locator('[data-segment-count]').textContent()).toBe(String(api.count));
    const customers = page.locator('#segment-result li a');
    expect(await customers.allTextContents()).toEqual(api.customerIds);
    expect(await customers.first().getAttribute('href')).toBe('/customers/seg-1');
    await page.evaluate('window.scrollTo(0, 0)');
    await screenshot(page, 'segments');

    expect(await widthAtPhoneSize(page)).toBeLessThanOrEqual(390);

    // the API's errors land beside the input they name: a negative value, then a group deleted since the page was loaded
    const errorOf = async (input: Locator) => page.locator(`#${await input.getAttribute('aria-describedby')}`).textContent();
    const invalid = page.locator('[aria-invalid="true"]');
    const value = count.getByLabel('Value');
    await value.fill('-1');
    await page.getByRole('button', { name: 'Count customers' }).click();
    await invalid.first().waitFor();
    expect(await errorOf(value)).toBe('must not be negative');

    await value.fill('2');
    expect((await stack.api('DELETE', `/api/groups/${groupIds.Beta}`)).status).toBe(204);
    await page.getByRole('button', { name: 'Count customers' }).click();
    const beta = nested.locator('[data-node="issuedFromGroup"]').last().getByRole('combobox', { name: 'Group', exact: true });
    await page.locator('[aria-invalid="true"][data-field="group"]').waitFor();
    expect(await errorOf(beta)).toBe('there is no promo code group named "Beta"');
    expect(await invalid.count()).toBe(1);
    expect(await value.getAttribute('aria-invalid')).toBeNull();
    await page.context().close();
  });

  it('builds a filter on redeemed codes, counts as the API does, and shows their errors beside the input', async () => {
    const page = await signedInPage();
    await page.goto(`${baseUrl}/segments`);
    await page.locator('[data-node="issuedCount"]').getByRole('button', { name: 'Remove' }).click();

    // issued an Alpha code not redeemed AND at least 1 Alpha code redeemed since 2020: only seg-4 (seg-2 redeemed its only one)
    await page.getByRole('button', { name: '+ Issued promo codes from the group' }).click();
    const fromGroup = page.locator('[data-node="issuedFromGroup"]');
    await fromGroup.getByRole('combobox', { name: 'Group', exact: true }).selectOption('Alpha');
    await fromGroup.getByRole('combobox', { name: 'Redeemed', exact: true }).selectOption({ label: 'Has not redeemed it' });
    await page.getByRole('button', { name: '+ Number of redeemed promo codes' }).click();
    const redeemed = page.locator('[data-node="redeemedCount"]');
    await redeemed.getByRole('combobox', { name: 'Group', exact: true }).selectOption('Alpha');
    await redeemed.getByLabel('Redeemed since').fill('2020-01-01T00:00');
    const since = await page.evaluate(() => new Date('2020-01-01T00:00').toISOString());
    const filter = JSON.parse((await page.locator('#segment-json').textContent())!);
    expect(filter).toEqual({
      and: [{ issuedFromGroup: { group: 'Alpha', redeemed: false } }, { redeemedCount: { op: 'gte', value: 1, group: 'Alpha', since } }],
    });

    await page.getByRole('button', { name: 'Count customers' }).click();
    const api = (await stack.api('POST', '/api/segments/query', { json: { filter } })).body;
    expect(api).toMatchObject({ count: 1, customerIds: ['seg-4'] });
    expect(await page.locator('[data-segment-count]').textContent()).toBe(String(api.count));
    expect(await page.locator('#segment-result li a').allTextContents()).toEqual(api.customerIds);

    // filter.and[1].redeemedCount.value's error lands beside that input
    const value = redeemed.getByLabel('Value');
    await value.fill('-1');
    await page.getByRole('button', { name: 'Count customers' }).click();
    await page.locator('[aria-invalid="true"]').waitFor();
    expect(await page.locator(`#${await value.getAttribute('aria-describedby')}`).textContent()).toBe('must not be negative');
    await page.context().close();
  });
});

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
  // seg-1: Alpha · seg-2: Alpha, Beta · seg-3: Beta · seg-4: Alpha twice · seg-5: none
  for (const [customerId, group] of [['seg-1', 'Alpha'], ['seg-2', 'Alpha'], ['seg-2', 'Beta'], ['seg-3', 'Beta'], ['seg-4', 'Alpha'], ['seg-4', 'Alpha']] as const) {
    expect((await stack.api('POST', `/api/groups/${groupIds[group]}/issue`, { json: { customerId } })).status).toBe(200);
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
});

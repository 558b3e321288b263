import type { Locator, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { browserStack, type BrowserStack, screenshot, widthAtPhoneSize } from '../support/browser.js';
import { groupWithCodes, numberedCodes, type TestStack } from '../support/stack.js';

let stack: TestStack;
let baseUrl: string;
let signedInPage: BrowserStack['signedInPage'];
beforeAll(async () => {
  // no worker: an auto-refill set here must stay a setting, not start generating
  ({ stack, baseUrl, signedInPage } = await browserStack({ worker: false }));
});

const FORMAT = "{string('0-9', 6)}";
const stored = async (id: string) => (await stack.api('GET', `/api/groups/${id}`)).body;
const nameCell = (page: Page, name: string) => page.getByRole('row').filter({ has: page.getByRole('link', { name, exact: true }) }).getByRole('cell').first();
const listedNames = (page: Page) => page.locator('table.groups tbody td:first-child a').allTextContents();

/** Fills the Settings form's fields (label → value) on a fresh group page. */
async function fillSettings(page: Page, groupId: string, fields: Record<string, string>): Promise<void> {
  await page.goto(`${baseUrl}/groups/${groupId}`);
  for (const [label, value] of Object.entries(fields)) await page.getByLabel(label, { exact: true }).fill(value);
}

async function save(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('status').filter({ hasText: 'The changes were saved.' }).waitFor();
}

/** The text of the field's error, found through aria-describedby. */
async function errorOf(page: Page, field: Locator): Promise<string | null> {
  expect(await field.getAttribute('aria-invalid')).toBe('true');
  return page.locator(`#${await field.getAttribute('aria-describedby')}`).textContent();
}

describe("a group's settings", () => {
  it('sets a threshold, shows the low-stock badge and filter, sets expiry and auto-refill, refuses bad input, clears them', async () => {
    const low = await groupWithCodes(stack, 'Running low', numberedCodes('LOW', 3), { format: FORMAT });
    const plenty = await groupWithCodes(stack, 'Plenty left', numberedCodes('PLENTY', 20), { lowStockThreshold: 5 });
    const page = await signedInPage();

    await fillSettings(page, low.id, { 'Low-stock alert below (active codes)': '10' });
    await save(page);
    expect(await stored(low.id)).toMatchObject({ lowStockThreshold: 10, lowStock: true, expiresAt: null, validForDays: null, autoRefill: null });
    expect((await page.locator('.page-badges').textContent())?.trim()).toBe('Low stock');
    expect(await page.getByRole('list', { name: 'Settings in effect' }).getByRole('listitem').allTextContents()).toEqual(['Low-stock alert below 10']);

    await page.goto(`${baseUrl}/groups`);
    expect(await nameCell(page, 'Running low').textContent()).toBe('Running low Low stock');
    expect(await nameCell(page, 'Plenty left').textContent()).toBe('Plenty left');
    await page.getByRole('link', { name: 'Low stock only' }).click();
    await page.waitForURL(`${baseUrl}/groups?lowStock=true`);
    expect(await listedNames(page)).toEqual(['Running low']);
    // the search and the order keep the filter
    await page.getByLabel('Search by name').fill('running');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(`${baseUrl}/groups?q=running&lowStock=true`);
    expect(await listedNames(page)).toEqual(['Running low']);
    await page.getByRole('link', { name: /^Name/ }).click();
    await page.waitForURL(`${baseUrl}/groups?q=running&sort=name&lowStock=true`);
    expect(await listedNames(page)).toEqual(['Running low']);
    await page.getByLabel('Search by name').fill('plenty');
    await page.getByRole('button', { name: 'Search' }).click();
    expect(await page.getByText("No low-stock group's name contains “plenty”.").isVisible()).toBe(true);
    await page.getByRole('link', { name: 'All groups' }).click();
    expect(await listedNames(page)).toEqual(['Plenty left']);
    expect(await widthAtPhoneSize(page)).toBeLessThanOrEqual(390);

    await fillSettings(page, low.id, { 'Expires at (UTC)': '2030-12-31T23:59', 'Codes valid for (days after issue)': '30', 'Refill below': '2', 'Refill up to': '50' });
    await save(page);
    expect(await stored(low.id)).toMatchObject({
      expiresAt: '2030-12-31T23:59:00.000Z',
      validForDays: 30,
      lowStockThreshold: 10,
      autoRefill: { below: 2, upTo: 50 },
    });
    expect(await page.getByRole('list', { name: 'Settings in effect' }).getByRole('listitem').allTextContents()).toEqual([
      'Expires 2030-12-31 23:59:00 UTC',
      'Codes valid 30 days after issue',
      'Low-stock alert below 10',
      'Auto-refill below 2 up to 50',
    ]);
    expect(await page.getByLabel('Expires at (UTC)').inputValue()).toBe('2030-12-31T23:59');
    await screenshot(page, 'group-settings');
    expect(await widthAtPhoneSize(page)).toBeLessThanOrEqual(390);
    const before = await stored(low.id);

    // refused beside the field, keeping what was typed, changing nothing
    await fillSettings(page, low.id, { 'Refill below': '60', 'Refill up to': '20', 'Low-stock alert below (active codes)': '99' });
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('#field-autoRefillUpTo-error').waitFor();
    expect(await errorOf(page, page.getByLabel('Refill up to'))).toBe('Must be at least 60, the number it refills below.');
    expect(await page.getByLabel('Refill below').inputValue()).toBe('60');
    expect(await stored(low.id)).toEqual(before);

    // a negative number, past the browser's own check
    await fillSettings(page, low.id, { 'Codes valid for (days after issue)': '-3' });
    await page.evaluate(`document.querySelector('form[action="/groups/${low.id}"]').noValidate = true`);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('#field-validForDays-error').waitFor();
    expect(await errorOf(page, page.getByLabel('Codes valid for (days after issue)'))).toBe('Enter a whole number from 1 to 36,500, or leave it empty.');
    expect(await stored(low.id)).toEqual(before);

    // the database refuses an auto-refill without a format
    await fillSettings(page, plenty.id, { 'Refill below': '5', 'Refill up to': '50' });
    expect(await page.getByText('It needs a format: this group has none yet.').isVisible()).toBe(true);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('#field-autoRefillBelow-error').waitFor();
    expect(await errorOf(page, page.getByLabel('Refill below'))).toBe('needs a format: the group has none');
    expect((await stored(plenty.id)).autoRefill).toBeNull();

    await fillSettings(page, low.id, {
      'Expires at (UTC)': '',
      'Codes valid for (days after issue)': '',
      'Low-stock alert below (active codes)': '',
      'Refill below': '',
      'Refill up to': '',
    });
    await save(page);
    expect(await stored(low.id)).toMatchObject({ expiresAt: null, validForDays: null, lowStockThreshold: null, autoRefill: null, lowStock: false, format: FORMAT });
    expect(await page.locator('.page-badges').count()).toBe(0);
    expect(await page.getByRole('list', { name: 'Settings in effect' }).count()).toBe(0);
    await page.context().close();
  });
});

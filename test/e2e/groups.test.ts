import { readFile } from 'node:fs/promises';
import type { Locator, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { browserStack, type BrowserStack, screenshot } from '../support/browser.js';
import { groupWithCodes, numberedCodes, type TestStack } from '../support/stack.js';

let stack: TestStack;
let baseUrl: string;
let signedInPage: BrowserStack['signedInPage'];
beforeAll(async () => {
  ({ stack, baseUrl, signedInPage } = await browserStack());
});

const liveGroups = async (name: string) => stack.sql`select id from promo_group where name = ${name} and deleted_at is null`;
const setStatus = (groupId: string, from: string, to: string, count: number) =>
  stack.sql`update promo_code set status = ${to}::code_status where id in (select id from promo_code where group_id = ${groupId} and status = ${from}::code_status order by id limit ${count})`;
const numbered = (prefix: string, count: number) => numberedCodes(prefix, count, 3);

const rowCells = (page: Page, name: string) => page.getByRole('row').filter({ has: page.getByRole('link', { name, exact: true }) }).getByRole('cell').allTextContents();
const counter = (page: Page, key: string) => page.locator(`[data-counter="${key}"]`).textContent();

async function openCreateDialog(page: Page): Promise<Locator> {
  await page.goto(`${baseUrl}/groups`);
  await page.getByRole('link', { name: 'Create new group' }).click();
  const dialog = page.getByRole('dialog', { name: 'Create new group' });
  await dialog.waitFor();
  return dialog;
}

/** The text of the field's error, found through aria-describedby. */
async function errorOf(page: Page, field: Locator): Promise<string | null> {
  expect(await field.getAttribute('aria-invalid')).toBe('true');
  return page.locator(`#${await field.getAttribute('aria-describedby')}`).textContent();
}

/** Waits until the job row says completed, and returns its cells. */
async function finishedJobRow(page: Page): Promise<string[]> {
  const row = page.locator('tr[data-job-id]').first();
  await row.locator('[data-job-field="status"]', { hasText: 'completed' }).waitFor({ timeout: 30_000 });
  return row.getByRole('cell').allTextContents();
}

describe('creating a group', () => {
  it('by pasting codes shows the report line by line and the counts in the list', async () => {
    await groupWithCodes(stack, 'Stored elsewhere', ['STORED-1']);
    const page = await signedInPage();
    const dialog = await openCreateDialog(page);
    await dialog.getByLabel('Name', { exact: true }).fill('Pasted');
    await dialog.getByLabel('Description').fill('From a spreadsheet');
    expect(await dialog.getByLabel('Upload promo codes').isChecked()).toBe(true);
    const lines = [...numbered('PASTE', 150), 'PASTE-000', 'STORED-1', '', 'bad code', 'ÄÖ'];
    await dialog.getByLabel('Promo codes, one a line').fill(lines.join('\n'));
    await dialog.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: 'Upload report' }).waitFor();
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Pasted');
    expect(await page.locator('[data-report]').allTextContents()).toEqual(['150', '2', '2']);
    expect(await page.getByRole('table').filter({ hasText: 'Invalid lines' }).locator('tbody tr').allInnerTexts()).toEqual([
      '154\tbad code\tcontains whitespace',
      '155\tÄÖ\tcontains a non-ASCII character',
    ]);
    expect(await counter(page, 'total')).toBe('150');

    await page.goto(`${baseUrl}/groups?q=Pasted`);
    expect(await rowCells(page, 'Pasted')).toEqual(['Pasted', '150', '150', '0', '0', '0', '0', 'Edit Delete']);
    await page.context().close();
  });

  it('by generating from the format builder, with the live check, shows the job reach 100 %', async () => {
    const page = await signedInPage();
    const dialog = await openCreateDialog(page);
    await dialog.getByLabel('Name', { exact: true }).fill('Generated');
    await dialog.getByLabel('Generate promo codes').check();
    const format = dialog.getByLabel('Format', { exact: true });
    expect(await format.inputValue()).toBe("{string('A-HJ-NP-Za-km-z2-9', 10)}");

    await dialog.getByLabel('Prefix').fill('GEN-');
    await dialog.getByLabel('Part 1: characters').selectOption('0-9');
    await dialog.getByLabel('Part 1: length').fill('5');
    await dialog.getByRole('button', { name: 'Add a random part' }).click();
    await dialog.getByLabel('Part 2: characters').selectOption('A-Z');
    await dialog.getByLabel('Part 2: length').fill('1');
    await dialog.getByRole('button', { name: 'Add a random part' }).click();
    await dialog.getByRole('button', { name: 'Remove part 3' }).click();
    await dialog.getByRole('button', { name: 'Move part 2 up' }).click();
    await dialog.getByLabel('Suffix').fill('-Z');
    expect(await format.inputValue()).toBe("GEN-{string('A-Z', 1)}{string('0-9', 5)}-Z");

    await dialog.getByLabel('How many codes').fill('2500');
    const check = dialog.locator('[data-format-check]');
    await check.getByText('✓ Valid: codes of 12 characters.').waitFor();
    expect(await check.locator('dd').allTextContents()).toEqual(['2,600,000 codes (21.31 bits)', '2,600,000']);
    const examples = await check.locator('.check-examples li').allTextContents();
    expect(examples).toHaveLength(5);
    for (const example of examples) expect(example).toMatch(/^GEN-[A-Z]\d{5}-Z$/);
    await page.evaluate("document.querySelector('#create-group .format-builder').scrollIntoView()");
    await screenshot(page, 'group-create');

    // text typed by hand shows in the builder when it can, and disables it when it cannot
    await format.fill("GEN-{string('0-9', 3)}");
    expect(await dialog.getByLabel('Part 1: length').inputValue()).toBe('3');
    expect(await dialog.getByLabel('Suffix').inputValue()).toBe('');
    await format.fill("GEN-{string('xyz', 3)}");
    expect(await dialog.getByLabel('Part 1: characters').isDisabled()).toBe(true);
    expect(await dialog.getByText('The format was edited by hand').isVisible()).toBe(true);
    await dialog.getByRole('button', { name: 'Build it again' }).click();
    expect(await format.inputValue()).toBe("GEN-{string('0-9', 3)}");
    await format.fill("GEN-{string('A-Z', 1)}{string('0-9', 5)}-Z");

    await check.getByText('✓ Valid: codes of 12 characters.').waitFor();
    await dialog.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(/\/groups\/\d+\?notice=created$/);
    const cells = await finishedJobRow(page);
    expect(cells[0]).toMatch(/^Generation #\d+$/);
    expect(cells[2]).toBe('2,500 of 2,500 · 100 %');
    expect(cells[3]).toBe('2,500');
    expect(cells[7]).toBe('Workflow ↗');
    await page.locator('[data-counter="total"]', { hasText: '2,500' }).waitFor();
    expect(await page.getByRole('link', { name: 'Workflow ↗' }).getAttribute('href')).toMatch(/^http:\/\/localhost:8233\/namespaces\/default\/workflows\/generate-\d+$/);
    await screenshot(page, 'group');

    const [group] = await liveGroups('Generated');
    const stored = (await stack.api('GET', `/api/groups/${group!.id}`)).body;
    expect(stored).toMatchObject({ total: 2500, active: 2500, format: "GEN-{string('A-Z', 1)}{string('0-9', 5)}-Z" });
    await page.goto(`${baseUrl}/groups?q=Generated`);
    expect(await rowCells(page, 'Generated')).toEqual(['Generated', '2,500', '2,500', '0', '0', '0', '0', 'Edit Delete']);
    await page.context().close();
  });

  it('refuses a bad format or too many codes, in the dialog and on the server, and creates nothing', async () => {
    const page = await signedInPage();
    const dialog = await openCreateDialog(page);
    await dialog.getByLabel('Name', { exact: true }).fill('Bad format');
    await dialog.getByLabel('Generate promo codes').check();
    const format = dialog.getByLabel('Format', { exact: true });
    await format.fill("AB{strin('0-9', 4)}");
    await dialog.getByLabel('How many codes').fill('10');
    const check = dialog.locator('[data-format-check]');
    await check.getByText('✗ position 3: unknown macro "strin"', { exact: false }).waitFor();
    expect(await check.locator('mark').textContent()).toBe('s');
    expect(await check.locator('.check-source').textContent()).toBe("AB{strin('0-9', 4)}");
    await dialog.getByRole('button', { name: 'Save' }).click();
    expect(await dialog.isVisible()).toBe(true);
    expect(await page.evaluate('document.activeElement.id')).toBe('field-format');

    await format.fill("{string('0-9', 2)}");
    await dialog.getByLabel('How many codes').fill('101');
    await check.getByText('✗ quantity 101 is more than the 100 new codes this format can still produce').waitFor();
    await dialog.getByRole('button', { name: 'Save' }).click();
    expect(page.url()).toBe(`${baseUrl}/groups`);
    expect(await liveGroups('Bad format')).toHaveLength(0);

    // without the script the server refuses the same, beside the fields, keeping what was typed
    const plain = await signedInPage({ javaScriptEnabled: false });
    await plain.goto(`${baseUrl}/groups/new`);
    await plain.getByLabel('Name', { exact: true }).fill('Bad format');
    await plain.getByLabel('Generate promo codes').check();
    await plain.getByLabel('Format', { exact: true }).fill("AB{strin('0-9', 4)}");
    await plain.getByLabel('How many codes').fill('10');
    const [refusal] = await Promise.all([plain.waitForResponse(`${baseUrl}/groups/new`), plain.getByRole('button', { name: 'Save' }).click()]);
    expect(refusal.status()).toBe(400);
    expect(await errorOf(plain, plain.getByLabel('Format', { exact: true }))).toMatch(/^position 3: unknown macro "strin"/);
    expect(await plain.getByLabel('Name', { exact: true }).inputValue()).toBe('Bad format');
    expect(await plain.getByLabel('Generate promo codes').isChecked()).toBe(true);

    await plain.getByLabel('Format', { exact: true }).fill("{string('0-9', 2)}");
    await plain.getByLabel('How many codes').fill('101');
    await plain.getByRole('button', { name: 'Save' }).click();
    expect(await errorOf(plain, plain.getByLabel('How many codes'))).toBe("at most 100 more codes can be generated from {string('0-9', 2)}");
    expect(await liveGroups('Bad format')).toHaveLength(0);
    await plain.context().close();
    await page.context().close();
  });

  it('by importing a file through the file input shows the job, its counts and its rejects', async () => {
    const page = await signedInPage();
    let dialog = await openCreateDialog(page);
    await dialog.getByLabel('Name', { exact: true }).fill('Imported');
    await dialog.getByLabel('Import from a file').check();
    const file = dialog.getByLabel('File', { exact: true });
    await file.setInputFiles({ name: 'no-code.csv', mimeType: 'text/csv', buffer: Buffer.from('coupon\nIMP-1\n') });
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.locator('#field-file-error').waitFor();
    expect(await errorOf(page, file)).toMatch(/has no `code` column/);
    expect(await liveGroups('Imported')).toHaveLength(0);

    await page.reload();
    dialog = await openCreateDialog(page);
    await dialog.getByLabel('Name', { exact: true }).fill('Imported');
    await dialog.getByLabel('Import from a file').check();
    const csv = 'code,note\nIMP-1,a\nIMP-2,b\nIMP-1,again\nbad code,x\nIMP-3,c\n';
    await dialog.getByLabel('File', { exact: true }).setInputFiles({ name: 'codes.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await dialog.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(/\/groups\/\d+\?notice=created$/);
    const cells = await finishedJobRow(page);
    expect(cells[0]).toMatch(/^Import #\d+$/);
    expect(cells.slice(2, 6)).toEqual(['5 of 5 · 100 %', '3', '1', '1']);
    expect(cells[7]).toBe('Workflow ↗Rejects CSV');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Rejects CSV' }).click()]);
    expect(await readFile((await download.path())!, 'utf8')).toBe('line,value,reason\r\n4,IMP-1,duplicate of line 2\r\n5,bad code,contains whitespace\r\n');

    await page.goto(`${baseUrl}/groups?q=Imported`);
    expect(await rowCells(page, 'Imported')).toEqual(['Imported', '3', '3', '0', '0', '0', '0', 'Edit Delete']);
    await page.context().close();
  });
  it('without JavaScript imports the file sent with the form', async () => {
    const page = await signedInPage({ javaScriptEnabled: false });
    await page.goto(`${baseUrl}/groups/new`);
    await page.getByLabel('Name', { exact: true }).fill('Imported by form');
    await page.getByLabel('Import from a file').check();
    await page.getByLabel('File', { exact: true }).setInputFiles({ name: 'codes.txt', mimeType: 'text/plain', buffer: Buffer.from('FORM-1\nFORM-2\nFORM-1\n') });
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(/\/groups\/\d+\?notice=created$/);
    const status = page.locator('tr[data-job-id] [data-job-field="status"]');
    for (let tries = 0; (await status.textContent()) !== 'completed' && tries < 100; tries += 1) await page.reload();
    expect(await page.locator('tr[data-job-id]').getByRole('cell').allTextContents()).toEqual(
      expect.arrayContaining(['completed', '3 of 3 · 100 %', '2', '1', '0']),
    );
    expect(await counter(page, 'total')).toBe('2');
    await page.context().close();
  });
});

describe('the list of groups', () => {
  it('sorts by name, searches by name (literally) and pages', async () => {
    const page = await signedInPage();
    await screenshot(page, 'groups'); // the groups the tests above created
    await stack.sql`insert into promo_group (name, name_key) select 'Sort-' || lpad(n::text, 3, '0'), 'sort-' || lpad(n::text, 3, '0') from generate_series(0, 104) n`;
    await groupWithCodes(stack, 'Save 100%_now');
    await groupWithCodes(stack, 'Save 1000 now');

    await page.getByLabel('Search by name').fill('100%_');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/q=100%25_/);
    expect(await page.locator('table.groups tbody tr').count()).toBe(1);
    expect(await rowCells(page, 'Save 100%_now')).toEqual(['Save 100%_now', '0', '0', '0', '0', '0', '0', 'Edit Delete']);

    await page.goto(`${baseUrl}/groups?q=sort-`);
    await page.getByRole('link', { name: 'Name', exact: true }).click();
    await page.waitForURL(/sort=name/);
    expect(await page.getByRole('columnheader', { name: 'Name' }).getAttribute('aria-sort')).toBe('ascending');
    const firstNames = () => page.locator('table.groups tbody tr td:first-child').allTextContents();
    const ascending = await firstNames();
    expect(ascending).toHaveLength(100);
    expect(ascending.slice(0, 2)).toEqual(['Sort-000', 'Sort-001']);
    await page.getByRole('link', { name: 'Next page' }).click();
    expect(await firstNames()).toEqual(['Sort-100', 'Sort-101', 'Sort-102', 'Sort-103', 'Sort-104']);
    expect(new URL(page.url()).searchParams.get('q')).toBe('sort-');

    await page.getByRole('link', { name: 'First page' }).click();
    await page.getByRole('link', { name: 'Name', exact: true }).click();
    await page.waitForURL(/sort=-name/);
    expect((await firstNames()).slice(0, 2)).toEqual(['Sort-104', 'Sort-103']);

    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await page.getByRole('link', { name: 'Create new group' }).click();
    const dialog = await page.getByRole('dialog', { name: 'Create new group' }).boundingBox();
    expect(dialog!.x + dialog!.width).toBeLessThanOrEqual(390);
    await page.context().close();
  });

  it('shows a <script> name as text on the list and on the group page', async () => {
    const name = '<script>alert(1)</script>';
    const group = await groupWithCodes(stack, name, ['XSS-1']);
    const page = await signedInPage();
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    const list = await (await page.goto(`${baseUrl}/groups?q=${encodeURIComponent('<script>')}`))!.text();
    expect(list).not.toContain(name);
    expect(await rowCells(page, name)).toEqual([name, '1', '1', '0', '0', '0', '0', 'Edit Delete']);
    const groupPage = await (await page.goto(`${baseUrl}/groups/${group.id}`))!.text();
    expect(groupPage).not.toContain(name);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe(name);
    expect(await page.getByLabel('Name', { exact: true }).inputValue()).toBe(name);
    expect(dialogs).toEqual([]);
    await page.context().close();
  });

  it('refuses to delete a group while codes are blocked, then deletes it', async () => {
    const group = await groupWithCodes(stack, 'Blocked ones', numbered('BLK', 3));
    await setStatus(group.id, 'active', 'blocked', 2);
    const page = await signedInPage();
    await page.goto(`${baseUrl}/groups?q=Blocked`);
    await page.getByRole('link', { name: 'Delete Blocked ones' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete group' });
    expect(await dialog.locator('[data-slot="name"]').textContent()).toBe('Blocked ones');
    const [refusal] = await Promise.all([page.waitForResponse(`${baseUrl}/groups/${group.id}/delete`), dialog.getByRole('button', { name: 'Delete' }).click()]);
    expect(refusal.status()).toBe(409);
    expect(await page.getByRole('alert').textContent()).toContain('2 codes blocked');
    expect(await liveGroups('Blocked ones')).toHaveLength(1);

    await setStatus(group.id, 'blocked', 'active', 2);
    await page.getByRole('button', { name: 'Delete' }).click(); // the confirmation page, without a dialog
    await page.waitForURL(/\/groups\?deleted=/);
    expect(await page.getByRole('status').textContent()).toBe('The group “Blocked ones” was deleted.');
    expect(await liveGroups('Blocked ones')).toHaveLength(0);
    expect((await page.goto(`${baseUrl}/groups/${group.id}`))!.status()).toBe(404);
    expect(await page.locator('main').textContent()).toContain(`There is no promo code group with id ${group.id}.`);
    await page.context().close();
  });
});

describe('a group page', () => {
  it('filters and pages the codes, and exports them as CSV', async () => {
    const group = await groupWithCodes(stack, 'Listed', numbered('LIST', 150));
    await setStatus(group.id, 'active', 'blocked', 3);
    const page = await signedInPage();
    await page.goto(`${baseUrl}/groups/${group.id}`);
    const codeRows = page.locator('table.codes tbody tr');
    expect(await codeRows.count()).toBe(100);
    await page.getByRole('link', { name: 'Next page' }).click();
    expect(await codeRows.count()).toBe(50);
    expect(await codeRows.last().locator('td').allTextContents()).toEqual(['LIST-002', 'blocked', '', '']);

    await page.getByRole('link', { name: 'Blocked (3)' }).click();
    expect(await page.getByRole('link', { name: 'Blocked (3)' }).getAttribute('aria-current')).toBe('page');
    expect(await codeRows.locator('td:first-child').allTextContents()).toEqual(['LIST-000', 'LIST-001', 'LIST-002']);
    const download = async (name: string) => {
      const [file] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name }).click()]);
      return (await readFile((await file.path())!, 'utf8')).trimEnd().split('\r\n');
    };
    expect(await download('Download blocked codes as CSV')).toEqual(['code,status,customerId,issuedAt', 'LIST-000,blocked,,', 'LIST-001,blocked,,', 'LIST-002,blocked,,']);
    await page.getByRole('link', { name: 'All (150)' }).click();
    const all = await download('Download all codes as CSV');
    expect(all).toHaveLength(151);
    expect(all[1]).toBe('LIST-003,active,,');
    await page.context().close();
  });

  it('edits the settings, pastes with a report and generates more, at phone width too', async () => {
    const group = await groupWithCodes(stack, 'Plain', [], { description: 'no format yet' });
    const page = await signedInPage({ viewport: { width: 390, height: 844 } });
    await page.goto(`${baseUrl}/groups/${group.id}`);
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await page.getByLabel('Generate promo codes').check();
    await page.getByText('The group has no format yet').waitFor();

    const format = page.getByLabel('Format', { exact: true });
    await format.fill("{string('0-9', 3)}");
    await page.getByLabel('Name', { exact: true }).fill('Renamed');
    await page.locator('[data-format-check]').first().getByText('✓ Valid: codes of 3 characters.').waitFor();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'The changes were saved.' }).waitFor();
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Renamed');
    expect((await stack.api('GET', `/api/groups/${group.id}`)).body).toMatchObject({ name: 'Renamed', description: 'no format yet', format: "{string('0-9', 3)}" });

    await page.getByLabel('Upload promo codes').check();
    await page.getByLabel('Promo codes, one a line').fill('123\n123\nx y\n');
    await page.getByRole('button', { name: 'Add codes' }).click();
    await page.getByRole('heading', { name: 'Upload report' }).waitFor();
    expect(await page.locator('[data-report]').allTextContents()).toEqual(['1', '1', '1']);

    await page.getByLabel('Generate promo codes').check();
    await page.getByLabel('How many codes').fill('1000');
    const check = page.locator('[data-format-check]').last();
    await check.getByText('✗ quantity 1000 is more than the 999 new codes this format can still produce').waitFor();
    await page.getByRole('button', { name: 'Add codes' }).click();
    expect(await page.evaluate('document.activeElement.id')).toBe('field-quantity');
    await page.getByLabel('How many codes').fill('999');
    await check.getByText('✓ Valid: codes of 3 characters.').waitFor();
    await page.getByRole('button', { name: 'Add codes' }).click();
    await page.waitForURL(/notice=job$/);
    expect((await finishedJobRow(page))[2]).toBe('999 of 999 · 100 %');
    await page.locator('[data-counter="total"]', { hasText: '1,000' }).waitFor();
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await page.context().close();
  });

  it('shows the HTML 404 page for an unknown group', async () => {
    const page = await signedInPage();
    for (const id of ['999999999', 'abc']) {
      const answer = await page.goto(`${baseUrl}/groups/${id}`);
      expect(answer!.status()).toBe(404);
      expect(answer!.headers()['content-type']).toMatch(/^text\/html/);
      expect(await page.getByRole('alert').textContent()).toBe(`There is no promo code group with id ${id}.`);
    }
    await page.context().close();
  });
});

import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { onCleanup, TEST_TOKEN } from './stack.js';

const SCREENSHOTS = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));

/** Debian's Chromium, headless, closed once the file's tests are done. */
export async function launchBrowser(): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  onCleanup(() => browser.close());
  return browser;
}

/** Signs `page` in through the sign-in form; it ends on /groups. */
export async function signIn(page: Page, baseUrl: string, token = TEST_TOKEN): Promise<void> {
  await page.goto(`${baseUrl}/signin`);
  await page.getByLabel('API token').fill(token);
  await Promise.all([page.waitForURL(`${baseUrl}/groups`), page.getByRole('button', { name: 'Sign in' }).click()]);
}

/** Writes docs/screenshots/<name>.png of the page at 1280×800. */
export async function screenshot(page: Page, name: string): Promise<void> {
  const viewport = page.viewportSize();
  await page.setViewportSize({ width: 1280, height: 800 });
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: `${SCREENSHOTS}${name}.png` });
  if (viewport) await page.setViewportSize(viewport);
}

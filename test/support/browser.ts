import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContextOptions, chromium, type Page } from 'playwright-core';
import { serveStack } from './http-server.js';
import { onCleanup, TEST_TOKEN, testStack, type TestStack } from './stack.js';

// the README's screenshots are rewritten only on request, so a test run leaves the tree as it was
const SCREENSHOTS = process.env.UPDATE_SCREENSHOTS
  ? fileURLToPath(new URL('../../docs/screenshots/', import.meta.url))
  : path.join(os.tmpdir(), 'promo-screenshots/');

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

/** Takes `<name>.png` of the page at 1280×800: into docs/screenshots/ with UPDATE_SCREENSHOTS=1, else a scratch dir. */
export async function screenshot(page: Page, name: string): Promise<void> {
  const viewport = page.viewportSize();
  await page.setViewportSize({ width: 1280, height: 800 });
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: `${SCREENSHOTS}${name}.png` });
  if (viewport) await page.setViewportSize(viewport);
}

/** How wide the page lays out at phone width (390 px); wider than 390 means it scrolls sideways. */
export async function widthAtPhoneSize(page: Page): Promise<number> {
  // a page just navigated to may not have its stylesheet yet: laid out without it, it overflows
  await page.waitForLoadState('load');
  const viewport = page.viewportSize();
  await page.setViewportSize({ width: 390, height: 844 });
  const width = Number(await page.evaluate('document.documentElement.scrollWidth'));
  if (viewport) await page.setViewportSize(viewport);
  return width;
}

export interface BrowserStack {
  stack: TestStack;
  baseUrl: string;
  browser: Browser;
  /** A page signed in, in a browser context of its own (downloads accepted). */
  signedInPage(options?: BrowserContextOptions): Promise<Page>;
}

/** A test stack served over HTTP and a browser to drive its pages. */
export async function browserStack(options: Parameters<typeof testStack>[0] = {}): Promise<BrowserStack> {
  const stack = await testStack(options);
  const baseUrl = await serveStack(stack);
  const browser = await launchBrowser();
  return {
    stack,
    baseUrl,
    browser,
    signedInPage: async (contextOptions = {}) => {
      const page = await (await browser.newContext({ acceptDownloads: true, ...contextOptions })).newPage();
      await signIn(page, baseUrl);
      return page;
    },
  };
}

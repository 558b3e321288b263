import type { Browser, BrowserContext } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { browserStack, type BrowserStack, screenshot } from '../support/browser.js';
import { TEST_TOKEN, type TestStack } from '../support/stack.js';

let stack: TestStack;
let baseUrl: string;
let browser: Browser;
let signedInPage: BrowserStack['signedInPage'];
beforeAll(async () => {
  ({ stack, baseUrl, browser, signedInPage } = await browserStack());
});

const XSS_NAME = '<script>alert(1)</script>';

async function sessionCookie(context: BrowserContext): Promise<string> {
  const cookie = (await context.cookies()).find((c) => c.name === 'promo_session');
  expect(cookie).toBeDefined();
  return `${cookie!.name}=${cookie!.value}`;
}

/** A form POST from node: only what the arguments say, no browser help. */
const post = (path: string, headers: Record<string, string>, form: Record<string, string> = {}) =>
  fetch(`${baseUrl}${path}`, { method: 'POST', headers, body: new URLSearchParams(form), redirect: 'manual' });

describe('without a session', () => {
  it('sends pages to the sign-in page and keeps where they were going', async () => {
    for (const [path, next] of [
      ['/groups?x=1', '/groups?x=1'],
      ['/', undefined],
    ] as const) {
      const answer = await fetch(`${baseUrl}${path}`, { redirect: 'manual' });
      expect(answer.status).toBe(302);
      const location = answer.headers.get('location');
      if (next) expect(location).toBe(`/signin?next=${encodeURIComponent(next)}`);
      else expect(location).toBe('/groups');
    }
    expect((await post('/signout', { origin: baseUrl })).status).toBe(302);

    const page = await browser.newPage();
    await page.goto(`${baseUrl}/groups`);
    expect(page.url()).toBe(`${baseUrl}/signin?next=%2Fgroups`);
    await screenshot(page, 'signin');
    await page.close();
  });

  it('serves the stylesheet and the script to anyone', async () => {
    const css = await fetch(`${baseUrl}/assets/app.css`);
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
    expect((await fetch(`${baseUrl}/assets/app.js`)).headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await fetch(`${baseUrl}/assets/missing.css`)).status).toBe(404);
    expect((await fetch(`${baseUrl}/assets/..%2Fsession.ts`)).status).toBe(404);
  });

  it('shows a wrong token as an error beside the field (401)', async () => {
    const page = await browser.newPage();
    await page.goto(`${baseUrl}/signin`);
    await page.getByLabel('API token').fill('not-the-token');
    const [response] = await Promise.all([page.waitForResponse(`${baseUrl}/signin`), page.getByRole('button', { name: 'Sign in' }).click()]);
    expect(response.status()).toBe(401);
    const input = page.getByLabel('API token');
    expect(await input.getAttribute('aria-invalid')).toBe('true');
    const errorId = await input.getAttribute('aria-describedby');
    expect(await page.locator(`#${errorId}`).textContent()).toBe('That token is not valid.');
    expect((await page.context().cookies()).length).toBe(0);
    await page.close();
  });

  it('goes only to paths of this site after signing in', async () => {
    for (const [next, location] of [
      ['/groups?x=1', '/groups?x=1'],
      ['//evil.example/x', '/groups'],
      ['/\\evil.example', '/groups'],
      ['https://evil.example/', '/groups'],
    ]) {
      const answer = await post('/signin', { origin: baseUrl }, { token: TEST_TOKEN, next: next! });
      expect(answer.status).toBe(303);
      expect(answer.headers.get('location')).toBe(location);
    }
  });
});

describe('signed in', () => {
  it('lists groups made through the API, names as text', async () => {
    const dialogs: string[] = [];
    const created = await stack.api('POST', '/api/groups', { json: { name: XSS_NAME } });
    expect(created.status).toBe(201);
    const codes = Array.from({ length: 1500 }, (_, i) => `UI-${String(i).padStart(6, '0')}`);
    expect((await stack.api('POST', `/api/groups/${created.body.id}/codes`, { json: { codes } })).body.added).toBe(1500);

    const page = await signedInPage();
    const context = page.context();
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    const response = await page.goto(`${baseUrl}/groups`);
    const html = await response!.text();
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain(XSS_NAME);

    const row = page.getByRole('row').filter({ hasText: XSS_NAME });
    expect(await row.getByRole('cell').allTextContents()).toEqual([XSS_NAME, '1,500', '1,500', '0', '0', '0', '0', 'Edit Delete']);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Promo codes');
    expect(await page.getByRole('link', { name: 'Promo codes' }).getAttribute('aria-current')).toBe('page');
    expect(await page.getByRole('link', { name: /Temporal UI/ }).getAttribute('target')).toBe('_blank');
    expect(dialogs).toEqual([]);
    await context.close();
  });

  it('sets an HttpOnly, SameSite=Strict cookie that is not the token', async () => {
    const context = (await signedInPage()).context();
    const cookies = await context.cookies();
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatchObject({ name: 'promo_session', httpOnly: true, sameSite: 'Strict', path: '/', secure: false });
    expect(cookies[0]!.value).not.toContain(TEST_TOKEN);
    const cookie = await sessionCookie(context);
    expect((await fetch(`${baseUrl}/groups`, { headers: { cookie }, redirect: 'manual' })).status).toBe(200);
    const forged = cookie.replace('promo_session=', 'promo_session=x');
    expect((await fetch(`${baseUrl}/groups`, { headers: { cookie: forged }, redirect: 'manual' })).status).toBe(302);
    await context.close();
  });

  it('refuses a change without the CSRF token, or from another origin, and changes nothing', async () => {
    const page = await signedInPage();
    const context = page.context();
    const cookie = await sessionCookie(context);
    const csrfToken = await page.locator('meta[name="csrf-token"]').getAttribute('content');
    expect(csrfToken).toBeTruthy();

    for (const [headers, form] of [
      [{ cookie, origin: baseUrl }, {}],
      [{ cookie, origin: baseUrl }, { _csrf: 'forged' }],
      [{ cookie, origin: baseUrl, 'x-csrf-token': `${csrfToken}x` }, {}],
      [{ cookie, origin: 'http://evil.example' }, { _csrf: csrfToken! }],
      [{ cookie, origin: 'http://evil.example', 'x-csrf-token': csrfToken! }, {}],
    ] as const) {
      const answer = await post('/signout', headers, form);
      expect(answer.status, JSON.stringify(headers)).toBe(403);
      expect(answer.headers.get('set-cookie')).toBeNull();
    }
    const stillIn = await fetch(`${baseUrl}/groups`, { headers: { cookie }, redirect: 'manual' });
    expect(stillIn.status).toBe(200);

    // the browser's own fetch through the shared helper carries the token
    const status = await page.evaluate("csrfFetch('/signout', { method: 'POST' }).then((answer) => answer.status)");
    expect(status).toBe(200); // followed to /signin
    expect(await context.cookies()).toEqual([]);
    await context.close();
  });

  it("lets the pages' scripts call the API with the session, changes only with the CSRF header", async () => {
    const page = await signedInPage();
    const context = page.context();
    const call = (path: string, init: string) => page.evaluate(`fetch('${path}', ${init}).then((answer) => answer.status)`);
    const groupBody = (name: string) => `{ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: '${name}' }) }`;
    expect(await call('/api/groups', '{}')).toBe(200);
    expect(await call('/api/groups', groupBody('Without token'))).toBe(403);
    expect((await stack.api('GET', '/api/groups?limit=1000')).body.items.map((g: { name: string }) => g.name)).not.toContain('Without token');
    expect(await page.evaluate(`csrfFetch('/api/groups', ${groupBody('With token')}).then((answer) => answer.status)`)).toBe(201);
    const cookie = await sessionCookie(context);
    expect((await fetch(`${baseUrl}/api/groups`, { headers: { cookie: cookie.replace('promo_session=', 'promo_session=x') } })).status).toBe(401);
    await context.close();
  });

  it('signs out with the button', async () => {
    const page = await signedInPage();
    const context = page.context();
    await Promise.all([page.waitForURL(`${baseUrl}/signin`), page.getByRole('button', { name: 'Sign out' }).click()]);
    expect(await context.cookies()).toEqual([]);
    await page.goto(`${baseUrl}/groups`);
    expect(page.url()).toBe(`${baseUrl}/signin?next=%2Fgroups`);
    await context.close();
  });

  it('ends a copied cookie too when signing out with the button', async () => {
    const page = await signedInPage();
    const context = page.context();
    const copy = await sessionCookie(context);
    expect((await fetch(`${baseUrl}/groups`, { headers: { cookie: copy }, redirect: 'manual' })).status).toBe(200);
    await Promise.all([page.waitForURL(`${baseUrl}/signin`), page.getByRole('button', { name: 'Sign out' }).click()]);
    const pageAfter = await fetch(`${baseUrl}/groups`, { headers: { cookie: copy }, redirect: 'manual' });
    expect(pageAfter.status).toBe(302);
    expect(pageAfter.headers.get('location')).toBe('/signin?next=%2Fgroups');
    const apiAfter = await fetch(`${baseUrl}/api/groups`, { headers: { cookie: copy } });
    expect(apiAfter.status).toBe(401);
    expect(apiAfter.headers.get('content-type')).toBe('application/problem+json');
    await context.close();
  });

  it('lists sessions on the Sessions page and revokes another one with its button', async () => {
    const other = await signedInPage();
    const page = await signedInPage();
    await page.getByRole('link', { name: 'Sessions' }).click();
    await page.waitForURL(`${baseUrl}/sessions`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Sessions');
    expect(await page.getByRole('link', { name: 'Sessions' }).getAttribute('aria-current')).toBe('page');
    const current = page.getByRole('row').filter({ hasText: '(this one)' });
    expect(await current.count()).toBe(1);
    expect(await current.getByRole('cell').nth(3).textContent()).toBe('127.0.0.1');
    expect(await current.getByRole('cell').nth(4).textContent()).toMatch(/Chrome/);
    await screenshot(page, 'sessions');

    const listed = (await (await other.context().request.get(`${baseUrl}/api/sessions?limit=1000`)).json()) as { items: { id: string; current: boolean }[] };
    const otherId = listed.items.find((item) => item.current)!.id;
    const revoke = page.locator(`form[action="/sessions/${otherId}/revoke"]`).getByRole('button', { name: /^Revoke/ });
    await Promise.all([page.waitForURL(`${baseUrl}/sessions`), revoke.click()]);
    expect(await page.locator(`form[action="/sessions/${otherId}/revoke"]`).count()).toBe(0);
    await other.goto(`${baseUrl}/groups`);
    expect(other.url()).toBe(`${baseUrl}/signin?next=%2Fgroups`);
    await page.goto(`${baseUrl}/groups`);
    expect(page.url()).toBe(`${baseUrl}/groups`);

    // revoking its own session signs this browser out
    await page.goto(`${baseUrl}/sessions`);
    await Promise.all([page.waitForURL(`${baseUrl}/signin`), page.getByRole('row').filter({ hasText: '(this one)' }).getByRole('button', { name: /^Revoke/ }).click()]);
    await page.goto(`${baseUrl}/groups`);
    expect(page.url()).toBe(`${baseUrl}/signin?next=%2Fgroups`);
    await other.context().close();
    await page.context().close();
  });

  it('keeps the whole menu visible at phone width (390 px)', async () => {
    const page = await signedInPage({ viewport: { width: 390, height: 844 } });
    const context = page.context();
    for (const name of ['Promo codes', 'Mailings', 'Customers', 'Segments', 'Sessions', /Temporal UI/]) {
      const box = await page.getByRole('link', { name }).boundingBox();
      expect(box, String(name)).not.toBeNull();
      expect(box!.x + box!.width).toBeLessThanOrEqual(390);
    }
    expect(await page.getByRole('button', { name: 'Sign out' }).isVisible()).toBe(true);
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await context.close();
  });
});

import { type Env, Hono } from 'hono';
import { csrf } from 'hono/csrf';
import { jsxRenderer } from 'hono/jsx-renderer';
import { secureHeaders } from 'hono/secure-headers';
import { refusalOf } from '../api/problem.js';
import type { AppDeps } from '../api/router.js';
import { requireCsrfToken } from './csrf.js';
import { rejectUnstorablePathOrQuery } from './unstorable-input.js';
import { Layout } from './layout.js';
import { authFor } from '../auth/auth.js';
import type { SessionEnv } from '../auth/sessions.js';

/** What every page handler finds in `c.var`. */
export type UiEnv = SessionEnv;

/** The base of every page router: nothing but the app's own scripts and styles, no framing, no unsafe cross-origin request. */
export function uiRouter<E extends Env>(): Hono<E> {
  const app = new Hono<E>();
  app.use(
    '*',
    secureHeaders({
      contentSecurityPolicy: { defaultSrc: ["'self'"], baseUri: ["'none'"], formAction: ["'self'"], frameAncestors: ["'none'"], objectSrc: ["'none'"] },
      strictTransportSecurity: false, // the deployment's choice, not the app's
    }),
  );
  // hosts, not origins: behind a TLS-terminating proxy the app sees http while the browser sends https
  app.use('*', csrf({ origin: (origin, c) => URL.canParse(origin) && new URL(origin).host === new URL(c.req.url).host }));
  return app;
}

/**
 * The router of one section of pages behind sign-in. Mount it at the section's own prefix in
 * routes.tsx, never at '/' (its middleware would then cover every path of the app). Without a
 * session a request is sent to /signin; a request that may change something needs the CSRF token.
 */
export function pageRouter(deps: AppDeps): Hono<UiEnv> {
  const app = uiRouter<UiEnv>();
  const { sessions } = authFor(deps);
  app.use('*', async (c, next) => {
    const session = await sessions.read(c);
    if (!session) {
      const { pathname, search } = new URL(c.req.url);
      return c.redirect(c.req.method === 'GET' ? `/signin?next=${encodeURIComponent(pathname + search)}` : '/signin', 302);
    }
    c.set('session', session);
    await next();
  });
  app.use('*', jsxRenderer(({ children, title, active }) => <Layout title={title} active={active} temporalUiUrl={deps.temporalUiUrl}>{children}</Layout>));
  app.use('*', requireCsrfToken);
  app.use('*', rejectUnstorablePathOrQuery);
  app.onError((error, c) => {
    const { status, title, detail, retryAfter } = refusalOf(error, c, deps.logger);
    c.status(status);
    if (retryAfter !== undefined) c.header('Retry-After', String(retryAfter));
    return c.render(<p class="error" role="alert">{detail}</p>, { title });
  });
  return app;
}

import { jsxRenderer } from 'hono/jsx-renderer';
import { z } from 'zod';
import type { AppDeps } from '../../api/router.js';
import { authFor } from '../../auth/auth.js';
import { Field } from '../components/field.js';
import { Document } from '../document.js';
import { readForm } from '../form.js';
import { pageRouter, uiRouter } from '../router.js';

const HOME = '/groups';
/** Where to go after signing in: a path of this site only (`//host` and `/\host` are other sites to a browser). */
const NextPath = z.string().regex(/^\/(?![/\\])[\x21-\x7e]*$/).catch(HOME);
const SigninFields = z.object({ token: z.string().trim().min(1, 'Enter an API token.'), next: NextPath });

/**
 * GET/POST /signin: an API token for a session cookie. Wrong tokens count against the client's
 * address together with wrong bearer tokens at /api; past the limit the form answers 429.
 */
export function signinRoutes(deps: AppDeps) {
  const app = uiRouter();
  const { sessions, isApiToken, throttle, address } = authFor(deps);
  app.use('*', jsxRenderer(({ children, title }) => <Document title={title}>{children}</Document>));

  app.get('/', (c) => c.render(<SigninForm next={NextPath.parse(c.req.query('next'))} />, { title: 'Sign in' }));

  app.post('/', async (c) => {
    const form = await readForm(c, SigninFields);
    const next = form.ok ? form.data.next : NextPath.parse(form.values.next);
    const client = address(c);
    const wait = throttle.retryAfter(client);
    if (wait > 0) {
      c.status(429);
      c.header('Retry-After', String(wait));
      return c.render(<SigninForm next={next} error={`Too many wrong tokens from this address. Try again in ${wait} seconds.`} />, { title: 'Sign in' });
    }
    if (form.ok && isApiToken(form.data.token)) {
      await sessions.start(c, client);
      return c.redirect(form.data.next, 303);
    }
    if (form.ok) throttle.fail(client);
    c.status(401);
    return c.render(<SigninForm next={next} error={form.ok ? 'That token is not valid.' : form.errors.token} />, { title: 'Sign in' });
  });
  return app;
}

/** POST /signout (with the CSRF token, as every change): revokes the session, so every copy of its cookie stops working. */
export function signoutRoutes(deps: AppDeps) {
  const app = pageRouter(deps);
  const { sessions } = authFor(deps);
  app.post('/', async (c) => {
    await sessions.end(c);
    return c.redirect('/signin', 303);
  });
  return app;
}

function SigninForm({ next, error }: { next: string; error?: string | undefined }) {
  return (
    <main class="signin">
      <h1>Promo codes</h1>
      <form method="post" action="/signin" class="card">
        <input type="hidden" name="next" value={next} />
        <Field name="token" label="API token" type="password" error={error} required autofocus autocomplete="current-password" />
        <p class="hint">One of the service's PROMO_API_TOKENS (npm run dev prints it).</p>
        <button type="submit">Sign in</button>
      </form>
    </main>
  );
}

import type { Context, MiddlewareHandler } from 'hono';
import { useRequestContext } from 'hono/jsx-renderer';
import { CSRF_HEADER, csrfSatisfied, type SessionEnv as UiEnv } from '../auth/sessions.js';

const CSRF_FIELD = '_csrf';
const FORM_TYPE = /^(application\/x-www-form-urlencoded|multipart\/form-data)\b/i;

/**
 * Refuses (403) a request that may change something unless it carries the session's CSRF token,
 * as the `x-csrf-token` header or the form field `_csrf`. Large uploads should send the header:
 * the field is found by parsing (so buffering) the whole form. Runs after the renderer is set.
 */
export const requireCsrfToken: MiddlewareHandler<UiEnv> = async (c, next) => {
  const presented = c.req.header(CSRF_HEADER) ?? (await formField(c));
  if (!csrfSatisfied(c.var.session, c.req.method, presented)) {
    c.status(403);
    return c.render(<p>The request did not carry this session's form token. Reload the page and try again.</p>, { title: 'Refused' });
  }
  await next();
};

// parseBody caches the form, so the handler reads it again for free
async function formField(c: Context): Promise<string | undefined> {
  if (!FORM_TYPE.test(c.req.header('content-type') ?? '')) return undefined;
  const value = (await c.req.parseBody())[CSRF_FIELD];
  return typeof value === 'string' ? value : undefined;
}

/** The CSRF token of the session of the page being rendered. */
export const useCsrfToken = (): string => useRequestContext<UiEnv>().var.session.csrfToken;

/** Put it in every form that changes something. */
export const CsrfField = () => <input type="hidden" name={CSRF_FIELD} value={useCsrfToken()} />;

import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { Context } from 'hono';
import { deleteCookie, getSignedCookie, setSignedCookie } from 'hono/cookie';
import { tokenMatcher } from '../api/auth.js';

export const SESSION_COOKIE = 'promo_session';
const LIFETIME_SECONDS = 12 * 60 * 60;

export interface Session {
  id: string;
  /** what forms and client `fetch` calls send back as `_csrf` / `x-csrf-token` */
  csrfToken: string;
}

/** What every page handler finds in `c.var`. */
export interface UiEnv {
  Variables: { session: Session };
}

export interface Sessions {
  start(c: Context): Promise<void>;
  read(c: Context): Promise<Session | undefined>;
  end(c: Context): void;
}

/**
 * Stateless sessions: the cookie holds a random id and its expiry, signed with a key derived
 * from the API tokens, so every API process configured alike accepts it and changing the tokens
 * ends every session. The CSRF token is an HMAC of the session id under the same key.
 */
export function sessions(apiTokens: readonly string[]): Sessions {
  const secret = createHash('sha256').update(`promo-codes operator session\n${[...apiTokens].sort().join('\n')}`).digest();
  const session = (id: string): Session => ({ id, csrfToken: createHmac('sha256', secret).update(`csrf:${id}`).digest('base64url') });
  return {
    start: async (c) => {
      const expires = Math.floor(Date.now() / 1000) + LIFETIME_SECONDS;
      await setSignedCookie(c, SESSION_COOKIE, `${randomBytes(16).toString('base64url')}.${expires}`, secret, {
        httpOnly: true,
        sameSite: 'Strict',
        path: '/',
        secure: isHttps(c),
        maxAge: LIFETIME_SECONDS,
      });
    },
    read: async (c) => {
      const value = await getSignedCookie(c, secret, SESSION_COOKIE);
      const [id, expires] = value ? value.split('.') : [];
      return id && Number(expires) > Date.now() / 1000 ? session(id) : undefined;
    },
    end: (c) => {
      deleteCookie(c, SESSION_COOKIE, { path: '/' });
    },
  };
}

/** The header client scripts send the CSRF token in. */
export const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Whether a request with the session may go on: a safe method, or the session's CSRF token presented. */
export function csrfSatisfied(session: Session, method: string, presented: string | undefined): boolean {
  return SAFE_METHODS.has(method) || (presented !== undefined && tokenMatcher([session.csrfToken])(presented));
}

// a TLS-terminating proxy says so in x-forwarded-proto; trusting it can only add the Secure flag
const isHttps = (c: Context) => new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';

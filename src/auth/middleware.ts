import type { MiddlewareHandler } from 'hono';
import { problem } from '../api/problem.js';
import { type AuthDeps, authFor } from './auth.js';
import { CSRF_HEADER, csrfSatisfied } from './sessions.js';

/**
 * The API's auth: a bearer token against the configured tokens. Without an Authorization
 * header, the operator pages' session cookie is accepted too (their scripts call the API), and
 * a request that may change something must then carry the session's CSRF token as
 * `x-csrf-token`. Wrong tokens are counted per client address; past the limit the address gets
 * 429 with Retry-After, whatever it presents, until the window has passed.
 */
export function apiAuth(deps: AuthDeps): MiddlewareHandler {
  const auth = authFor(deps);
  return async (c, next) => {
    const authorization = c.req.header('authorization');
    if (authorization === undefined) {
      const session = await auth.sessions.read(c);
      if (session && csrfSatisfied(session, c.req.method, c.req.header(CSRF_HEADER))) return next();
      if (session) return problem(c, 403, 'A request made with the session cookie must carry its CSRF token in the x-csrf-token header.');
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    const presented = match?.[1];
    if (!presented) return unauthorized(c, 'An Authorization: Bearer <token> header is required.');
    const address = auth.address(c);
    const wait = auth.throttle.retryAfter(address);
    if (wait > 0) {
      c.header('Retry-After', String(wait));
      return problem(c, 429, `Too many wrong tokens from this address; try again in ${wait} s.`);
    }
    if (!auth.isApiToken(presented)) {
      auth.throttle.fail(address);
      return unauthorized(c, 'The bearer token is not valid.');
    }
    await next();
  };
}

function unauthorized(c: Parameters<MiddlewareHandler>[0], detail: string): Response {
  c.header('WWW-Authenticate', 'Bearer realm="promo-codes"');
  return problem(c, 401, detail);
}

import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { CSRF_HEADER, csrfSatisfied, sessions } from '../ui/session.js';
import { problem } from './problem.js';

const digest = (token: string) => createHash('sha256').update(token).digest();

/** Whether a presented token is one of `tokens`, compared in constant time (digests, so lengths do not leak). */
export function tokenMatcher(tokens: readonly string[]): (presented: string) => boolean {
  const allowed = tokens.map(digest);
  return (presented) => {
    const candidate = digest(presented);
    return allowed.some((token) => timingSafeEqual(token, candidate));
  };
}

/**
 * Bearer-token auth against the configured tokens. Without an Authorization header, the
 * operator pages' session cookie is accepted too (their scripts call the API), and a request
 * that may change something must then carry the session's CSRF token as `x-csrf-token`.
 */
export function apiAuth(tokens: readonly string[]): MiddlewareHandler {
  const isAllowed = tokenMatcher(tokens);
  const store = sessions(tokens);
  return async (c, next) => {
    const authorization = c.req.header('authorization');
    if (authorization === undefined) {
      const session = await store.read(c);
      if (session && csrfSatisfied(session, c.req.method, c.req.header(CSRF_HEADER))) return next();
      if (session) return problem(c, 403, 'A request made with the session cookie must carry its CSRF token in the x-csrf-token header.');
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    const presented = match?.[1];
    if (!presented || !isAllowed(presented)) {
      c.header('WWW-Authenticate', 'Bearer realm="promo-codes"');
      return problem(c, 401, presented ? 'The bearer token is not valid.' : 'An Authorization: Bearer <token> header is required.');
    }
    await next();
  };
}

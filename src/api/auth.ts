import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { problem } from './problem.js';

const digest = (token: string) => createHash('sha256').update(token).digest();

/** Bearer-token auth against the configured tokens, compared in constant time. */
export function bearerAuth(tokens: readonly string[]): MiddlewareHandler {
  const allowed = tokens.map(digest);
  return async (c, next) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '');
    const presented = match?.[1] ? digest(match[1]) : undefined;
    if (!presented || !allowed.some((token) => timingSafeEqual(token, presented))) {
      c.header('WWW-Authenticate', 'Bearer realm="promo-codes"');
      return problem(c, 401, presented ? 'The bearer token is not valid.' : 'An Authorization: Bearer <token> header is required.');
    }
    await next();
  };
}

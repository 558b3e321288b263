import type { MiddlewareHandler } from 'hono';
import { NotFoundError, ValidationError } from '../domain/errors.js';
import { unstorableText } from '../api/text-guard.js';

const decode = (segment: string): string => {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
};

/**
 * A page's path or query holding text PostgreSQL cannot store (a NUL character, a lone
 * surrogate) is answered before any handler runs: a path names no page (404), a query value is a
 * 400 naming the parameter. Form fields are checked by readForm, beside the field.
 */
export const rejectUnstorablePathOrQuery: MiddlewareHandler = async (c, next) => {
  const url = new URL(c.req.url);
  if (url.pathname.split('/').some((segment) => unstorableText(decode(segment)))) throw new NotFoundError('There is no such page.');
  for (const [name, values] of Object.entries(c.req.queries())) {
    const problem = [name, ...values].map(unstorableText).find(Boolean);
    if (problem) throw new ValidationError(`The ${JSON.stringify(name.replace(/[^\x20-\x7e]/g, '?'))} parameter ${problem}.`, [{ path: name, message: problem }]);
  }
  await next();
};

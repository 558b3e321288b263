import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ConflictError, type FieldError, NotFoundError, ValidationError } from '../domain/errors.js';
import type { Logger } from '../logger.js';
import { unavailableDependency } from './unavailable.js';

const TITLES: Record<number, string> = {
  400: 'Invalid input',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'Conflict',
  413: 'Payload too large',
  415: 'Unsupported media type',
  429: 'Too many requests',
  500: 'Internal error',
  503: 'Service unavailable',
};

/** Seconds a client is asked to wait when a dependency is down: about what a restart takes. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

export function problem(c: Context, status: ContentfulStatusCode, detail: string, errors?: FieldError[], code?: string): Response {
  const title = TITLES[status] ?? 'Error';
  const body = {
    type: `https://promo-codes.dev/problems/${title.toLowerCase().replaceAll(' ', '-')}`,
    title,
    status,
    ...(code !== undefined && { code }),
    detail,
    ...(errors && errors.length > 0 && { errors }),
  };
  return c.body(JSON.stringify(body), status, { 'content-type': 'application/problem+json' });
}

export interface Refusal {
  status: ContentfulStatusCode;
  title: string;
  detail: string;
  errors?: FieldError[];
  /** why, for a program: a 409's reason where the contract names one */
  code?: string;
  /** a 503's Retry-After, in seconds */
  retryAfter?: number;
}

/** What a thrown error tells the client; anything unexpected is logged and becomes a 500. */
export function refusalOf(error: Error, c: Context, logger: Logger): Refusal {
  const refusal = (status: ContentfulStatusCode, detail: string, errors?: FieldError[]): Refusal => ({
    status,
    title: TITLES[status] ?? 'Error',
    detail,
    ...(errors && { errors }),
  });
  if (error instanceof ValidationError) return refusal(400, error.message, error.errors);
  if (error instanceof NotFoundError) return refusal(404, error.message);
  if (error instanceof ConflictError) return { ...refusal(409, error.message), ...(error.code !== undefined && { code: error.code }) };
  if (error instanceof HTTPException) {
    const status = error.status as ContentfulStatusCode;
    return refusal(status, error.message || TITLES[status] || 'Request refused');
  }
  const dependency = unavailableDependency(error);
  if (dependency) {
    logger.warn({ err: error, path: c.req.path, dependency }, 'a dependency is unavailable');
    const detail = `The ${dependency === 'database' ? 'database' : 'Temporal server'} is unavailable; try again in a few seconds.`;
    return { ...refusal(503, detail), retryAfter: UNAVAILABLE_RETRY_AFTER_SECONDS };
  }
  logger.error({ err: error, path: c.req.path }, 'unhandled error');
  return refusal(500, 'The service failed to answer; the error has been logged.');
}

/** Maps what handlers throw onto the contract's problem answers. */
export function errorHandler(logger: Logger) {
  return (error: Error, c: Context): Response => {
    const { status, detail, errors, code, retryAfter } = refusalOf(error, c, logger);
    if (retryAfter !== undefined) c.header('Retry-After', String(retryAfter));
    return problem(c, status, detail, errors, code);
  };
}

/** zod issues → field errors: `path` is the dotted location inside the body or query. */
export function validationHook(result: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } }): void {
  if (result.success || !result.error) return;
  const errors = result.error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(body)',
    message: issue.message,
  }));
  throw new ValidationError(`The request is invalid: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, errors);
}

import * as nexus from 'nexus-rpc';
import type { z } from 'zod';
import { ConflictError, NotFoundError, ValidationError } from '../domain/errors.js';

/**
 * The service's errors as Nexus sees them, none retried: a request that cannot be served as
 * given (unknown group, invalid input) is a BAD_REQUEST; one refused by the state of things (no
 * active code left, an idempotency key used otherwise) fails the operation. Anything else stays
 * as it is: an internal error the caller's Nexus machinery retries.
 */
export function toNexusError(error: unknown): unknown {
  if (error instanceof NotFoundError || error instanceof ValidationError) {
    return new nexus.HandlerError('BAD_REQUEST', error.message, { cause: error });
  }
  if (error instanceof ConflictError) return new nexus.OperationError('failed', error.message, { cause: error });
  return error;
}

/** Runs an operation's body, its errors turned into Nexus ones. */
export async function nexusErrors<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw toNexusError(error);
  }
}

/** The input parsed by `schema`, or a BAD_REQUEST naming each invalid field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, operation: string): z.infer<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(input)'}: ${issue.message}`);
  throw new nexus.HandlerError('BAD_REQUEST', `Invalid ${operation} input: ${problems.join('; ')}`);
}

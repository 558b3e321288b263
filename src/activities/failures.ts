import { ApplicationFailure } from '@temporalio/activity';
import { ConflictError, NotFoundError, ValidationError } from '../domain/errors.js';
import { KeyspaceExhaustedError } from '../db/generation.js';
import { StagedLinesLostError } from '../db/imports.js';

const PERMANENT = [NotFoundError, ConflictError, ValidationError, KeyspaceExhaustedError, StagedLinesLostError];

/** Runs an activity body; errors that a retry cannot cure fail it for good, the rest are retried. */
export async function failPermanently<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (PERMANENT.some((kind) => error instanceof kind)) {
      throw ApplicationFailure.nonRetryable((error as Error).message, (error as Error).constructor.name);
    }
    throw error;
  }
}

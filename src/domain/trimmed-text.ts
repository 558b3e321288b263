import { z } from 'zod';

/**
 * A name or id: trimmed of surrounding white space, then 1 to `max` characters. The pattern
 * cannot fail after the length check; it is there so that the OpenAPI document states what the
 * trimming implies: a value of white space only is refused.
 */
export const trimmedText = (max: number) =>
  z
    .string()
    .trim()
    .min(1, { error: 'must not be empty', abort: true })
    .max(max, `must be at most ${max} characters`)
    .regex(/\S/, 'must not be blank');

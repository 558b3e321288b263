import { ValidationError } from './errors.js';
import { type ParsedFormat, parseFormat } from './format.js';

/** Parses a format that came in field `path`, or throws a 400 naming the position. */
export function requireValidFormat(source: string, path = 'format'): ParsedFormat {
  const result = parseFormat(source);
  if (result.ok) return result.format;
  const message = `position ${result.error.position}: ${result.error.message}`;
  throw new ValidationError(`The format is invalid at ${message}`, [{ path, message }]);
}

import type { FieldError } from '../domain/errors.js';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const MAX_REPORTED = 10;

/**
 * Why PostgreSQL would refuse a string (text and jsonb take neither a NUL character nor a lone
 * surrogate), or undefined when it is fine.
 */
export function unstorableText(value: string): string | undefined {
  if (value.includes('\0')) return 'must not contain a NUL character';
  if (LONE_SURROGATE.test(value)) return 'must be valid Unicode (a lone surrogate)';
  return undefined;
}

/** A key as it appears in an error's path: its NUL characters and lone surrogates spelled as escapes. */
export function printable(key: string): string {
  return key.replace(/\0|[\uD800-\uDFFF]/g, (char, offset: number, whole: string) => {
    const code = char.charCodeAt(0);
    const pairedHigh = code >= 0xd800 && code <= 0xdbff && /[\uDC00-\uDFFF]/.test(whole[offset + 1] ?? '');
    const pairedLow = code >= 0xdc00 && code <= 0xdfff && /[\uD800-\uDBFF]/.test(whole[offset - 1] ?? '');
    return pairedHigh || pairedLow ? char : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/**
 * The strings (values and object keys) of a parsed JSON value that could not be stored, each
 * with its dotted path under `root` (at most ten). Walks iteratively: nesting depth costs no stack.
 */
export function unstorableStrings(value: unknown, root = ''): FieldError[] {
  const errors: FieldError[] = [];
  const join = (path: string, key: string) => (path === '' ? key : `${path}.${key}`);
  const pending: [unknown, string][] = [[value, root]];
  while (pending.length > 0 && errors.length < MAX_REPORTED) {
    const [item, path] = pending.pop()!;
    if (typeof item === 'string') {
      const message = unstorableText(item);
      if (message) errors.push({ path: path || '(body)', message });
    } else if (Array.isArray(item)) {
      for (let i = item.length - 1; i >= 0; i -= 1) pending.push([item[i], join(path, String(i))]);
    } else if (item !== null && typeof item === 'object') {
      const entries = Object.entries(item);
      for (let i = entries.length - 1; i >= 0; i -= 1) {
        const [key, child] = entries[i]!;
        const keyProblem = unstorableText(key);
        if (keyProblem) errors.push({ path: join(path, printable(key)), message: `the key ${keyProblem}` });
        else pending.push([child, join(path, key)]);
      }
    }
  }
  return errors.slice(0, MAX_REPORTED);
}

/**
 * Whether a JSON text may hold a string unstorableStrings would report: a raw NUL, or an escaped
 * NUL or surrogate (a decoded UTF-8 body cannot hold a raw lone surrogate). Lets a clean body skip
 * a second parse.
 */
export function mayHoldUnstorable(text: string): boolean {
  return text.includes('\0') || /\\u(?:0000|d[89a-f])/i.test(text);
}

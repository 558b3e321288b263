import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PendingQuery, Row } from 'postgres';

/**
 * Streams text rows into a `COPY … FROM STDIN` query, with backpressure both ways.
 *
 * postgres.js (3.4) reports an error the server raises during the copy only by rejecting the
 * query, whose promise has resolved to the stream already: the copy would wait for its end
 * forever. Here that rejection errors the stream, so the copy fails like any statement.
 */
export async function copyFrom(query: PendingQuery<Row[]>, rows: Iterable<string> | AsyncIterable<string>): Promise<void> {
  const pending = query as unknown as { reject(error: unknown): void };
  const reject = pending.reject;
  let stream: Writable | undefined;
  pending.reject = (error) => {
    stream?.destroy(error instanceof Error ? error : new Error(String(error)));
    reject(error);
  };
  stream = await query.writable();
  await pipeline(rows, stream);
}

const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** One field in COPY's text format: backslash, tab and line breaks escaped. */
export function copyField(value: string): string {
  return COPY_SPECIAL.test(value) ? value.replace(/[\\\t\n\r]/g, (ch) => COPY_ESCAPES[ch]!) : value;
}

/** A COPY field that may be NULL. */
export function copyNullable(value: string | null | undefined): string {
  return value === null || value === undefined ? '\\N' : copyField(value);
}

const COPY_CHUNK = 5000;

/** The COPY text of `items`, a line each (`line` ends it with `\n`), in chunks of a few thousand lines. */
export function* copyLines<T>(items: readonly T[], line: (item: T, index: number) => string): Generator<string> {
  for (let start = 0; start < items.length; start += COPY_CHUNK) {
    let text = '';
    const end = Math.min(items.length, start + COPY_CHUNK);
    for (let i = start; i < end; i += 1) text += line(items[i]!, i);
    yield text;
  }
}

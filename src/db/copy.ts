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

import type { Context } from 'hono';
import { stream } from 'hono/streaming';

type Field = string | number | undefined | null;

/** One RFC 4180 line; fields with a comma, quote or line break are quoted. */
export function toCsvRow(fields: readonly Field[]): string {
  return `${fields.map((field) => quote(field == null ? '' : String(field))).join(',')}\r\n`;
}

function quote(field: string): string {
  return /[",\r\n]/.test(field) ? `"${field.replaceAll('"', '""')}"` : field;
}

/**
 * A CSV download streamed a chunk of rows at a time. The first chunk is awaited before the
 * answer starts, so that an unknown id still becomes a 404 problem.
 */
export async function csvDownload<T>(c: Context, filename: string, header: readonly string[], chunks: AsyncIterator<T[]>, fields: (item: T) => Field[]): Promise<Response> {
  const first = await chunks.next();
  c.header('content-type', 'text/csv; charset=utf-8');
  c.header('content-disposition', `attachment; filename="${filename}"`);
  return stream(c, async (out) => {
    await out.write(toCsvRow(header));
    for (let chunk = first; !chunk.done; chunk = await chunks.next()) {
      await out.write(chunk.value.map((item) => toCsvRow(fields(item))).join(''));
    }
  });
}

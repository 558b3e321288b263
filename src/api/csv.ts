import type { Context } from 'hono';

type Field = string | number | undefined | null;

/** One RFC 4180 line; fields with a comma, quote or line break are quoted, formula-like ones neutralised. */
export function toCsvRow(fields: readonly Field[]): string {
  return `${fields.map((field) => quote(neutralise(field == null ? '' : String(field)))).join(',')}\r\n`;
}

/**
 * A cell a spreadsheet would take for a formula (one starting with `=`, `+`, `-`, `@`, a tab or a
 * carriage return: OWASP "CSV injection") gets a leading `'`, which spreadsheets show as text.
 */
export function neutralise(field: string): string {
  return /^[=+\-@\t\r]/.test(field) ? `'${field}` : field;
}

function quote(field: string): string {
  return /[",\r\n]/.test(field) ? `"${field.replaceAll('"', '""')}"` : field;
}

/**
 * A CSV download streamed a chunk of rows at a time. The first chunk is awaited before the
 * answer starts, so that an unknown id still becomes a 404 problem. An error after that (the
 * database gone mid-way) errors the body stream, which breaks the HTTP connection: the client
 * sees an incomplete download, never a clean end of a truncated file.
 */
export async function csvDownload<T>(c: Context, filename: string, header: readonly string[], chunks: AsyncIterator<T[]>, fields: (item: T) => Field[]): Promise<Response> {
  const first = await chunks.next();
  const encoder = new TextEncoder();
  let pending: IteratorResult<T[]> | undefined = first;
  let headerSent = false;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!headerSent) {
        headerSent = true;
        controller.enqueue(encoder.encode(toCsvRow(header)));
        return;
      }
      // an error thrown here errors the stream: the server destroys the connection
      const chunk = pending ?? (await chunks.next());
      pending = undefined;
      if (chunk.done) {
        controller.close();
        return;
      }
      controller.enqueue(encoder.encode(chunk.value.map((item) => toCsvRow(fields(item))).join('')));
    },
    async cancel() {
      // the client went away: stop the query (a generator's return ends its cursor)
      await chunks.return?.();
    },
  });
  return c.body(body, 200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${filename}"` });
}

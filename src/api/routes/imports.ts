import { createRoute, z } from '@hono/zod-openapi';
import { HTTPException } from 'hono/http-exception';
import { getGroup } from '../../db/groups.js';
import { importRejects } from '../../db/imports.js';
import { publicJob } from '../../db/jobs.js';
import { type ImportFormat, importFormatOf } from '../../domain/import-file.js';
import { startImport } from '../../temporal/start-job.js';
import { csvDownload } from '../csv.js';
import { multipartFile } from '../multipart-file.js';
import { type AppDeps, newRouter } from '../router.js';
import { errorResponses, IdParams, jsonResponse, ProblemSchema, security } from '../schemas/common.js';
import { JobSchema } from '../schemas/jobs.js';

/** The upload streams its body itself, under its own limit: the app-wide body limit (which buffers) skips it. */
export const IMPORT_UPLOAD_PATH = /^\/api\/groups\/[^/]+\/imports\/?$/;

const text = { schema: { type: 'string' as const } };

const UPLOAD_DESCRIPTION = `Imports a file of any size (up to the configured limit, \`413\` past it) as a durable job.
The body is streamed into the database while it arrives, then \`ImportCodesWorkflow\` moves it into the group.

- \`text/plain\` (or no content type): one code a line.
- \`text/csv\`: RFC 4180 CSV whose first line is a header with a \`code\` column (other columns are ignored); a CSV without one is a \`400\` and nothing is kept.
- \`multipart/form-data\`, field \`file\`: a part of type \`text/csv\` or named \`*.csv\` is CSV, any other is one code a line.
- Bytes are read as UTF-8; a leading byte order mark is dropped; lines end in LF or CRLF.
- Every value is trimmed (spaces, tabs, CR); empty lines are skipped; an empty \`code\` field is rejected as \`empty\`.
- \`line\` numbers count the file's physical lines from 1 (the CSV header is line 1); a CSV record with a quoted line break carries the number of its first line.
- \`requested\` is the number of non-empty lines. Invalid lines and duplicates (the first occurrence in the file wins; a code stored in any group already counts too) are counted and listed: the job keeps the first 1,000, \`GET /api/jobs/{id}/rejects\` has all of them.`;

export function importRoutes(deps: AppDeps) {
  const { sql, maxImportBytes } = deps;
  const app = newRouter();

  app.openapi(
    createRoute({ method: 'post', path: '/groups/{id}/imports', tags: ['Groups', 'Jobs'], security,
      description: UPLOAD_DESCRIPTION,
      request: { params: IdParams, body: { required: true, content: {
        'text/plain': text,
        'text/csv': text,
        'multipart/form-data': { schema: { type: 'object', properties: { file: { type: 'string', format: 'binary' } }, required: ['file'] } },
      } } },
      responses: {
        202: jsonResponse('The import job, running; `requested` is the number of lines staged', JobSchema),
        ...errorResponses,
        415: { description: 'Not a text/plain, text/csv or multipart/form-data body', content: { 'application/problem+json': { schema: ProblemSchema } } },
      } }),
    async (c) => {
      // any answer but 202 leaves (some of) the body unread: the client must not reuse the connection
      c.header('connection', 'close');
      const group = await getGroup(sql, c.req.valid('param').id);
      if (Number(c.req.header('content-length') ?? 0) > maxImportBytes) throw tooLarge(maxImportBytes);
      const { format, chunks } = await upload(c.req.raw, maxImportBytes);
      const job = await startImport(deps, group, format, chunks);
      c.header('connection', undefined);
      return c.json(publicJob(job), 202);
    },
  );

  app.openapi(
    createRoute({ method: 'get', path: '/jobs/{id}/rejects', tags: ['Jobs'], security,
      description: 'Every line an import rejected, in line order, as CSV `line,value,reason` (invalid lines and duplicates); empty for a generation job.',
      request: { params: IdParams },
      responses: { 200: { description: 'The rejected lines', content: { 'text/csv': { schema: z.string() } } }, ...errorResponses } }),
    async (c) => {
      const { id } = c.req.valid('param');
      return csvDownload(c, `job-${id}-rejects.csv`, ['line', 'value', 'reason'], importRejects(sql, id), (reject) => [
        reject.line,
        reject.value,
        reject.reason,
      ]);
    },
  );

  return app;
}

/** The file, raw or as the multipart field `file`, and how to read it. */
async function upload(request: Request, maxBytes: number): Promise<{ format: ImportFormat; chunks: AsyncIterable<Uint8Array> }> {
  const contentType = request.headers.get('content-type') ?? 'text/plain';
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  if (type === 'multipart/form-data') {
    const file = await multipartFile(request.body, contentType, 'file', maxBytes, () => tooLarge(maxBytes));
    return { format: importFormatOf(file.mimeType, file.filename), chunks: file.chunks };
  }
  const format = RAW_FORMATS[type];
  if (!format) throw new HTTPException(415, { message: `Send the file as text/plain (one code a line), text/csv (with a code column) or multipart/form-data, not ${type}.` });
  return { format, chunks: limited(request.body, maxBytes) };
}

const RAW_FORMATS: Record<string, ImportFormat> = { 'text/plain': 'txt', 'text/csv': 'csv', 'application/csv': 'csv' };

function tooLarge(maxBytes: number): HTTPException {
  return new HTTPException(413, { message: `The file is larger than ${maxBytes} bytes, the most an import takes.` });
}

/**
 * The body's chunks as they arrive; past `maxBytes` it stops reading and throws 413. What is
 * left unread is the server's to drain after the answer (cancelling here could close the
 * connection before the 413 goes out).
 */
async function* limited(body: ReadableStream<Uint8Array> | null, maxBytes: number): AsyncGenerator<Uint8Array> {
  if (!body) return;
  const reader = body.getReader();
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      size += value.byteLength;
      if (size > maxBytes) throw tooLarge(maxBytes);
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

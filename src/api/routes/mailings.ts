import { randomUUID } from 'node:crypto';
import { createRoute } from '@hono/zod-openapi';
import { addRecipients, createMailing, getMailing, getMailingRecord, listMailings, listRecipients, lockDraft, markStarted, type NewRecipient } from '../../db/mailings.js';
import { cancelMailing } from '../../temporal/cancel-mailing.js';
import { ensureMailingWorkflow } from '../../temporal/start-mailing.js';
import { checkMailingRequest, mailingRequestHook } from '../mailing-request.js';
import { type AppDeps, newRouter } from '../router.js';
import { errorResponses, jsonBody, jsonResponse, MailingIdParams, PageQuery, pageOf, security } from '../schemas/common.js';
import {
  MailingRequestSchema,
  MailingSchema,
  RecipientOutcomeSchema,
  RecipientQuery,
  RecipientSchema,
  RecipientsReportSchema,
  TemplateCheckBody,
  TemplateCheckSchema,
} from '../schemas/mailings.js';
import { textLines } from '../text-lines.js';
import { unstorableStrings } from '../text-guard.js';

const tags = ['Mailings'];
const RECIPIENT_CHUNK = 5000;
/** the recipients upload reads its body as a stream, a line at a time */
export const RECIPIENTS_UPLOAD_PATH = /^\/api\/mailings\/[^/]+\/recipients\/?$/;

export function mailingRoutes(deps: AppDeps) {
  const { sql } = deps;
  const app = newRouter();

  app.openapi(
    createRoute({ method: 'post', path: '/mailings', tags, security,
      description: 'Records a mailing. With inline recipients, or an `audience` (a segment filter: the customers matching it when the mailing starts), it starts at once; with neither, it is a draft to feed through `/recipients` and then `/start`; with both it is a 400 at `audience`. A filter naming a group that does not exist is a 400 at that group\'s path, e.g. `audience.segment.or[0].issuedFromGroup.group`, with the filter\'s array indices in brackets as `POST /api/segments/query` names them. The template is rendered once without recipient data: over its render budget even then (steps, nesting, output size, CPU time) it is a 400. Each recipient ends `sent`, `failed` (definitely not delivered: its code returns to active) or `unknown` (may have been delivered: its code is issued to them). A `smtp` channel while no SMTP server is configured is a 400 at `channel.type`; a webhook URL whose host is, or resolves only to, a loopback, private, link-local or other non-public address not allowed by PROMO_WEBHOOK_ALLOW is a 400 at `channel.url` (each send checks the resolved address again).',
      request: { body: jsonBody(MailingRequestSchema) },
      responses: { 202: jsonResponse('The mailing', MailingSchema), ...errorResponses } }),
    async (c) => {
      const request = c.req.valid('json');
      await checkMailingRequest(deps, request); // a 400 naming the field, before anything is recorded
      const { id, ...fields } = request;
      const { mailing } = await createMailing(sql, { publicId: id ?? randomUUID(), ...fields });
      await ensureMailingWorkflow(deps, mailing);
      return c.json(await getMailing(sql, mailing.publicId), 202);
    },
    mailingRequestHook,
  );

  app.openapi(
    createRoute({ method: 'post', path: '/mailings/{id}/recipients', tags, security,
      description: `Adds recipients to a draft: one JSON object a line (NDJSON), \`{ customerId, email?, phone?, attributes? }\`. The lines are committed in chunks of ${RECIPIENT_CHUNK} as they arrive, each chunk in a transaction of its own that checks the mailing is still a draft, so a large upload neither holds the draft locked nor keeps its rows uncommitted until it ends. The answer counts the whole request (added, duplicates — a customer already on the mailing, or twice in the request — and invalid lines). A request that fails midway (a broken connection, the mailing started or cancelled meanwhile: 409) keeps the chunks it committed; send it again to add the rest, and that request's report counts the recipients already added as duplicates.`,
      request: { params: MailingIdParams, body: { required: true, content: { 'application/x-ndjson': { schema: RecipientSchema } } } },
      responses: { 200: jsonResponse('What was added', RecipientsReportSchema), ...errorResponses } }),
    async (c) => {
      const publicId = c.req.valid('param').id;
      // a 404 or 409 before reading the body; every chunk checks again under the draft's row lock
      await sql.begin((tx) => lockDraft(tx, publicId));
      const totals = { added: 0, duplicates: 0, invalid: [] as { line: number; value: string; reason: string }[] };
      let chunk: NewRecipient[] = [];
      const flush = async () => {
        if (chunk.length === 0) return;
        const recipients = chunk;
        chunk = [];
        const { added, duplicates } = await sql.begin(async (tx) => addRecipients(tx, await lockDraft(tx, publicId), recipients));
        totals.added += added;
        totals.duplicates += duplicates;
      };
      let line = 0;
      for await (const text of textLines(c.req.raw.body)) {
        line += 1;
        const parsed = parseRecipient(text.trim());
        if (parsed === undefined) continue;
        if ('reason' in parsed) totals.invalid.push({ line, value: text.trim().slice(0, 200), reason: parsed.reason });
        else chunk.push(parsed);
        if (chunk.length >= RECIPIENT_CHUNK) await flush();
      }
      await flush();
      return c.json(totals, 200);
    },
  );

  app.openapi(
    createRoute({ method: 'post', path: '/mailings/{id}/start', tags, security, request: { params: MailingIdParams },
      description: 'Starts a draft. Starting a mailing that started already changes nothing.',
      responses: { 202: jsonResponse('The mailing', MailingSchema), ...errorResponses } }),
    async (c) => {
      const publicId = c.req.valid('param').id;
      await markStarted(sql, publicId);
      await ensureMailingWorkflow(deps, await getMailingRecord(sql, publicId));
      return c.json(await getMailing(sql, publicId), 202);
    },
  );

  app.openapi(
    createRoute({ method: 'get', path: '/mailings', tags, security, description: 'Every mailing with its counters, newest first.', request: { query: PageQuery },
      responses: { 200: jsonResponse('Mailings', pageOf(MailingSchema)), ...errorResponses } }),
    async (c) => c.json(await listMailings(sql, c.req.valid('query')), 200),
  );

  app.openapi(
    createRoute({ method: 'get', path: '/mailings/{id}', tags, security, request: { params: MailingIdParams },
      responses: { 200: jsonResponse('The mailing with its counters', MailingSchema), ...errorResponses } }),
    async (c) => c.json(await getMailing(sql, c.req.valid('param').id), 200),
  );

  app.openapi(
    createRoute({ method: 'get', path: '/mailings/{id}/recipients', tags, security,
      description: 'Recipients in arrival order with their outcome and codes: reserved while pending or sending, issued once sent or unknown (the message may have arrived), none once failed.',
      request: { params: MailingIdParams, query: RecipientQuery },
      responses: { 200: jsonResponse('Recipients', pageOf(RecipientOutcomeSchema)), ...errorResponses } }),
    async (c) => c.json(await listRecipients(sql, c.req.valid('param').id, c.req.valid('query')), 200),
  );

  app.openapi(
    createRoute({ method: 'post', path: '/mailings/{id}/cancel', tags, security, request: { params: MailingIdParams },
      description: 'Stops sending: messages under way finish and are recorded; recipients whose message may have left keep their codes (`unknown`); the codes of those never sent return to active.',
      responses: { 202: jsonResponse('The mailing', MailingSchema), ...errorResponses } }),
    async (c) => {
      const publicId = c.req.valid('param').id;
      await cancelMailing(deps, publicId);
      return c.json(await getMailing(sql, publicId), 202);
    },
  );

  app.openapi(
    createRoute({ method: 'post', path: '/templates/check', tags, security,
      description: 'Checks a template: the first error with its line and column, and the groups it issues from (initial) and repeats from (repeat). A template that exceeds its render budget even without recipient data (a loop doubling a list, a macro calling itself) is invalid too, its error at line 1, column 1.',
      request: { body: jsonBody(TemplateCheckBody) },
      responses: { 200: jsonResponse('The check', TemplateCheckSchema), ...errorResponses } }),
    async (c) => c.json(await deps.renderPool.check(c.req.valid('json').template), 200),
  );

  return app;
}

function parseRecipient(text: string): NewRecipient | { reason: string } | undefined {
  if (text === '') return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { reason: 'not a JSON object' };
  }
  // what PostgreSQL cannot store (a NUL character, a lone surrogate) makes the line invalid
  const unstorable = unstorableStrings(json);
  if (unstorable.length > 0) return { reason: unstorable.map((error) => `${error.path === '(body)' ? 'line' : error.path}: ${error.message}`).join('; ') };
  const result = RecipientSchema.safeParse(json);
  if (result.success) return result.data;
  return { reason: result.error.issues.map((issue) => `${issue.path.join('.') || 'line'}: ${issue.message}`).join('; ') };
}

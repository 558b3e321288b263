import { createRoute, z } from '@hono/zod-openapi';
import { addPaste, listCodes } from '../../db/codes.js';
import { createGroup, deleteGroup, getGroup, listGroups, updateGroup } from '../../db/groups.js';
import { MAX_PASTE_LINES, sortPaste, splitLines } from '../../domain/code.js';
import { ValidationError } from '../../domain/errors.js';
import { requireValidFormat } from '../../domain/format-field.js';
import { codesCsv } from '../codes-csv.js';
import { type AppDeps, newRouter } from '../router.js';
import { errorResponses, IdParams, jsonBody, jsonResponse, pageOf, security } from '../schemas/common.js';
import {
  CodeSchema,
  CodeStatusQuery,
  CreateGroupBody,
  GroupListQuery,
  GroupSchema,
  UpdateGroupBody,
  UploadCodesBody,
  UploadReportSchema,
} from '../schemas/groups.js';

const tags = ['Groups'];

export function groupRoutes({ sql }: AppDeps) {
  const app = newRouter();

  app.openapi(
    createRoute({ method: 'get', path: '/groups', tags, security, request: { query: GroupListQuery },
      responses: { 200: jsonResponse('Groups with their counters', pageOf(GroupSchema)), ...errorResponses } }),
    async (c) => {
      const { limit, cursor, lowStock } = c.req.valid('query');
      return c.json(await listGroups(sql, { limit, cursor, lowStock }), 200);
    },
  );

  app.openapi(
    createRoute({ method: 'post', path: '/groups', tags, security, request: { body: jsonBody(CreateGroupBody) },
      responses: { 201: jsonResponse('The new group', GroupSchema), ...errorResponses } }),
    async (c) => {
      const body = c.req.valid('json');
      if (body.format) requireValidFormat(body.format);
      return c.json(await createGroup(sql, body), 201);
    },
  );

  app.openapi(
    createRoute({ method: 'get', path: '/groups/{id}', tags, security, request: { params: IdParams },
      responses: { 200: jsonResponse('The group', GroupSchema), ...errorResponses } }),
    async (c) => c.json(await getGroup(sql, c.req.valid('param').id), 200),
  );

  app.openapi(
    createRoute({ method: 'patch', path: '/groups/{id}', tags, security,
      request: { params: IdParams, body: jsonBody(UpdateGroupBody) },
      responses: { 200: jsonResponse('The changed group', GroupSchema), ...errorResponses } }),
    async (c) => {
      const changes = c.req.valid('json');
      if (changes.format) requireValidFormat(changes.format);
      return c.json(await updateGroup(sql, c.req.valid('param').id, changes), 200);
    },
  );

  app.openapi(
    createRoute({ method: 'delete', path: '/groups/{id}', tags, security, request: { params: IdParams },
      responses: { 204: { description: 'Deleted; issued codes stay in customers\' history' }, ...errorResponses } }),
    async (c) => {
      await deleteGroup(sql, c.req.valid('param').id);
      return c.body(null, 204);
    },
  );

  app.openapi(
    createRoute({ method: 'post', path: '/groups/{id}/codes', tags, security,
      description: `Paste codes: JSON \`{ codes }\` or text/plain, one code a line; at most ${MAX_PASTE_LINES} lines.`,
      request: { params: IdParams, body: { required: false, content: {
        'application/json': { schema: UploadCodesBody },
        'text/plain': { schema: z.string() },
      } } },
      responses: { 200: jsonResponse('What was added and what was skipped', UploadReportSchema), ...errorResponses } }),
    async (c) => {
      const isText = c.req.header('content-type')?.toLowerCase().startsWith('text/plain') ?? false;
      // the JSON validator runs only for JSON bodies and leaves {} otherwise
      const lines = isText ? splitLines(await c.req.text()) : (c.req.valid('json') as { codes?: string[] }).codes;
      if (!lines) throw new ValidationError('Send { "codes": [...] } as JSON or the codes as text/plain.', [{ path: 'codes', message: 'required' }]);
      return c.json(await addPaste(sql, c.req.valid('param').id, sortPaste(lines)), 200);
    },
  );

  app.openapi(
    createRoute({ method: 'get', path: '/groups/{id}/codes', tags, security,
      description: 'With `Accept: text/csv` the whole list (of the status, if given) as CSV.',
      request: { params: IdParams, query: CodeStatusQuery },
      responses: {
        200: { description: 'A page of codes, or all of them as CSV', content: {
          'application/json': { schema: pageOf(CodeSchema) },
          'text/csv': { schema: z.string() },
        } },
        ...errorResponses,
      } }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { status, limit, cursor } = c.req.valid('query');
      if (!c.req.header('accept')?.includes('text/csv')) return c.json(await listCodes(sql, id, { status, limit, cursor }), 200);
      return codesCsv(c, sql, id, status);
    },
  );

  return app;
}

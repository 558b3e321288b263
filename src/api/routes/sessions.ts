import { createRoute, z } from '@hono/zod-openapi';
import { authFor } from '../../auth/auth.js';
import { NotFoundError } from '../../domain/errors.js';
import { decodeCursor } from '../../domain/pagination.js';
import { type AppDeps, newRouter } from '../router.js';
import { errorResponses, jsonResponse, PageQuery, pageOf, security } from '../schemas/common.js';

const tags = ['Sessions'];

const SessionSchema = z
  .object({
    id: z.string().openapi({ description: 'the session\'s public id (neither its cookie nor anything derived from it)' }),
    createdAt: z.string().openapi({ format: 'date-time' }),
    expiresAt: z.string().openapi({ format: 'date-time' }),
    lastSeenAt: z.string().openapi({ format: 'date-time', description: 'to the minute' }),
    address: z.string().nullable().openapi({ description: 'the client\'s address at sign-in' }),
    userAgent: z.string().nullable(),
    current: z.boolean().openapi({ description: 'the session this request was made with' }),
  })
  .openapi('Session');

const SessionParams = z.object({
  id: z.string().openapi({ param: { name: 'id', in: 'path' }, example: 'q3Xb0v9cM1kTzY2a', pattern: '^[A-Za-z0-9_-]{16}$', description: "a session's `id` from the list; anything else names nothing (404)" }),
});

/** The operator pages' sessions: list the live ones, revoke one. */
export function sessionRoutes(deps: AppDeps) {
  const { sessions } = authFor(deps);
  const app = newRouter();

  app.openapi(
    createRoute({ method: 'get', path: '/sessions', tags, security,
      description: 'Live sessions of the operator pages (signed in, not signed out, revoked or expired), newest first.',
      request: { query: PageQuery },
      responses: { 200: jsonResponse('Sessions', pageOf(SessionSchema)), ...errorResponses } }),
    async (c) => {
      const { limit, cursor } = c.req.valid('query');
      const beforeSeq = decodeCursor(cursor, z.string().regex(/^\d+$/));
      const page = await sessions.list(c, { limit, beforeSeq });
      return c.json({ nextCursor: page.nextCursor, items: page.items.map(({ publicId, ...session }) => ({ id: publicId, ...session })) }, 200);
    },
  );

  app.openapi(
    createRoute({ method: 'delete', path: '/sessions/{id}', tags, security,
      description: 'Revokes a session: its cookie, and every copy of it, stops working at once.',
      request: { params: SessionParams },
      responses: { 204: { description: 'Revoked' }, ...errorResponses } }),
    async (c) => {
      const { id } = c.req.valid('param');
      if (!(await sessions.revoke(id))) throw new NotFoundError(`No session ${id}.`);
      return c.body(null, 204);
    },
  );

  return app;
}

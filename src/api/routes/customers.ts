import { createRoute, z } from '@hono/zod-openapi';
import { customerPromocodes, getCustomer, putCustomer } from '../../db/customers.js';
import { IssueBatcher } from '../../db/issue-batcher.js';
import { reissueCode } from '../../db/issuance.js';
import { trimmedText } from '../../domain/trimmed-text.js';
import { type AppDeps, newRouter } from '../router.js';
import { AttributesSchema, ContactFields, errorResponses, IdParams, jsonBody, jsonResponse, PageQuery, pageOf, security } from '../schemas/common.js';

const CustomerSchema = z
  .object({
    id: z.string(),
    attributes: z.record(z.string(), z.unknown()),
    email: z.string().nullable().openapi({ description: 'where an `smtp` mailing to a segment audience sends; set by PUT or by a mailing recipient that carried one' }),
    phone: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Customer');

const IssuedCodeSchema = z
  .object({
    code: z.string(),
    groupId: z.string(),
    groupName: z.string(),
    kind: z.enum(['initial', 'repeat']),
    mailingId: z.string().optional(),
    issuedAt: z.string().openapi({ format: 'date-time' }),
    redeemedAt: z.string().optional().openapi({ format: 'date-time', description: 'when the code was redeemed, if it is now' }),
  })
  .openapi('IssuedCode');

/** A customer id as callers give it (the pages' customer search takes the same). */
export const customerId = trimmedText(200);

/** The path's customer id, trimmed like the bodies' `customerId`: ` c-1 ` and `c-1` are one customer. */
const CustomerIdParams = z.object({
  id: customerId.openapi({ param: { name: 'id', in: 'path' }, example: 'customer-42', description: 'trimmed of surrounding white space, like `customerId` in bodies' }),
});

/** A caller's key for one issue: the same key on the same group answers what it answered first. */
export const IdempotencyKey = z.string().min(1).max(200);

export function customerRoutes({ sql, issueBatchSize }: AppDeps) {
  const app = newRouter();
  const issues = new IssueBatcher(sql, issueBatchSize);

  app.openapi(
    createRoute({ method: 'put', path: '/customers/{id}', tags: ['Customers'], security,
      description: 'Creates the customer, or replaces its attributes; an `email` or `phone` given replaces the stored one, one left out stays as it is.',
      request: { params: CustomerIdParams, body: jsonBody(z.object({ attributes: AttributesSchema, email: ContactFields.email.optional(), phone: ContactFields.phone.optional() }).strict()) },
      responses: { 200: jsonResponse('The customer', CustomerSchema), ...errorResponses } }),
    async (c) => c.json(await putCustomer(sql, c.req.valid('param').id, c.req.valid('json')), 200),
  );

  app.openapi(
    createRoute({ method: 'get', path: '/customers/{id}', tags: ['Customers'], security, request: { params: CustomerIdParams },
      responses: { 200: jsonResponse('The customer', CustomerSchema), ...errorResponses } }),
    async (c) => c.json(await getCustomer(sql, c.req.valid('param').id), 200),
  );

  app.openapi(
    createRoute({ method: 'get', path: '/customers/{id}/promocodes', tags: ['Customers'], security,
      description: 'Every code issued to the customer, initial or repeat, newest first (by issue time, then by history row), a page at a time: pass `nextCursor` as `cursor` for the next page.',
      request: { params: CustomerIdParams, query: PageQuery },
      responses: { 200: jsonResponse('A page of the promo code history', pageOf(IssuedCodeSchema)), ...errorResponses } }),
    async (c) => c.json(await customerPromocodes(sql, c.req.valid('param').id, c.req.valid('query')), 200),
  );

  app.openapi(
    createRoute({ method: 'post', path: '/groups/{id}/issue', tags: ['Issuance'], security,
      description: 'Issues a new code of the group to the customer (triggered campaigns). The same `idempotencyKey` returns the same code. A group past its `expiresAt` is a 409 `group_expired`.',
      request: { params: IdParams, body: jsonBody(z.object({ customerId, idempotencyKey: IdempotencyKey.optional() }).strict()) },
      responses: { 200: jsonResponse('The code', z.object({ code: z.string(), kind: z.literal('initial') })), ...errorResponses } }),
    async (c) => {
      const { customerId: customer, idempotencyKey } = c.req.valid('json');
      return c.json({ code: await issues.issue(c.req.valid('param').id, { customerId: customer, idempotencyKey }), kind: 'initial' as const }, 200);
    },
  );

  app.openapi(
    createRoute({ method: 'post', path: '/groups/{id}/reissue', tags: ['Issuance'], security,
      description: 'Repeats the last code the customer got from the group (recorded as a repeat issuance); null when they never got one. With an `idempotencyKey`, a retry of the request (same key, same group, same customer) records nothing more and answers the same code; the key is unique per group together with the keys of `issue` (the same key used for another customer, or for an issue, is a 409). A group past its `expiresAt` is a 409 `group_expired`.',
      request: { params: IdParams, body: jsonBody(z.object({ customerId, idempotencyKey: IdempotencyKey.optional() }).strict()) },
      responses: { 200: jsonResponse('The code', z.object({ code: z.string().nullable(), kind: z.literal('repeat') })), ...errorResponses } }),
    async (c) => {
      const { customerId: customer, idempotencyKey } = c.req.valid('json');
      return c.json({ code: await reissueCode(sql, c.req.valid('param').id, customer, idempotencyKey), kind: 'repeat' as const }, 200);
    },
  );

  return app;
}

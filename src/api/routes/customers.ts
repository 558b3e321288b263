import { createRoute, z } from '@hono/zod-openapi';
import { customerPromocodes, getCustomer, putCustomer } from '../../db/customers.js';
import { issueCode, reissueCode } from '../../db/issuance.js';
import { type AppDeps, newRouter } from '../router.js';
import { AttributesSchema, errorResponses, IdParams, jsonBody, jsonResponse, security } from '../schemas/common.js';

const CustomerIdParams = z.object({
  id: z.string().min(1).max(200).openapi({ param: { name: 'id', in: 'path' }, example: 'customer-42' }),
});

const CustomerSchema = z
  .object({ id: z.string(), attributes: z.record(z.string(), z.unknown()), createdAt: z.string(), updatedAt: z.string() })
  .openapi('Customer');

const IssuedCodeSchema = z
  .object({
    code: z.string(),
    groupId: z.string(),
    groupName: z.string(),
    kind: z.enum(['initial', 'repeat']),
    mailingId: z.string().optional(),
    issuedAt: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('IssuedCode');

/** A customer id as callers give it (the pages' customer search takes the same). */
export const customerId = z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters');

export function customerRoutes({ sql }: AppDeps) {
  const app = newRouter();

  app.openapi(
    createRoute({ method: 'put', path: '/customers/{id}', tags: ['Customers'], security,
      request: { params: CustomerIdParams, body: jsonBody(z.object({ attributes: AttributesSchema }).strict()) },
      responses: { 200: jsonResponse('The customer', CustomerSchema), ...errorResponses } }),
    async (c) => c.json(await putCustomer(sql, c.req.valid('param').id, c.req.valid('json').attributes), 200),
  );

  app.openapi(
    createRoute({ method: 'get', path: '/customers/{id}', tags: ['Customers'], security, request: { params: CustomerIdParams },
      responses: { 200: jsonResponse('The customer', CustomerSchema), ...errorResponses } }),
    async (c) => c.json(await getCustomer(sql, c.req.valid('param').id), 200),
  );

  app.openapi(
    createRoute({ method: 'get', path: '/customers/{id}/promocodes', tags: ['Customers'], security,
      description: 'Every code issued to the customer, initial or repeat, newest first.',
      request: { params: CustomerIdParams },
      responses: { 200: jsonResponse('The promo code history', z.object({ items: z.array(IssuedCodeSchema) })), ...errorResponses } }),
    async (c) => c.json({ items: await customerPromocodes(sql, c.req.valid('param').id) }, 200),
  );

  app.openapi(
    createRoute({ method: 'post', path: '/groups/{id}/issue', tags: ['Issuance'], security,
      description: 'Issues a new code of the group to the customer (triggered campaigns). The same `idempotencyKey` returns the same code.',
      request: { params: IdParams, body: jsonBody(z.object({ customerId, idempotencyKey: z.string().min(1).max(200).optional() }).strict()) },
      responses: { 200: jsonResponse('The code', z.object({ code: z.string(), kind: z.literal('initial') })), ...errorResponses } }),
    async (c) => {
      const { customerId: customer, idempotencyKey } = c.req.valid('json');
      return c.json({ code: await issueCode(sql, c.req.valid('param').id, customer, idempotencyKey), kind: 'initial' as const }, 200);
    },
  );

  app.openapi(
    createRoute({ method: 'post', path: '/groups/{id}/reissue', tags: ['Issuance'], security,
      description: 'Repeats the last code the customer got from the group (recorded as a repeat issuance); null when they never got one.',
      request: { params: IdParams, body: jsonBody(z.object({ customerId }).strict()) },
      responses: { 200: jsonResponse('The code', z.object({ code: z.string().nullable(), kind: z.literal('repeat') })), ...errorResponses } }),
    async (c) => c.json({ code: await reissueCode(sql, c.req.valid('param').id, c.req.valid('json').customerId), kind: 'repeat' as const }, 200),
  );

  return app;
}

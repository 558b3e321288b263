import { createRoute, z } from '@hono/zod-openapi';
import { CODE_STATUSES } from '../../db/codes.js';
import { lookupCode, redeemCode, rollBackRedemption } from '../../db/redemption.js';
import { trimmedText } from '../../domain/trimmed-text.js';
import { type AppDeps, newRouter } from '../router.js';
import { errorResponses, jsonResponse, security } from '../schemas/common.js';
import { customerId, IdempotencyKey } from './customers.js';

const CodeInfoSchema = z
  .object({
    code: z.string(),
    groupId: z.string(),
    groupName: z.string(),
    status: z.enum(CODE_STATUSES),
    customerId: z.string().optional().openapi({ description: 'who it was issued to' }),
    issuedAt: z.string().optional().openapi({ format: 'date-time' }),
    redeemedAt: z.string().optional().openapi({ format: 'date-time' }),
    orderId: z.string().optional().openapi({ description: 'the order it was redeemed in, when the shop said' }),
    expiresAt: z.string().openapi({ format: 'date-time', description: 'when it can no longer be issued or redeemed: the group\'s expiresAt, or its issue plus the group\'s validForDays, whichever comes first' }).optional(),
  })
  .openapi('CodeInfo');

const CodeParams = z.object({
  code: z.string().openapi({
    param: { name: 'code', in: 'path' },
    example: 'SUMMER-S5070RLLjJLWqpf',
    // printable ASCII, 1 to 64 characters, but not `.` or `..` (spelled out: no lookahead, so that generators of test data can read it)
    pattern: '^(?:[!-\\-/-~][!-~]{0,63}|\\.[!-\\-/-~][!-~]{0,62}|\\.\\.[!-~]{1,62})$',
    description:
      'the code, percent-encoded where a path needs it (`/` as `%2F`); one not stored is a 404. ' +
      'The codes `.` and `..` cannot be named in a path: URLs drop such segments, even percent-encoded',
  }),
});

const RedeemBody = z
  .object({
    customerId: customerId.optional().openapi({ description: 'when given, the code must have been issued to this customer (else 409 `wrong_customer`)' }),
    orderId: trimmedText(200).optional(),
    idempotencyKey: IdempotencyKey.optional().openapi({ description: 'the same key again answers the redemption it made (a retry after a lost answer)' }),
  })
  .strict();

const tags = ['Redemption'];

export function codeRoutes({ sql }: AppDeps) {
  const app = newRouter();

  app.openapi(
    createRoute({ method: 'get', path: '/codes/{code}', tags, security, request: { params: CodeParams },
      description: 'A code with its group, status, holder and redemption: what a shop checks before accepting it.',
      responses: { 200: jsonResponse('The code', CodeInfoSchema), ...errorResponses } }),
    async (c) => c.json(await lookupCode(sql, c.req.valid('param').code), 200),
  );

  app.openapi(
    createRoute({ method: 'post', path: '/codes/{code}/redeem', tags, security,
      description:
        'Redeems an issued code, at most once ever, whatever the number of concurrent requests. Refusals are 409s whose `code` says why: ' +
        '`not_issued` (active or blocked), `already_redeemed` (`detail` says when, and for which order), `expired`, `wrong_customer` (`customerId` is not the holder). ' +
        'A request with the `idempotencyKey` of the redemption that won answers that redemption again (200). The body may be left out.',
      request: { params: CodeParams, body: { required: false, content: { 'application/json': { schema: RedeemBody } } } },
      responses: { 200: jsonResponse('The redeemed code', CodeInfoSchema), ...errorResponses } }),
    async (c) => c.json(await redeemCode(sql, c.req.valid('param').code, c.req.valid('json') ?? {}), 200),
  );

  app.openapi(
    createRoute({ method: 'delete', path: '/codes/{code}/redemption', tags, security,
      description: 'Takes a redemption back (a cancelled order): the code is `issued` to its customer again. A code that is not redeemed is a 409 `not_redeemed`.',
      request: { params: CodeParams },
      responses: { 200: jsonResponse('The code, issued again', CodeInfoSchema), ...errorResponses } }),
    async (c) => c.json(await rollBackRedemption(sql, c.req.valid('param').code), 200),
  );

  return app;
}

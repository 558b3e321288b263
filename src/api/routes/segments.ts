import { createRoute, z } from '@hono/zod-openapi';
import { querySegment } from '../../db/segments.js';
import { ValidationError } from '../../domain/errors.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../../domain/pagination.js';
import { fieldErrors, MAX_FILTER_DEPTH, MAX_FILTER_NODES, SegmentFilterNodeSchema, SegmentFilterSchema } from '../../domain/segment.js';
import { type AppDeps, newRouter } from '../router.js';
import { CursorSchema, errorResponses, jsonBody, jsonResponse, security } from '../schemas/common.js';

const tags = ['Segments'];

const SegmentQueryBody = z
  .object({
    filter: SegmentFilterSchema,
    limit: z.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE).describe('Customer ids per page.'),
    cursor: CursorSchema.optional(),
  })
  .strict()
  .openapi('SegmentQuery');

const SegmentPageSchema = z
  .object({
    count: z.number().int().describe('How many customers match, in all.'),
    customerIds: z.array(z.string()).describe('This page of them, in customer id order.'),
    nextCursor: z.string().nullable(),
  })
  .openapi('SegmentPage');

const description = `Customers picked by their promo code history. \`filter\` is a tree of \`and\` / \`or\` / \`not\` over three leaves:
\`issuedCount\` — customers whose number of issued codes (of one group, of one kind, issued in [since, until), if given)
compares with \`value\` by \`op\`; \`lt\`, \`lte\` and \`eq 0\` include customers with none, since every known customer is
considered — \`issuedFromGroup\` — customers who were issued a code from the group (with \`redeemed\`: a code that is, or
is not, redeemed) — and \`redeemedCount\` — customers whose number of redeemed codes (of one group, redeemed in
[since, until), if given) compares so; a redemption taken back does not count. Groups are named as in the
groups API (case-insensitively, among groups not deleted). At most ${MAX_FILTER_DEPTH} levels deep and
${MAX_FILTER_NODES} conditions in all.

Every 400 of this route names the bad field by its path in the body: object keys joined by dots and array
indices in brackets, e.g. \`filter.and[1].issuedCount.op\`; an unknown group is reported at its \`group\` field,
e.g. \`filter.or[0].issuedFromGroup.group\`.`;

/** Like the shared validation hook, but with bracketed array indices, as the filter's paths need. */
function segmentHook(result: { success: boolean; error?: { issues: z.core.$ZodIssue[] } }): undefined {
  if (result.success || !result.error) return undefined;
  const errors = fieldErrors(result.error.issues);
  throw new ValidationError(`The request is invalid: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, errors);
}

export function segmentRoutes({ sql }: AppDeps) {
  const app = newRouter();
  app.openAPIRegistry.register('SegmentFilter', SegmentFilterNodeSchema);

  app.openapi(
    createRoute({ method: 'post', path: '/segments/query', tags, security, description, request: { body: jsonBody(SegmentQueryBody) },
      responses: { 200: jsonResponse('How many customers match, and a page of their ids', SegmentPageSchema), ...errorResponses } }),
    async (c) => {
      const { filter, limit, cursor } = c.req.valid('json');
      return c.json(await querySegment(sql, filter, { limit, cursor }), 200);
    },
    segmentHook,
  );

  return app;
}

import { z } from '@hono/zod-openapi';
import { ATTRIBUTE_DEPTH_MESSAGE, MAX_ATTRIBUTE_DEPTH, tooDeepAttribute } from '../../domain/attributes.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../../domain/pagination.js';

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi('Problem');

export const IdParams = z.object({ id: z.string().openapi({ param: { name: 'id', in: 'path' }, example: '1' }) });

export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
  cursor: z.string().min(1).optional(),
});

/** A customer's attributes: a JSON object whose lists and objects nest at most MAX_ATTRIBUTE_DEPTH levels. */
export const AttributesSchema = z
  .record(z.string(), z.unknown())
  .superRefine((attributes, context) => {
    const path = tooDeepAttribute(attributes);
    if (path) context.addIssue({ code: 'custom', message: ATTRIBUTE_DEPTH_MESSAGE, path });
  })
  .openapi({ description: `any JSON object; lists and objects inside it nest at most ${MAX_ATTRIBUTE_DEPTH} levels deep` });

export const pageOf = <T extends z.ZodTypeAny>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });

const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: ProblemSchema } },
});

/** The error answers every /api route may give. */
export const errorResponses = {
  400: problem('Invalid input; `errors` names each bad field'),
  401: problem('Missing or wrong bearer token'),
  404: problem('Unknown id'),
  409: problem('The current state does not allow it'),
  413: problem('Body too large'),
} as const;

export const jsonBody = <T extends z.ZodTypeAny>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
});

export const jsonResponse = <T extends z.ZodTypeAny>(description: string, schema: T) => ({
  description,
  content: { 'application/json': { schema } },
});

// either one: a bearer token, or the operator pages' session cookie (with x-csrf-token for a change)
export const security: Record<string, string[]>[] = [{ Bearer: [] }, { Session: [] }];

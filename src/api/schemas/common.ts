import { z } from '@hono/zod-openapi';
import { ATTRIBUTE_DEPTH_MESSAGE, MAX_ATTRIBUTE_DEPTH, tooDeepAttribute } from '../../domain/attributes.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../../domain/pagination.js';
import { trimmedText } from '../../domain/trimmed-text.js';

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    code: z.string().optional().openapi({ description: 'a 409\'s reason where the operation names one, e.g. `already_redeemed`' }),
    detail: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi('Problem');

/** A row's id; anything else names no row, so it is a 404 like an id that is not there. */
export const IdParams = z.object({
  id: z.string().openapi({ param: { name: 'id', in: 'path' }, example: '1', pattern: '^[1-9][0-9]{0,17}$', description: 'a positive integer; anything else names nothing (404)' }),
});

/** An opaque position in a list: `nextCursor` of the page before; one this service did not issue is a 400 at `cursor`. */
export const CursorSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,2000}$/, 'must be the `nextCursor` of an earlier page')
  .openapi({ description: '`nextCursor` of the previous page, as it was given; a `cursor` this service did not issue is a 400 at `cursor`' });

/** A generation format; its language is more than JSON Schema can state, so the description says what the check is. */
export const FormatSchema = z
  .string()
  .max(1000, 'must be at most 1000 characters')
  .openapi({
    description:
      "A generation format: literal text (printable ASCII without spaces) and `{string('<ranges>', <length>)}` pieces, e.g. `SUMMER-{string('0-9', 4)}{string('a-Z', 10)}`. A `format` that does not parse, or that cannot yield as many codes as asked, is a 400 at `format` naming the position; `POST /api/formats/check` explains one.",
  });

/** A mailing's id, a path segment: not starting with a dot, which `.` and `..` would make no segment at all. */
export const MAILING_ID = /^[A-Za-z0-9_:-][A-Za-z0-9._:-]{0,99}$/;

/** A mailing's id: the client's own (`id` in the request) or one the service chose; anything else names nothing (404). */
export const MailingIdParams = z.object({
  id: z.string().openapi({ param: { name: 'id', in: 'path' }, example: 'spring-2026', pattern: MAILING_ID.source, description: "the mailing's id; anything else names nothing (404)" }),
});

export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
  cursor: CursorSchema.optional(),
});

/** A customer's attributes: a JSON object whose lists and objects nest at most MAX_ATTRIBUTE_DEPTH levels. */
export const AttributesSchema = z
  .record(z.string(), z.unknown())
  .superRefine((attributes, context) => {
    const path = tooDeepAttribute(attributes);
    if (path) context.addIssue({ code: 'custom', message: ATTRIBUTE_DEPTH_MESSAGE, path });
  })
  .openapi({ description: `any JSON object; lists and objects inside it nest at most ${MAX_ATTRIBUTE_DEPTH} levels deep` });

/** Where a customer's messages go: stored on the customer, and what a segment audience sends to. */
export const ContactFields = {
  email: z.email(),
  phone: trimmedText(50),
};

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
  429: problem('Too many wrong tokens or sign-ins from this address; `Retry-After` says when to try again'),
  503: problem('The database or the Temporal server is out of reach for now; `Retry-After` says when to try again'),
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

import type { z } from '@hono/zod-openapi';
import { resolveSegment } from '../db/segments.js';
import { type FieldError, ValidationError } from '../domain/errors.js';
import { fieldErrors } from '../domain/segment.js';
import { compileTemplate, invalidTemplate } from '../domain/template.js';
import { checkChannel } from './channel-check.js';
import type { AppDeps } from './router.js';
import { type MailingRequest, MailingRequestSchema } from './schemas/mailings.js';
import { unstorableStrings } from './text-guard.js';

/*
 * The checks of a mailing request, shared by POST /api/mailings and a MailingPromoWorkflow
 * started directly with a request: the same schema, the same errors, the same rules.
 */

export type MailingRequestDeps = Pick<AppDeps, 'sql' | 'renderPool' | 'smtpConfigured' | 'webhookPolicy'>;

/** A 400 naming each field: `The request is invalid: <path>: <message>; …`. */
export const invalidRequest = (errors: FieldError[]) => new ValidationError(`The request is invalid: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, errors);

const inSegment = (path: readonly PropertyKey[]) => path[0] === 'audience' && path[1] === 'segment';

/**
 * zod issues → field errors with dotted paths (`recipients.3.email`); inside the audience's
 * segment filter, bracketed indices and unknown keys at their own path, as POST
 * /api/segments/query names them (`audience.segment.and[1].issuedCount.op`).
 */
export function mailingRequestErrors(issues: readonly z.core.$ZodIssue[]): FieldError[] {
  return issues.flatMap((issue) =>
    inSegment(issue.path) ? fieldErrors([issue]) : [{ path: issue.path.map(String).join('.') || '(body)', message: issue.message }],
  );
}

/** The validation hook of the route that takes a MailingRequest. */
export function mailingRequestHook(result: { success: boolean; error?: { issues: z.core.$ZodIssue[] } }): undefined {
  if (result.success || !result.error) return undefined;
  throw invalidRequest(mailingRequestErrors(result.error.issues));
}

/** A request that did not come through the API's body checks (a workflow's input), checked as the API checks a body. */
export function parseMailingRequest(input: unknown): MailingRequest {
  const unstorable = unstorableStrings(input);
  if (unstorable.length > 0) throw invalidRequest(unstorable);
  const parsed = MailingRequestSchema.safeParse(input);
  if (!parsed.success) throw invalidRequest(mailingRequestErrors(parsed.error.issues));
  return parsed.data;
}

/**
 * What a well-formed request must also satisfy before anything is recorded: a channel that can
 * deliver (400 at `channel.type` / `channel.url`), a template that compiles and renders within its
 * budget without recipient data (`template.*`), and an audience whose groups exist (at the
 * group's path under `audience.segment`).
 */
export async function checkMailingRequest(deps: MailingRequestDeps, request: MailingRequest): Promise<void> {
  await checkChannel(deps, request.channel);
  compileTemplate(request.template); // names line and column
  const check = await deps.renderPool.check(request.template);
  if (!check.valid) throw invalidTemplate([check.error]);
  if (request.audience) await resolveSegment(deps.sql, request.audience.segment, 'audience.segment').catch(namingFields);
}

/** A ValidationError whose message names its fields, as the request's other problems do. */
function namingFields(error: unknown): never {
  throw error instanceof ValidationError && error.errors.length > 0 ? invalidRequest(error.errors) : error;
}

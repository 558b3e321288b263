import { checkMailingRequest, invalidRequest, type MailingRequestDeps, parseMailingRequest } from '../api/mailing-request.js';
import { type MailingRequest, MailingRequestSchema } from '../api/schemas/mailings.js';
import { mailingGroupTags } from '../db/mailing-tags.js';
import { mailingWorkflowId } from '../client/contract.js';
import { createMailing, findMailing, markStarted } from '../db/mailings.js';
import type { FieldError } from '../domain/errors.js';

/** Recipients a request given to the workflow directly may carry inline: its input travels through Temporal, so it stays small. */
export const MAX_DIRECT_RECIPIENTS = 1000;

/**
 * Records the mailing a MailingPromoWorkflow was started with (not through the API): the
 * request is checked as POST /api/mailings checks it, plus the rules of a direct start (a
 * ValidationError naming the field). Idempotent: a mailing recorded before, by a retried
 * attempt, an earlier run or the API, is kept as it is — a draft the API recorded under this id
 * is started, since this workflow is the one its start would run. Answers the mailing's group tags.
 */
export async function recordMailing(deps: MailingRequestDeps, workflowId: string, mailingId: string, input: unknown): Promise<string[]> {
  const request = parseMailingRequest(withId(input, mailingId));
  const problem = directStartProblem(workflowId, mailingId, request);
  if (problem) throw invalidRequest([problem]);
  const existing = await findMailing(deps.sql, mailingId);
  if (existing) {
    await markStarted(deps.sql, mailingId);
    return mailingGroupTags(deps.sql, existing.template);
  }
  await checkMailingRequest(deps, request);
  const { id: _id, ...fields } = request;
  const { mailing } = await createMailing(deps.sql, { publicId: mailingId, ...fields });
  return mailingGroupTags(deps.sql, mailing.template);
}

/** The request's id is the workflow's mailingId: taken from it when absent. */
function withId(input: unknown, mailingId: string): unknown {
  if (typeof input !== 'object' || input === null || Array.isArray(input) || 'id' in input) return input;
  return { ...input, id: mailingId };
}

function directStartProblem(workflowId: string, mailingId: string, request: MailingRequest): FieldError | undefined {
  const id = MailingRequestSchema.shape.id.safeParse(mailingId);
  if (!id.success) return { path: 'mailingId', message: id.error.issues[0]!.message };
  if (request.id !== mailingId) return { path: 'id', message: `must equal the workflow's mailingId "${mailingId}"` };
  if (workflowId !== mailingWorkflowId(mailingId)) return { path: 'workflowId', message: `must be "${mailingWorkflowId(mailingId)}" for mailing ${mailingId}` };
  if (request.recipients === undefined && request.audience === undefined) {
    return { path: 'recipients', message: `a mailing started directly needs recipients (at most ${MAX_DIRECT_RECIPIENTS}) or an audience` };
  }
  if (request.recipients !== undefined && request.recipients.length > MAX_DIRECT_RECIPIENTS) {
    return { path: 'recipients', message: `a mailing started directly takes at most ${MAX_DIRECT_RECIPIENTS} recipients inline (${request.recipients.length} given); use an audience, or the API` };
  }
  return undefined;
}

import type { z } from 'zod';
import type { MailingRequestSchema, MailingSchema } from '../api/schemas/mailings.js';
import type { SegmentFilterSchema } from '../domain/segment.js';

// The types the API validates, inferred from its zod schemas: one source for both. Type-only
// imports, so a workflow bundle that imports this module carries none of the API's code.

/** The body of `POST /api/mailings`; `id` is the caller's own, which makes a start idempotent. */
export type MailingRequest = z.infer<typeof MailingRequestSchema>;

/** A MailingRequest with its id, as a campaign system starts one directly or through Nexus. */
export type IdentifiedMailingRequest = MailingRequest & { id: string };

/** A mailing's summary: what `GET /api/mailings/{id}` answers and what MailingPromoWorkflow returns. */
export type Mailing = z.infer<typeof MailingSchema>;

/** A segment filter, as `POST /api/segments/query` and a mailing's `audience: { segment }` take it. */
export type SegmentFilter = z.infer<typeof SegmentFilterSchema>;

/** MailingPromoWorkflow's input. */
export interface MailingWorkflowInput {
  mailingId: string;
  request: MailingRequest;
}

/** MailingPromoWorkflow as a caller sees it: for `client.workflow.start<MailingPromoWorkflowType>`. */
export type MailingPromoWorkflowType = (input: MailingWorkflowInput) => Promise<Mailing>;

/** Nexus `issueCode`: a new code of the group (named as in the API, case-insensitively) for the customer. */
export interface IssueCodeInput {
  group: string;
  customerId: string;
  /** the same key on the same group answers the code it issued the first time */
  idempotencyKey: string;
}

export interface IssuedCode {
  code: string;
  kind: 'initial';
}

/** Nexus `reissueCode`: the code the customer last got from the group, recorded again as a repeat. */
export interface ReissueCodeInput {
  group: string;
  customerId: string;
  idempotencyKey?: string;
}

export interface ReissuedCode {
  /** null when the customer never got a code from the group */
  code: string | null;
  kind: 'repeat';
}

import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { PromoMailingId } from '../temporal/search-attributes.js';
import { mailingWorkflowId } from './contract.js';
import type { IdentifiedMailingRequest, MailingWorkflowInput } from './types.js';

/**
 * How a mailing's workflow is started outside the API (a Temporal client, the Nexus operation):
 * a running workflow of the same id is joined, a closed one is never run again.
 */
export function mailingStartOptions(request: IdentifiedMailingRequest) {
  const input: MailingWorkflowInput = { mailingId: request.id, request };
  return {
    workflowId: mailingWorkflowId(request.id),
    args: [input] as [MailingWorkflowInput],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    typedSearchAttributes: [{ key: PromoMailingId, value: request.id }],
    staticSummary: `Mailing "${request.name}" (${request.id}) over ${request.channel.type}`,
  };
}

import { createNexusServiceClient, type NexusServiceClient } from '@temporalio/workflow';
import { DEFAULT_NEXUS_ENDPOINT } from './contract.js';
import { type PromoCodesService, promoCodesService } from './service.js';
import type { IssueCodeInput, IssuedCode } from './types.js';

// For campaign workflows only: these run inside a Temporal workflow.

/** The service's Nexus operations, from a workflow in any namespace, through `endpoint`. */
export function promoCodes(endpoint = DEFAULT_NEXUS_ENDPOINT): NexusServiceClient<PromoCodesService> {
  return createNexusServiceClient({ endpoint, service: promoCodesService });
}

/**
 * Issues a new code of the group to the customer, from a workflow. An unknown group or one with
 * no active code left fails with a NexusOperationFailure, at once and without retries.
 */
export async function issueCode(input: IssueCodeInput, options: { endpoint?: string } = {}): Promise<IssuedCode> {
  return promoCodes(options.endpoint).executeOperation('issueCode', input, { scheduleToCloseTimeout: '1 minute' });
}

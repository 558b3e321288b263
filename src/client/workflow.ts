import { createNexusServiceClient, type NexusServiceClient } from '@temporalio/workflow';
import { DEFAULT_NEXUS_ENDPOINT } from './contract.js';
import { type PromoCodesService, promoCodesService } from './service.js';
import type { IssueCodeInput, IssuedCode, ReissueCodeInput, ReissuedCode } from './types.js';

// For campaign workflows only: these run inside a Temporal workflow.

/** The service's Nexus operations, from a workflow in any namespace, through `endpoint`. */
export function promoCodes(endpoint = DEFAULT_NEXUS_ENDPOINT): NexusServiceClient<PromoCodesService> {
  return createNexusServiceClient({ endpoint, service: promoCodesService });
}

/**
 * How long issueCode and reissueCode wait for their answer, which takes milliseconds when all is
 * well. A worker that dies while serving calls leaves each of them to time out on the server
 * (10 s), and after more than five failures in a row Temporal's circuit breaker holds every call
 * from the caller's namespace to the endpoint for its open period (`history.outboundQueue.circuitBreakerSettings`;
 * a minute by default): a wait of one minute failed callers that a restarted worker answered soon
 * after. Waiting long is safe: a retry answers what the first attempt committed.
 */
export const ISSUANCE_TIMEOUT = '10 minutes';

/**
 * Issues a new code of the group to the customer, from a workflow. An unknown group or one with
 * no active code left fails with a NexusOperationFailure, at once and without retries.
 */
export async function issueCode(input: IssueCodeInput, options: { endpoint?: string | undefined } = {}): Promise<IssuedCode> {
  return promoCodes(options.endpoint).executeOperation('issueCode', input, { scheduleToCloseTimeout: ISSUANCE_TIMEOUT });
}

/** The code the customer last got from the group (null if none), from a workflow; fails as issueCode does. */
export async function reissueCode(input: ReissueCodeInput, options: { endpoint?: string | undefined } = {}): Promise<ReissuedCode> {
  return promoCodes(options.endpoint).executeOperation('reissueCode', input, { scheduleToCloseTimeout: ISSUANCE_TIMEOUT });
}

/**
 * The typed client for campaign systems: types, names and helpers to start mailings with a
 * Temporal client and to call the service's Nexus operations from a workflow. Only
 * `@temporalio/*`, `nexus-rpc` and this service's types are needed; see README.md, "For campaign systems".
 */
export { DEFAULT_NEXUS_ENDPOINT, DEFAULT_TASK_QUEUE, MAILING_WORKFLOW_TYPE, mailingWorkflowId } from './contract.js';
export { type PromoCodesService, promoCodesService } from './service.js';
export { startMailing } from './start-mailing.js';
export type * from './types.js';
export { ISSUANCE_TIMEOUT, issueCode, promoCodes, reissueCode } from './workflow.js';

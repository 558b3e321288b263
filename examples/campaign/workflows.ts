import { executeChild } from '@temporalio/workflow';
import {
  DEFAULT_TASK_QUEUE,
  type IdentifiedMailingRequest,
  type IssuedCode,
  issueCode,
  MAILING_WORKFLOW_TYPE,
  type Mailing,
  type MailingPromoWorkflowType,
  mailingWorkflowId,
  promoCodes,
  reissueCode,
  type ReissuedCode,
} from '../../src/client/index.js';

// A campaign system's workflows. Those in its own namespace (`campaigns`) reach the promo-code
// service through its Nexus endpoint only; WelcomeCampaignChildWorkflow shows the other way, for a
// workflow living in the service's own namespace: MailingPromoWorkflow as a child.

export interface CodeRequest {
  /** the group of the welcome code, by name */
  group: string;
  customerId: string;
  /** the Nexus endpoint; `promo-codes` by default */
  endpoint?: string;
}

export interface WelcomeCampaign {
  welcome: CodeRequest;
  /** the segment mailing sent after the welcome code, with the campaign's own id */
  mailing: IdentifiedMailingRequest;
  /** the service's task queue, for the child workflow only; `promo` by default */
  taskQueue?: string;
}

export interface CampaignResult {
  welcomeCode: string;
  mailing: Mailing;
}

/**
 * A new customer's welcome code: one per customer and group, however often the campaign runs
 * (the idempotency key is the customer's). An unknown group or no code left fails the workflow.
 */
export async function WelcomeCodeWorkflow({ group, customerId, endpoint }: CodeRequest): Promise<IssuedCode> {
  return issueCode({ group, customerId, idempotencyKey: `welcome:${customerId}` }, { endpoint });
}

/** Reminds a customer of the code they last got from the group (null if none). */
export async function ReminderWorkflow({ group, customerId, endpoint }: CodeRequest): Promise<ReissuedCode> {
  return reissueCode({ group, customerId }, { endpoint });
}

/** A welcome code, then a segment mailing through Nexus; cancelling the campaign cancels the mailing. */
export async function WelcomeCampaignWorkflow(campaign: WelcomeCampaign): Promise<CampaignResult> {
  const { code } = await WelcomeCodeWorkflow(campaign.welcome);
  const mailing = await promoCodes(campaign.welcome.endpoint).executeOperation('startMailing', campaign.mailing);
  return { welcomeCode: code, mailing };
}

/** The same from the service's namespace: the mailing is a child MailingPromoWorkflow. */
export async function WelcomeCampaignChildWorkflow(campaign: WelcomeCampaign): Promise<CampaignResult> {
  const { code } = await WelcomeCodeWorkflow(campaign.welcome);
  const { mailing: request } = campaign;
  const mailing = await executeChild<MailingPromoWorkflowType>(MAILING_WORKFLOW_TYPE, {
    workflowId: mailingWorkflowId(request.id),
    taskQueue: campaign.taskQueue ?? DEFAULT_TASK_QUEUE,
    args: [{ mailingId: request.id, request }],
  });
  return { welcomeCode: code, mailing };
}

import type { Client, WorkflowHandle } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { DEFAULT_TASK_QUEUE, MAILING_WORKFLOW_TYPE } from './contract.js';
import { mailingStartOptions } from './start-options.js';
import type { IdentifiedMailingRequest, MailingPromoWorkflowType } from './types.js';

/**
 * Starts mailing `request.id` in the service's namespace (the client's) and returns its
 * workflow's handle; `await handle.result()` is the mailing's summary once it ends. Idempotent:
 * the same id again returns the handle of the workflow already started, running or ended.
 */
export async function startMailing(
  client: Client,
  request: IdentifiedMailingRequest,
  options: { taskQueue?: string } = {},
): Promise<WorkflowHandle<MailingPromoWorkflowType>> {
  const startOptions = mailingStartOptions(request);
  try {
    return await client.workflow.start<MailingPromoWorkflowType>(MAILING_WORKFLOW_TYPE, {
      ...startOptions,
      taskQueue: options.taskQueue ?? DEFAULT_TASK_QUEUE,
    });
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return client.workflow.getHandle(startOptions.workflowId);
    throw error;
  }
}

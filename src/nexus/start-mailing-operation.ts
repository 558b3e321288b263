import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { getClient, startWorkflow, WorkflowRunOperationHandler } from '@temporalio/nexus';
import * as nexus from 'nexus-rpc';
import { MailingRequestSchema } from '../api/schemas/mailings.js';
import { MAILING_WORKFLOW_TYPE } from '../client/contract.js';
import { mailingStartOptions } from '../client/start-options.js';
import type { IdentifiedMailingRequest, Mailing, MailingPromoWorkflowType } from '../client/types.js';
import { parseInput } from './errors.js';

/** The API's request with its optional `id` required: the operation starts mailing `id`. */
const StartMailingInput = MailingRequestSchema.safeExtend({ id: MailingRequestSchema.shape.id.unwrap() });

/**
 * `startMailing`: the operation is MailingPromoWorkflow's run (on the worker's own task queue),
 * so it ends with the mailing, and cancelling it cancels the workflow, which cancels the
 * mailing. A mailing whose workflow ended already answers at once with that run's result.
 */
class StartMailingOperation extends WorkflowRunOperationHandler<IdentifiedMailingRequest, Mailing> {
  constructor() {
    super((ctx, input) => {
      const request = parseInput(StartMailingInput, input, 'startMailing');
      return startWorkflow<MailingPromoWorkflowType>(ctx, MAILING_WORKFLOW_TYPE, mailingStartOptions(request));
    });
  }

  override async start(ctx: nexus.StartOperationContext, input: IdentifiedMailingRequest): Promise<nexus.HandlerStartOperationResult<Mailing>> {
    try {
      return await super.start(ctx, input);
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      return nexus.HandlerStartOperationResult.sync(await endedMailing(error.workflowId, input.id));
    }
  }
}

async function endedMailing(workflowId: string, mailingId: string): Promise<Mailing> {
  try {
    return await getClient().workflow.getHandle<MailingPromoWorkflowType>(workflowId).result();
  } catch (error) {
    throw new nexus.OperationError('failed', `Mailing ${mailingId} was started before and ended without a summary: ${(error as Error).message}`, { cause: error as Error });
  }
}

export const startMailingOperation = () => new StartMailingOperation();

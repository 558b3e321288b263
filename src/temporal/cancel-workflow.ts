import { type Client, WorkflowNotFoundError } from '@temporalio/client';

/**
 * Asks a workflow to cancel. True when it is running and will end its job or mailing itself;
 * false when no run of it is running: it never started (Temporal was down when it was posted)
 * or it closed (cancelling a closed workflow is accepted and does nothing).
 */
export async function requestCancel(temporal: Client, workflowId: string): Promise<boolean> {
  const handle = temporal.workflow.getHandle(workflowId);
  try {
    await handle.cancel();
    return (await handle.describe()).status.name === 'RUNNING';
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    throw error;
  }
}

import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker } from '@temporalio/worker';

/** The campaign system's own task queue, in whichever namespace its worker runs. */
export const CAMPAIGN_TASK_QUEUE = 'campaign';

export const CAMPAIGN_WORKFLOWS_PATH = fileURLToPath(new URL('./workflows.ts', import.meta.url));

/** A worker running the campaign workflows in `namespace` until stopped. */
export async function startCampaignWorker(options: { address: string; namespace: string; taskQueue?: string }): Promise<{ stop(): Promise<void> }> {
  const connection = await NativeConnection.connect({ address: options.address });
  const worker = await Worker.create({
    connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue ?? CAMPAIGN_TASK_QUEUE,
    workflowsPath: CAMPAIGN_WORKFLOWS_PATH,
  });
  const running = worker.run();
  return {
    stop: async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await connection.close();
    },
  };
}

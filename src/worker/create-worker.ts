import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import type { Config } from '../config.js';
import type { Sql } from '../db/client.js';
import { promoCodesHandler } from '../nexus/handler.js';
import { createRenderPool } from '../render/render-pool.js';

export interface WorkerOptions {
  address: string;
  namespace: string;
  taskQueue: string;
  sql: Sql;
  config: Config;
  /** a prebuilt bundle (tests bundle once per run); otherwise the workflows are bundled at start */
  workflowBundlePath?: string | undefined;
}

export interface RunningWorker {
  worker: Worker;
  /**
   * Shuts the worker down: running activities are told to stop (a send batch records what it
   * delivered and fails, to be retried elsewhere), then the worker's resources are released.
   */
  stop(): Promise<void>;
}

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/** Starts a worker polling its task queue (workflows, activities and the Nexus service `promo-codes`) until stopped. */
export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const connection = await NativeConnection.connect({ address: options.address });
  const renderPool = createRenderPool({ threads: options.config.PROMO_RENDER_THREADS });
  const worker = await Worker.create({
    connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: createActivities({ sql: options.sql, config: options.config, renderPool }),
    nexusServices: [promoCodesHandler({ sql: options.sql })],
    ...(options.workflowBundlePath
      ? { workflowBundle: { codePath: options.workflowBundlePath } }
      : { workflowsPath: WORKFLOWS_PATH }),
  });
  const running = worker.run();
  let stopped: Promise<void> | undefined;
  return {
    worker,
    // a test may stop it early; its cleanup then stops it again
    stop: () =>
      (stopped ??= (async () => {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running;
        await renderPool.close();
        await connection.close();
      })()),
  };
}

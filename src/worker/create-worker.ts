import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import type { Config } from '../config.js';
import type { Sql } from '../db/client.js';

export interface WorkerOptions {
  address: string;
  namespace: string;
  taskQueue: string;
  sql: Sql;
  config: Config;
  /** a prebuilt bundle (tests bundle once per run); otherwise the workflows are bundled at start */
  workflowBundlePath?: string;
}

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export async function createWorker(options: WorkerOptions): Promise<{ worker: Worker; connection: NativeConnection }> {
  const connection = await NativeConnection.connect({ address: options.address });
  const worker = await Worker.create({
    connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: createActivities({ sql: options.sql, config: options.config }),
    ...(options.workflowBundlePath
      ? { workflowBundle: { codePath: options.workflowBundlePath } }
      : { workflowsPath: WORKFLOWS_PATH }),
  });
  return { worker, connection };
}

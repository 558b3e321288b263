import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import type { Config } from '../config.js';
import type { Sql } from '../db/client.js';
import { type Logger, logger } from '../logger.js';
import { activityMetricsInterceptor } from '../metrics/activity-interceptor.js';
import { startMetricsServer } from '../metrics/metrics-server.js';
import { createWorkerMetrics } from '../metrics/worker-metrics.js';
import { promoCodesHandler } from '../nexus/handler.js';
import { createRenderPool } from '../render/render-pool.js';
import { ensureHousekeepingSchedule } from '../temporal/housekeeping-schedule.js';
import { sdkMetricsAddress } from './temporal-runtime.js';

export interface WorkerOptions {
  address: string;
  namespace: string;
  taskQueue: string;
  sql: Sql;
  config: Config;
  /** starts jobs (auto-refills) and keeps the housekeeping schedule */
  temporal: Client;
  /** where alerts are logged; the service's logger by default */
  logger?: Logger | undefined;
  /** a prebuilt bundle (tests bundle once per run); otherwise the workflows are bundled at start */
  workflowBundlePath?: string | undefined;
}

export interface RunningWorker {
  worker: Worker;
  /** the port of the worker's /metrics (PROMO_WORKER_METRICS_PORT; 0 gets a free one), if it serves them */
  metricsPort: number | undefined;
  /**
   * Shuts the worker down: running activities are told to stop (a send batch records what it
   * delivered and fails, to be retried elsewhere), then the worker's resources are released.
   */
  stop(): Promise<void>;
}

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/**
 * Starts a worker polling its task queue (workflows, activities and the Nexus service
 * `promo-codes`) until stopped, having created the housekeeping schedule if it is missing
 * (PROMO_HOUSEKEEPING_SCHEDULE_ID; empty: none).
 */
export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const scheduleId = options.config.PROMO_HOUSEKEEPING_SCHEDULE_ID;
  if (scheduleId) await ensureHousekeepingSchedule(options.temporal, { scheduleId, taskQueue: options.taskQueue });
  const connection = await NativeConnection.connect({ address: options.address });
  const renderPool = createRenderPool({ threads: options.config.PROMO_RENDER_THREADS });
  const metrics = createWorkerMetrics();
  const worker = await Worker.create({
    connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: createActivities({ sql: options.sql, config: options.config, renderPool, temporal: options.temporal, taskQueue: options.taskQueue, logger: options.logger ?? logger }),
    nexusServices: [promoCodesHandler({ sql: options.sql, issueBatchSize: options.config.PROMO_ISSUE_BATCH_SIZE })],
    interceptors: { activity: [activityMetricsInterceptor(metrics)] },
    ...(options.workflowBundlePath
      ? { workflowBundle: { codePath: options.workflowBundlePath } }
      : { workflowsPath: WORKFLOWS_PATH }),
  });
  const metricsPort = options.config.PROMO_WORKER_METRICS_PORT;
  const metricsServer =
    metricsPort === undefined ? undefined : await startMetricsServer({ port: metricsPort, metrics, sdkAddress: sdkMetricsAddress(), logger: options.logger ?? logger });
  const running = worker.run();
  let stopped: Promise<void> | undefined;
  return {
    worker,
    metricsPort: metricsServer?.port,
    // a test may stop it early; its cleanup then stops it again
    stop: () =>
      (stopped ??= (async () => {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running;
        await metricsServer?.close();
        await renderPool.close();
        await connection.close();
      })()),
  };
}

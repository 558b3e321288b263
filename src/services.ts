import { serve } from '@hono/node-server';
import type { Client } from '@temporalio/client';
import { createApp } from './api/app.js';
import { addressPolicy, parseAllowList } from './channels/address-policy.js';
import type { Config } from './config.js';
import { createSql, type Sql } from './db/client.js';
import { backfillGroupNameKeys } from './db/groups.js';
import { migrate } from './db/migrate.js';
import { logger } from './logger.js';
import { createRenderPool } from './render/render-pool.js';
import { connectClient, ensureSearchAttributes } from './temporal/connect.js';
import { startReconciler } from './temporal/reconcile.js';
import { startWorker } from './worker/create-worker.js';

export interface Endpoints {
  databaseUrl: string;
  temporalAddress: string;
}

/** The pieces every process of the service needs: a migrated database and a Temporal client. */
export async function connect(config: Config, endpoints: Endpoints): Promise<{ sql: Sql; temporal: Client; close(): Promise<void> }> {
  const sql = createSql(endpoints.databaseUrl, { max: config.PROMO_DB_POOL_SIZE });
  const applied = await migrate(sql);
  if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');
  const keyed = await backfillGroupNameKeys(sql);
  if (keyed > 0) logger.info({ groups: keyed }, 'group name keys computed');
  const temporal = await connectClient(endpoints.temporalAddress, config.TEMPORAL_NAMESPACE);
  await ensureSearchAttributes(temporal);
  return {
    sql,
    temporal,
    close: async () => {
      await temporal.connection.close();
      await sql.end({ timeout: 5 });
    },
  };
}

export async function runWorker(config: Config, endpoints: Endpoints, deps: { sql: Sql; temporal: Client }, workflowBundlePath?: string) {
  const worker = await startWorker({
    address: endpoints.temporalAddress,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    ...deps,
    config,
    workflowBundlePath,
  });
  logger.info({ taskQueue: config.TEMPORAL_TASK_QUEUE, ...(worker.metricsPort !== undefined && { metricsPort: worker.metricsPort }) }, 'worker running');
  return worker;
}

export function runApi(config: Config, deps: { sql: Sql; temporal: Client }) {
  if (config.apiTokens.length === 0) throw new Error('PROMO_API_TOKENS must name at least one token.');
  const renderPool = createRenderPool({ threads: config.PROMO_RENDER_THREADS });
  const app = createApp({
    ...deps,
    renderPool,
    logger,
    apiTokens: config.apiTokens,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    maxBodyBytes: config.PROMO_MAX_BODY_BYTES,
    maxImportBytes: config.PROMO_MAX_IMPORT_BYTES,
    temporalUiUrl: config.TEMPORAL_UI_URL,
    issueBatchSize: config.PROMO_ISSUE_BATCH_SIZE,
    generationLanes: config.PROMO_GENERATE_LANES,
    smtpConfigured: config.SMTP_URL !== undefined,
    webhookPolicy: addressPolicy(parseAllowList(config.PROMO_WEBHOOK_ALLOW).entries),
    trustProxy: config.PROMO_TRUST_PROXY,
  });
  const server = serve({ fetch: app.fetch, port: config.PORT, hostname: '0.0.0.0' });
  logger.info({ port: config.PORT }, 'API listening');
  const reconciler = startReconciler({ ...deps, logger });
  return {
    stop: async () => {
      reconciler.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await renderPool.close();
    },
  };
}

/** Runs `stop` once on SIGINT or SIGTERM, then exits. */
export function onShutdown(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    stop()
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        logger.error({ err: error }, 'stopping failed');
        process.exit(1);
      });
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

export function requireEnv(value: string | undefined, name: string): string {
  if (!value) throw new Error(`${name} must be set when this process runs on its own.`);
  return value;
}

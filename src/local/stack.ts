import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config.js';
import { logger } from '../logger.js';
import { ensureNexusEndpoint } from '../nexus/endpoint.js';
import { connect, runApi, runWorker } from '../services.js';
import { installTemporalRuntime } from '../worker/temporal-runtime.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';
import { CAMPAIGNS_NAMESPACE, findTemporalCli, startTemporalDevServer } from './temporal-dev-server.js';

export interface LocalStack {
  apiUrl: string;
  temporalUiUrl: string | undefined;
  databaseUrl: string;
  temporalAddress: string;
  stop(): Promise<void>;
}

/**
 * The whole service on one machine: embedded PostgreSQL and a Temporal dev server unless
 * external ones are configured, then the worker and the API in this process. The dev server
 * also gets the namespace `campaigns` and the Nexus endpoint PROMO_NEXUS_ENDPOINT, for campaign
 * systems to try the service from.
 */
export async function startLocalStack(config: Config, options: { durable: boolean; temporalUi: boolean }): Promise<LocalStack> {
  const started: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const stopOne of started.reverse()) await stopOne().catch((error: unknown) => logger.error({ err: error }, 'stop failed'));
  };
  installTemporalRuntime(config.LOG_LEVEL);
  try {
    await mkdir(config.dataDir, { recursive: true });
    let databaseUrl = config.DATABASE_URL;
    if (!databaseUrl) {
      const postgres = await startEmbeddedPostgres({ dataDir: path.join(config.dataDir, 'postgres'), durable: options.durable });
      started.push(postgres.stop);
      databaseUrl = postgres.url;
    }
    let temporalAddress = config.TEMPORAL_ADDRESS;
    let temporalUiUrl = config.TEMPORAL_UI_URL;
    if (!temporalAddress) {
      const temporal = await startTemporalDevServer({
        cliPath: findTemporalCli(config.TEMPORAL_CLI_PATH),
        port: config.TEMPORAL_DEV_PORT,
        ...(options.temporalUi && { uiPort: config.TEMPORAL_UI_PORT }),
        namespace: config.TEMPORAL_NAMESPACE,
        extraNamespaces: [CAMPAIGNS_NAMESPACE],
        ...(options.durable && { dbFilename: path.join(config.dataDir, 'temporal.sqlite') }),
      });
      started.push(temporal.stop);
      temporalAddress = temporal.address;
      temporalUiUrl ??= temporal.uiUrl;
    }
    const endpoints = { databaseUrl, temporalAddress };
    const services = await connect(config, endpoints);
    started.push(services.close);
    if (!config.TEMPORAL_ADDRESS) {
      const target = { name: config.PROMO_NEXUS_ENDPOINT, namespace: config.TEMPORAL_NAMESPACE, taskQueue: config.TEMPORAL_TASK_QUEUE };
      await ensureNexusEndpoint(services.temporal.connection, target);
    }
    const worker = await runWorker(config, endpoints, services);
    started.push(worker.stop);
    const api = runApi({ ...config, TEMPORAL_UI_URL: temporalUiUrl }, services);
    started.push(api.stop);
    return { apiUrl: `http://localhost:${config.PORT}/api`, temporalUiUrl, databaseUrl, temporalAddress, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

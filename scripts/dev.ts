import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../src/config.js';
import { startEmbeddedPostgres } from '../src/local/embedded-postgres.js';
import { findTemporalCli, startTemporalDevServer } from '../src/local/temporal-dev-server.js';
import { logger } from '../src/logger.js';
import { connect, onShutdown, runApi, runWorker } from '../src/services.js';

// Everything on one machine: embedded PostgreSQL and a Temporal dev server unless external
// ones are configured, then the worker and the API in this process.
const config = loadConfig();
const apiTokens = config.apiTokens.length > 0 ? config.apiTokens : [randomBytes(24).toString('base64url')];
const stack: (() => Promise<void>)[] = [];
const stopAll = async () => {
  for (const stop of stack.reverse()) await stop().catch((error: unknown) => logger.error({ err: error }, 'stop failed'));
};
onShutdown(stopAll);

try {
  await mkdir(config.dataDir, { recursive: true });
  let databaseUrl = config.DATABASE_URL;
  if (!databaseUrl) {
    const postgres = await startEmbeddedPostgres({ dataDir: path.join(config.dataDir, 'postgres'), durable: true });
    stack.push(postgres.stop);
    databaseUrl = postgres.url;
  }
  let temporalAddress = config.TEMPORAL_ADDRESS;
  let temporalUi = 'the UI of the external Temporal server';
  if (!temporalAddress) {
    const temporal = await startTemporalDevServer({
      cliPath: findTemporalCli(config.TEMPORAL_CLI_PATH),
      port: config.TEMPORAL_DEV_PORT,
      uiPort: config.TEMPORAL_UI_PORT,
      namespace: config.TEMPORAL_NAMESPACE,
      dbFilename: path.join(config.dataDir, 'temporal.sqlite'),
    });
    stack.push(temporal.stop);
    temporalAddress = temporal.address;
    temporalUi = temporal.uiUrl ?? temporalUi;
  }
  const endpoints = { databaseUrl, temporalAddress };
  const services = await connect(config, endpoints);
  stack.push(services.close);
  const worker = await runWorker(config, endpoints, services.sql);
  stack.push(worker.stop);
  const api = runApi({ ...config, apiTokens }, services);
  stack.push(api.stop);

  const base = `http://localhost:${config.PORT}`;
  process.stdout.write(
    [
      '',
      'Promo codes service is running (Ctrl-C stops everything):',
      `  API          ${base}/api`,
      `  API docs     ${base}/api/docs`,
      `  Temporal UI  ${temporalUi}`,
      `  Token        ${apiTokens[0]}${config.apiTokens.length > 0 ? ' (from PROMO_API_TOKENS)' : ' (generated; set PROMO_API_TOKENS to choose one)'}`,
      `  Data         ${config.dataDir}`,
      '',
      `  curl -H 'Authorization: Bearer ${apiTokens[0]}' ${base}/api/groups`,
      '',
    ].join('\n'),
  );
} catch (error) {
  logger.fatal({ err: error }, 'start-up failed');
  await stopAll();
  process.exit(1);
}

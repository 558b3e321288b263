// Run in a process of its own, where nothing else has turned promise hooks on: connects to
// Temporal as the service does (`sdk`: as the SDK alone does) and answers /readyz as the API
// does, or (`dev-server`) starts a Temporal dev server as `npm run dev` does, printing after
// each step whether the process's promise hooks are on.
import { executionAsyncResource } from 'node:async_hooks';
import { Connection } from '@temporalio/client';
import { healthRoutes } from '../../src/api/routes/health.js';
import type { AppDeps } from '../../src/api/router.js';
import { createSql } from '../../src/db/client.js';
import { freePort } from '../../src/local/ports.js';
import { findTemporalCli, startTemporalDevServer } from '../../src/local/temporal-dev-server.js';
import { logger } from '../../src/logger.js';
import { connectClient } from '../../src/temporal/connect.js';

/** With promise hooks on, a continuation runs with its promise as the current async resource. */
const hooksOn = async () => {
  await null;
  return executionAsyncResource() instanceof Promise;
};

const [mode, temporalAddress, databaseUrl] = process.argv.slice(2) as ['sdk' | 'service' | 'dev-server', string, string];
const steps: Record<string, unknown> = { atStart: await hooksOn() };
if (mode === 'dev-server') {
  const server = await startTemporalDevServer({ cliPath: findTemporalCli(process.env.TEMPORAL_CLI_PATH), port: await freePort(), namespace: 'default' });
  steps.afterStart = await hooksOn();
  await server.stop();
} else if (mode === 'sdk') {
  const connection = await Connection.connect({ address: temporalAddress });
  steps.afterConnect = await hooksOn();
  await connection.close();
} else {
  const temporal = await connectClient(temporalAddress, 'default');
  steps.afterConnect = await hooksOn();
  const sql = createSql(databaseUrl, { max: 1 });
  const health = healthRoutes({ sql, temporal, logger } as AppDeps);
  steps.readyz = (await health.request('/readyz')).status;
  steps.afterReadyz = await hooksOn();
  await sql.end();
  await temporal.connection.close();
}
process.stdout.write(JSON.stringify(steps));

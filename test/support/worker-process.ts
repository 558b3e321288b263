// A worker in a process of its own, run as `npm run worker` runs it (SIGTERM and SIGINT shut it
// down), so that tests can stop it as a deploy does or kill it outright (SIGKILL) mid-work.
import { loadConfig } from '../../src/config.js';
import { createSql } from '../../src/db/client.js';
import { onShutdown, runWorker } from '../../src/services.js';
import { installTemporalRuntime } from '../../src/worker/temporal-runtime.js';

installTemporalRuntime('error'); // a kill or timeout test makes the SDK warn of late completions, as it should
const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};
const config = loadConfig();
const sql = createSql(env('DATABASE_URL'));
const worker = await runWorker(config, { databaseUrl: env('DATABASE_URL'), temporalAddress: env('TEMPORAL_ADDRESS') }, sql, env('WORKFLOW_BUNDLE_PATH'));
onShutdown(async () => {
  await worker.stop();
  await sql.end({ timeout: 5 });
});
process.stdout.write('worker ready\n');

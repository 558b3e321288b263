// A worker in a process of its own, run as `npm run worker` runs it (SIGTERM and SIGINT shut it
// down), so that tests can stop it as a deploy does or kill it outright (SIGKILL) mid-work.
import { loadConfig } from '../../src/config.js';
import { connect, onShutdown, runWorker } from '../../src/services.js';
import { sdkExporterAddressFor } from '../../src/metrics/sdk-exporter.js';
import { installTemporalRuntime } from '../../src/worker/temporal-runtime.js';

const config = loadConfig();
installTemporalRuntime('error', await sdkExporterAddressFor(config)); // a kill or timeout test makes the SDK warn of late completions, as it should
const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};
const endpoints = { databaseUrl: env('DATABASE_URL'), temporalAddress: env('TEMPORAL_ADDRESS') };
const services = await connect(config, endpoints);
const worker = await runWorker(config, endpoints, services, env('WORKFLOW_BUNDLE_PATH'));
onShutdown(async () => {
  await worker.stop();
  await services.close();
});
if (worker.metricsPort !== undefined) process.stdout.write(`worker metrics port ${worker.metricsPort}\n`);
process.stdout.write('worker ready\n');

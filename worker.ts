import { loadConfig } from './src/config.js';
import { connect, onShutdown, requireEnv, runWorker } from './src/services.js';
import { sdkExporterAddressFor } from './src/metrics/sdk-exporter.js';
import { installTemporalRuntime } from './src/worker/temporal-runtime.js';

const config = loadConfig();
installTemporalRuntime(config.LOG_LEVEL, await sdkExporterAddressFor(config));
const endpoints = {
  databaseUrl: requireEnv(config.DATABASE_URL, 'DATABASE_URL'),
  temporalAddress: requireEnv(config.TEMPORAL_ADDRESS, 'TEMPORAL_ADDRESS'),
};
const services = await connect(config, endpoints);
const worker = await runWorker(config, endpoints, services);
onShutdown(async () => {
  await worker.stop();
  await services.close();
});

import { loadConfig } from '../config.js';
import { connect, onShutdown, requireEnv, runApi } from '../services.js';

const config = loadConfig();
const services = await connect(config, {
  databaseUrl: requireEnv(config.DATABASE_URL, 'DATABASE_URL'),
  temporalAddress: requireEnv(config.TEMPORAL_ADDRESS, 'TEMPORAL_ADDRESS'),
});
const api = runApi(config, services);
onShutdown(async () => {
  await api.stop();
  await services.close();
});

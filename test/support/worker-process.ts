// A worker in a process of its own, so that tests can kill it outright (SIGKILL) mid-work.
import { loadConfig } from '../../src/config.js';
import { createSql } from '../../src/db/client.js';
import { createWorker } from '../../src/worker/create-worker.js';
import { installTemporalRuntime } from '../../src/worker/temporal-runtime.js';

installTemporalRuntime('warn');
const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};
const sql = createSql(env('DATABASE_URL'));
const { worker } = await createWorker({
  address: env('TEMPORAL_ADDRESS'),
  namespace: 'default',
  taskQueue: env('TEMPORAL_TASK_QUEUE'),
  sql,
  workflowBundlePath: env('WORKFLOW_BUNDLE_PATH'),
  config: loadConfig(),
});
process.stdout.write('worker ready\n');
await worker.run();

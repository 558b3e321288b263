import { DefaultLogger, Runtime } from '@temporalio/worker';
import { startCampaignWorker } from './worker.js';

// The campaign system's workers against `npm run dev`: one in its own namespace `campaigns`
// (calling the service through Nexus), one in the service's namespace (for the child-workflow
// variant). Ctrl-C stops them.
Runtime.install({ logger: new DefaultLogger('ERROR') }); // the bundler's and pollers' chatter stays out of the terminal
const address = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
const workers = await Promise.all([
  startCampaignWorker({ address, namespace: 'campaigns' }),
  startCampaignWorker({ address, namespace: process.env.TEMPORAL_NAMESPACE ?? 'default' }),
]);
process.stdout.write(`campaign workers running against ${address} (namespaces campaigns and the service's); Ctrl-C stops them\n`);
process.once('SIGINT', () => {
  void Promise.all(workers.map((worker) => worker.stop())).then(() => process.exit(0));
});

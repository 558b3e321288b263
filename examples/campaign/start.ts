import { Client, Connection } from '@temporalio/client';
import { welcomeCampaign } from './campaign.js';
import { CAMPAIGN_TASK_QUEUE } from './worker.js';
import type { WelcomeCampaignChildWorkflow, WelcomeCampaignWorkflow } from './workflows.js';

// Runs one welcome campaign against `npm run dev` and prints its result:
//   npx tsx examples/campaign/start.ts <customer id> [--child]
// GROUP names the group of the welcome code (default Welcome). With --child the campaign runs in
// the service's namespace and starts the mailing as a child workflow, otherwise in `campaigns` through Nexus.
const [customerId = 'campaign-customer-1'] = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const child = process.argv.includes('--child');
const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233' });
const client = new Client({ connection, namespace: child ? (process.env.TEMPORAL_NAMESPACE ?? 'default') : 'campaigns' });
const runId = Date.now().toString(36);
const campaign = welcomeCampaign({
  group: process.env.GROUP ?? 'Welcome',
  customerId,
  mailingId: `welcome-${runId}`,
  ...(process.env.TEMPORAL_TASK_QUEUE && { taskQueue: process.env.TEMPORAL_TASK_QUEUE }),
});
const result = await client.workflow.execute<typeof WelcomeCampaignWorkflow | typeof WelcomeCampaignChildWorkflow>(
  child ? 'WelcomeCampaignChildWorkflow' : 'WelcomeCampaignWorkflow',
  { taskQueue: CAMPAIGN_TASK_QUEUE, workflowId: `welcome-campaign-${runId}`, args: [campaign] },
);
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
await connection.close();

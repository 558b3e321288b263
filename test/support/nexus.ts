import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { inject } from 'vitest';
import { CAMPAIGN_TASK_QUEUE, startCampaignWorker } from '../../examples/campaign/worker.js';
import { CAMPAIGNS_NAMESPACE } from '../../src/local/temporal-dev-server.js';
import { ensureNexusEndpoint } from '../../src/nexus/endpoint.js';
import { onCleanup, type TestStack } from './stack.js';

export interface CampaignSide {
  /** the Nexus endpoint of the stack's worker: each test file has its own, as its worker has its own task queue */
  endpoint: string;
  /** a client in the namespace `campaigns` */
  campaigns: Client;
  /** the campaign workers' task queue, in `campaigns` and in the stack's namespace */
  taskQueue: string;
}

/**
 * What a campaign system has: a Nexus endpoint routed to this stack's worker, and the example
 * campaign workers in `campaigns` and in the service's namespace, all removed once the file is done.
 */
export async function campaignSide(stack: TestStack): Promise<CampaignSide> {
  const endpoint = `promo-codes-${randomUUID().slice(0, 8)}`;
  const { connection } = stack.temporal;
  await ensureNexusEndpoint(connection, { name: endpoint, namespace: stack.temporal.options.namespace, taskQueue: stack.taskQueue });
  onCleanup(async () => {
    const { endpoints } = await connection.operatorService.listNexusEndpoints({ name: endpoint });
    for (const { id, version } of endpoints) await connection.operatorService.deleteNexusEndpoint({ id, version });
  });
  const address = inject('temporalAddress');
  const taskQueue = `${CAMPAIGN_TASK_QUEUE}-${randomUUID()}`;
  for (const namespace of [CAMPAIGNS_NAMESPACE, stack.temporal.options.namespace]) {
    const worker = await startCampaignWorker({ address, namespace, taskQueue });
    onCleanup(worker.stop);
  }
  const campaignConnection = await Connection.connect({ address });
  onCleanup(() => campaignConnection.close());
  return { endpoint, campaigns: new Client({ connection: campaignConnection, namespace: CAMPAIGNS_NAMESPACE }), taskQueue };
}

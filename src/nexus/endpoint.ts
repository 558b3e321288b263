import type { Client } from '@temporalio/client';

export interface NexusEndpointTarget {
  /** the endpoint's name, as callers' workflows give it */
  name: string;
  /** the namespace and task queue of the workers serving the service */
  namespace: string;
  taskQueue: string;
}

const ALREADY_EXISTS = 6; // gRPC status

/**
 * Makes the Nexus endpoint `name` route to the given namespace and task queue: creates it, or
 * retargets one left pointing elsewhere (a durable dev server keeps its endpoints); one already
 * right is left alone. What `temporal operator nexus endpoint create` does, without a process.
 */
export async function ensureNexusEndpoint(connection: Client['connection'], target: NexusEndpointTarget): Promise<void> {
  const spec = { name: target.name, target: { worker: { namespace: target.namespace, taskQueue: target.taskQueue } } };
  const { endpoints } = await connection.operatorService.listNexusEndpoints({ name: target.name, pageSize: 1 });
  const existing = endpoints.find((endpoint) => endpoint.spec?.name === target.name);
  if (!existing) {
    try {
      await connection.operatorService.createNexusEndpoint({ spec });
    } catch (error) {
      // another process of the same set-up created it meanwhile
      if ((error as { code?: number }).code !== ALREADY_EXISTS) throw error;
    }
    return;
  }
  const worker = existing.spec?.target?.worker;
  if (worker?.namespace === target.namespace && worker.taskQueue === target.taskQueue) return;
  await connection.operatorService.updateNexusEndpoint({ id: existing.id, version: existing.version, spec });
}

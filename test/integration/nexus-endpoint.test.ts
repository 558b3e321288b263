import { randomUUID } from 'node:crypto';
import { Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ensureNexusEndpoint } from '../../src/nexus/endpoint.js';

let connection: Connection;
const name = `endpoint-test-${randomUUID().slice(0, 8)}`;
beforeAll(async () => {
  connection = await Connection.connect({ address: inject('temporalAddress') });
});
afterAll(async () => {
  const { endpoints } = await connection.operatorService.listNexusEndpoints({ name });
  for (const { id, version } of endpoints) await connection.operatorService.deleteNexusEndpoint({ id, version });
  await connection.close();
});

const endpoint = async () => (await connection.operatorService.listNexusEndpoints({ name })).endpoints;

describe('ensureNexusEndpoint', () => {
  it('creates the endpoint, leaves it alone when it is right, and retargets it when it is not', async () => {
    await ensureNexusEndpoint(connection, { name, namespace: 'default', taskQueue: 'queue-a' });
    const [created] = await endpoint();
    expect(created?.spec?.target?.worker).toMatchObject({ namespace: 'default', taskQueue: 'queue-a' });

    await ensureNexusEndpoint(connection, { name, namespace: 'default', taskQueue: 'queue-a' });
    expect((await endpoint()).map((e) => [e.id, String(e.version)])).toEqual([[created!.id, String(created!.version)]]);

    await ensureNexusEndpoint(connection, { name, namespace: 'campaigns', taskQueue: 'queue-b' });
    const [retargeted] = await endpoint();
    expect(retargeted?.id).toBe(created!.id);
    expect(retargeted?.spec?.target?.worker).toMatchObject({ namespace: 'campaigns', taskQueue: 'queue-b' });
  });
});

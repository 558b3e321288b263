import { beforeAll, describe, expect, it } from 'vitest';
import { createGenerationJob } from '../../src/db/generation.js';
import { compileFormat } from '../../src/domain/format.js';
import { reconcileJobs } from '../../src/temporal/reconcile-jobs.js';
import { eventually, groupWithCodes, testStack, type TestStack } from '../support/stack.js';

const FORMAT = "REC-{string('A-Z', 12)}";

let stack: TestStack;
beforeAll(async () => {
  stack = await testStack();
});

const jobOf = async (id: string) => (await stack.api('GET', `/api/jobs/${id}`)).body;
const backdate = (id: string) => stack.sql`update job set created_at = now() - interval '10 minutes' where id = ${id}`;

async function runningGeneration(groupId: string): Promise<string> {
  const job = (await stack.api('POST', `/api/groups/${groupId}/generations`, { json: { quantity: 1_000_000 } })).body;
  await eventually(async () => (await jobOf(job.id)).added > 0 || undefined);
  return job.id;
}

describe('reconciling jobs with their workflows', () => {
  it('fails a job whose workflow was terminated or never started, and leaves the others', async () => {
    const group = await groupWithCodes(stack, 'Reconciled', [], { format: FORMAT });
    const recordOnly = async () => (await createGenerationJob(stack.sql, { groupId: group.id, requested: 10, format: compileFormat(FORMAT), maxLanes: 1 })).job.id;
    const neverStarted = await recordOnly();
    const justRecorded = await recordOnly();
    const terminated = await runningGeneration(group.id);
    await stack.temporal.workflow.getHandle(`generate-${terminated}`).terminate('operator');
    const running = await runningGeneration(group.id);
    for (const id of [neverStarted, terminated, running]) await backdate(id);

    const missing = await reconcileJobs(stack, new Set(), 60);
    expect([...missing]).toEqual([neverStarted]);
    expect(await jobOf(terminated)).toMatchObject({ status: 'failed', errors: [{ reason: expect.stringMatching(/workflow ended \(TERMINATED\)/) }] });
    expect((await jobOf(neverStarted)).status).toBe('running');

    expect([...(await reconcileJobs(stack, missing, 60))]).toEqual([]);
    expect(await jobOf(neverStarted)).toMatchObject({ status: 'failed', errors: [{ reason: expect.stringMatching(/never started/) }] });
    expect((await jobOf(justRecorded)).status).toBe('running');
    expect((await jobOf(running)).status).toBe('running');

    expect((await stack.api('POST', `/api/jobs/${running}/cancel`)).status).toBe(202);
    await eventually(async () => (await jobOf(running)).status === 'cancelled' || undefined);
  });
});

import { expect } from 'vitest';
import { eventually, spawnWorkerProcess, type TestStack } from './stack.js';

/**
 * Runs a job on a worker in a child process and stops that worker as soon as the job, read over
 * the API, satisfies `progressed`: killed (SIGKILL) or, as a deploy does, terminated (SIGTERM);
 * checks that the job is still running then, and starts a fresh worker to finish it. Answers
 * the started job.
 */
export async function killWorkerMidJob<T extends { id: string }>(
  stack: TestStack,
  start: () => Promise<T>,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  progressed: (job: any) => boolean,
  stop: 'kill' | 'terminate' = 'kill',
): Promise<T> {
  const doomed = await spawnWorkerProcess(stack);
  const job = await start();
  const readJob = async () => (await stack.api('GET', `/api/jobs/${job.id}`)).body;
  await eventually(async () => progressed(await readJob()) || undefined, 60_000, 20);
  await doomed[stop]();
  const halfway = await readJob();
  expect(halfway.status, 'the job outlived the first worker').toBe('running');
  expect(halfway.processed, 'the first worker was killed mid-job').toBeLessThan(halfway.requested);
  await spawnWorkerProcess(stack);
  return job;
}

import { CancellationScope, ContinueAsNew, defineQuery, isCancellation, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { JobProgress } from '../activities/jobs.js';
import type { Job } from '../db/jobs.js';

export const jobActivities = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '15 seconds',
  // a database outage is waited out; errors a retry cannot cure are non-retryable at the source
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

export const jobProgressQuery = defineQuery<Job | undefined>('progress');

/**
 * A job's run: calls its batch activity on each lane (`lanes` of them at once) until every
 * lane is done, continuing as new (`restart`) when Temporal suggests it, and ends the job row
 * however the run ends — completed, failed, or cancelled (in a non-cancellable scope, so a
 * cancel still records it).
 */
export async function runBatchJob(
  jobId: string,
  batch: (jobId: string, lane: number) => Promise<JobProgress>,
  restart: () => Promise<never>,
  lanes = 1,
): Promise<Job> {
  let progress: Job | undefined;
  setHandler(jobProgressQuery, () => progress);
  let restarting = false;
  const runLane = async (lane: number) => {
    while (!restarting) {
      const step = await batch(jobId, lane);
      // lanes report in any order: the furthest count is the latest
      if (!progress || step.job.processed >= progress.processed) progress = step.job;
      if (step.done) return;
      restarting ||= workflowInfo().continueAsNewSuggested;
    }
  };
  try {
    await Promise.all(Array.from({ length: lanes }, (_, lane) => runLane(lane)));
    if (restarting) return await restart();
    return await jobActivities.finishJob(jobId, { status: 'completed' });
  } catch (error) {
    if (error instanceof ContinueAsNew) throw error;
    const outcome = isCancellation(error)
      ? ({ status: 'cancelled' } as const)
      : ({ status: 'failed', reason: failureMessage(error) } as const);
    await CancellationScope.nonCancellable(() => jobActivities.finishJob(jobId, outcome));
    throw error;
  }
}

function failureMessage(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  return cause instanceof Error ? cause.message : String(cause);
}

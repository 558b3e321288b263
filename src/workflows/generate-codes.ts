import {
  CancellationScope,
  ContinueAsNew,
  continueAsNew,
  defineQuery,
  isCancellation,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { Job } from '../db/jobs.js';

const { generateCodesBatch, finishJob } = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '15 seconds',
  // a database outage is waited out; errors a retry cannot cure are non-retryable at the source
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

export const jobProgressQuery = defineQuery<Job | undefined>('progress');

export interface GenerateCodesInput {
  jobId: string;
}

/** Fills a group with newly generated codes, one batch activity at a time, until the job's target is met. */
export async function GenerateCodesWorkflow({ jobId }: GenerateCodesInput): Promise<Job> {
  let progress: Job | undefined;
  setHandler(jobProgressQuery, () => progress);
  try {
    for (;;) {
      const step = await generateCodesBatch(jobId);
      progress = step.job;
      if (step.done) break;
      if (workflowInfo().continueAsNewSuggested) return await continueAsNew<typeof GenerateCodesWorkflow>({ jobId });
    }
    return await finishJob(jobId, { status: 'completed' });
  } catch (error) {
    if (error instanceof ContinueAsNew) throw error;
    const outcome = isCancellation(error)
      ? ({ status: 'cancelled' } as const)
      : ({ status: 'failed', reason: failureMessage(error) } as const);
    await CancellationScope.nonCancellable(() => finishJob(jobId, outcome));
    throw error;
  }
}

function failureMessage(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  return cause instanceof Error ? cause.message : String(cause);
}

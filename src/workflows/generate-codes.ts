import { continueAsNew } from '@temporalio/workflow';
import type { Job } from '../db/jobs.js';
import { jobActivities, runBatchJob } from './batch-job.js';

export { jobProgressQuery } from './batch-job.js';

export interface GenerateCodesInput {
  jobId: string;
}

/** Fills a group with newly generated codes, one batch activity at a time, until the job's target is met. */
export async function GenerateCodesWorkflow({ jobId }: GenerateCodesInput): Promise<Job> {
  return runBatchJob(jobId, (id) => jobActivities.generateCodesBatch(id), () => continueAsNew<typeof GenerateCodesWorkflow>({ jobId }));
}

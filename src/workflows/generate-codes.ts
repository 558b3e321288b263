import { continueAsNew } from '@temporalio/workflow';
import type { Job } from '../db/jobs.js';
import { jobActivities, runBatchJob } from './batch-job.js';

export { jobProgressQuery } from './batch-job.js';

export interface GenerateCodesInput {
  jobId: string;
  /** as many as the job's generation_lane rows; runs started before lanes have none: one */
  lanes?: number;
}

/** Fills a group with newly generated codes, batch activities on each lane at once, until every lane's share of the target is met. */
export async function GenerateCodesWorkflow({ jobId, lanes = 1 }: GenerateCodesInput): Promise<Job> {
  return runBatchJob(jobId, jobActivities.generateCodesBatch, () => continueAsNew<typeof GenerateCodesWorkflow>({ jobId, lanes }), lanes);
}

import { continueAsNew } from '@temporalio/workflow';
import type { Job } from '../db/jobs.js';
import { IMPORT_LANES } from '../domain/import-lanes.js';
import { jobActivities, runBatchJob } from './batch-job.js';

export interface ImportCodesInput {
  jobId: string;
}

/**
 * Moves an uploaded file's staged lines into the group, in batch activities (one transaction
 * each) on IMPORT_LANES lanes at once: valid new codes are added, invalid and duplicate lines
 * counted and recorded.
 */
export async function ImportCodesWorkflow({ jobId }: ImportCodesInput): Promise<Job> {
  return runBatchJob(jobId, jobActivities.importCodesBatch, () => continueAsNew<typeof ImportCodesWorkflow>({ jobId }), IMPORT_LANES);
}

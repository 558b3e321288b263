import { Context } from '@temporalio/activity';
import type { Sql } from '../db/client.js';
import { generateBatch } from '../db/generation.js';
import { finishJob, type Job, type JobOutcome, publicJob } from '../db/jobs.js';
import { failPermanently } from './failures.js';

export interface JobProgress {
  job: Job;
  done: boolean;
}

export function jobActivities({ sql, generateBatchSize }: { sql: Sql; generateBatchSize: number }) {
  return {
    /** Adds the next batch of a generation job's codes. */
    async generateCodesBatch(jobId: string): Promise<JobProgress> {
      return failPermanently(async () => {
        const { job, done } = await generateBatch(sql, jobId, generateBatchSize, () => Context.current().heartbeat());
        return { job: publicJob(job), done };
      });
    },

    async finishJob(jobId: string, outcome: JobOutcome): Promise<Job> {
      return publicJob(await finishJob(sql, jobId, outcome));
    },
  };
}

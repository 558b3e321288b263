import { Context } from '@temporalio/activity';
import { generateBatch } from '../db/generation.js';
import { type BatchOutcome, finishJob, type Job, type JobOutcome, publicJob } from '../db/jobs.js';
import { failPermanently } from './failures.js';
import type { ActivityDeps } from './deps.js';

export interface JobProgress {
  job: Job;
  done: boolean;
}

/** Progress travels through the workflow history with every batch: the counts, and only the first problems. */
const PROGRESS_PROBLEMS = 10;

/** The body of a job's batch activity: heartbeats, and errors a retry cannot cure fail it for good. */
export async function runBatch(step: (heartbeat: () => void) => Promise<BatchOutcome>): Promise<JobProgress> {
  return failPermanently(async () => {
    const { job, done } = await step(() => Context.current().heartbeat());
    return { job: { ...publicJob(job), errors: job.errors.slice(0, PROGRESS_PROBLEMS) }, done };
  });
}

export function jobActivities({ sql, config }: ActivityDeps) {
  return {
    /** Adds the next batch of one lane of a generation job's codes (histories from before lanes call it without one: lane 0). */
    async generateCodesBatch(jobId: string, lane = 0): Promise<JobProgress> {
      return runBatch((heartbeat) => generateBatch(sql, jobId, lane, config.PROMO_GENERATE_BATCH_SIZE, heartbeat));
    },

    async finishJob(jobId: string, outcome: JobOutcome): Promise<Job> {
      return publicJob(await finishJob(sql, jobId, outcome));
    },
  };
}

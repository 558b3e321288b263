import { importBatch } from '../db/imports.js';
import type { ActivityDeps } from './deps.js';
import { type JobProgress, runBatch } from './jobs.js';

export function importActivities({ sql, config }: ActivityDeps) {
  return {
    /** Moves the next batch of one lane of an import job's staged lines into its group. */
    async importCodesBatch(jobId: string, lane: number): Promise<JobProgress> {
      return runBatch((heartbeat) => importBatch(sql, jobId, lane, config.PROMO_IMPORT_BATCH_SIZE, heartbeat));
    },
  };
}

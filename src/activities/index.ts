import type { Sql } from '../db/client.js';
import { jobActivities } from './jobs.js';

export interface ActivityDeps {
  sql: Sql;
  generateBatchSize: number;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...jobActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;

import type { Sql } from '../db/client.js';

export interface ActivityDeps {
  sql: Sql;
  generateBatchSize: number;
}

export function createActivities(_deps: ActivityDeps) {
  return {};
}

import type { Config } from '../config.js';
import type { Sql } from '../db/client.js';
import { importActivities } from './imports.js';
import { jobActivities } from './jobs.js';
import { mailingActivities } from './mailings.js';

export interface ActivityDeps {
  sql: Sql;
  config: Config;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...jobActivities(deps),
    ...importActivities(deps),
    ...mailingActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;

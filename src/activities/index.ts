import type { ActivityDeps } from './deps.js';
import { housekeepingActivities } from './housekeeping.js';
import { importActivities } from './imports.js';
import { jobActivities } from './jobs.js';
import { mailingActivities } from './mailings.js';

export function createActivities(deps: ActivityDeps) {
  return {
    ...jobActivities(deps),
    ...importActivities(deps),
    ...mailingActivities(deps),
    ...housekeepingActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;

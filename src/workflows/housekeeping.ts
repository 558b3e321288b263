import { log, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';

const activities = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  // the next run, a minute later, does the same work: a run need not wait out a long outage
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 5 },
});

export interface HousekeepingOutcome {
  expired: { ofExpiredGroups: number; pastValidity: number };
  lowStockAlerts: number;
  refills: { started: number; exhausted: number };
}

/**
 * One run of the `promo-housekeeping` schedule: expires the codes that are due, then alerts on
 * low stock, then starts auto-refills (after expiry, which lowers `active`). Each step is safe to
 * repeat, so a run that fails or is missed is made good by the next.
 */
export async function HousekeepingWorkflow(): Promise<HousekeepingOutcome> {
  const expired = await activities.expireDueCodes();
  const lowStockAlerts = await activities.sendLowStockAlerts();
  const refills = await activities.startAutoRefills();
  if (expired.ofExpiredGroups + expired.pastValidity + lowStockAlerts + refills.started + refills.exhausted > 0) {
    log.info('housekeeping', { expired, lowStockAlerts, refills });
  }
  return { expired, lowStockAlerts, refills };
}

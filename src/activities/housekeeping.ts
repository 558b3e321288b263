import { type Alert, alertSender } from '../channels/alerts.js';
import { generationCapacity } from '../db/generation.js';
import { getGroup } from '../db/groups.js';
import {
  alone,
  expireDueCodes,
  type ExpiryCounts,
  LOW_STOCK,
  lowStockToAlert,
  markAlerted,
  REFILL_EXHAUSTED,
  type RefillNeed,
  refillsDue,
} from '../db/housekeeping.js';
import { isUniqueViolation } from '../db/errors.js';
import { requireValidFormat } from '../domain/format-field.js';
import { startGeneration } from '../temporal/start-job.js';
import type { ActivityDeps } from './deps.js';

/** The steps of a housekeeping run (HousekeepingWorkflow), each safe to repeat. */
export function housekeepingActivities({ sql, config, temporal, taskQueue, logger }: ActivityDeps) {
  const sendAlert = alertSender(config, logger);
  const jobDeps = { sql, temporal, taskQueue, generationLanes: config.PROMO_GENERATE_LANES };

  /** Tops one group up toward `upTo` as far as its format can; true when its keyspace fell short. */
  async function refill(need: RefillNeed): Promise<{ started: boolean; exhausted: boolean }> {
    const group = await getGroup(sql, need.groupId);
    const format = requireValidFormat(group.format!);
    const wanted = need.upTo - need.active;
    const capacity = await generationCapacity(sql, format);
    let started = false;
    if (capacity > 0) {
      try {
        await startGeneration(jobDeps, group, format, Math.min(wanted, capacity), 'autoRefill');
        started = true;
      } catch (error) {
        // another run started this group's refill a moment ago
        if (!isUniqueViolation(error, 'job_one_auto_refill')) throw error;
      }
    }
    if (capacity >= wanted || need.exhaustedAlerted) return { started, exhausted: false };
    const alert: Alert = { type: 'refill_exhausted', groupId: group.id, groupName: group.name, active: need.active, below: need.below, capacity };
    if (await sendAlert(alert, `refill_exhausted:${group.id}:${need.sequence + 1}`)) await markAlerted(sql, group.id, REFILL_EXHAUSTED);
    return { started, exhausted: true };
  }

  return {
    async expireDueCodes(): Promise<ExpiryCounts> {
      return expireDueCodes(sql);
    },

    /** One alert per crossing of a group's threshold; an alert the receiver did not take goes again next run. */
    async sendLowStockAlerts(): Promise<number> {
      return alone(sql, async () => {
        let sent = 0;
        for (const { sequence, ...group } of await lowStockToAlert(sql)) {
          if (!(await sendAlert({ type: 'low_stock', ...group }, `low_stock:${group.groupId}:${sequence + 1}`))) continue;
          await markAlerted(sql, group.groupId, LOW_STOCK);
          sent += 1;
        }
        return sent;
      });
    },

    /** Starts a refill for each group below its `autoRefill.below` that has none running. */
    async startAutoRefills(): Promise<{ started: number; exhausted: number }> {
      return alone(sql, async () => {
        const counts = { started: 0, exhausted: 0 };
        for (const need of await refillsDue(sql)) {
          const { started, exhausted } = await refill(need);
          counts.started += Number(started);
          counts.exhausted += Number(exhausted);
        }
        return counts;
      });
    },
  };
}

import { type Client, ScheduleAlreadyRunning, ScheduleOverlapPolicy } from '@temporalio/client';
import type { HousekeepingWorkflow } from '../workflows/housekeeping.js';

/**
 * Creates the housekeeping schedule (every minute, HousekeepingWorkflow on the worker's task
 * queue) unless it exists. One run at a time: a run still going when the next is due makes that
 * one skip, and after an outage one missed run is made up — a run catches up on everything due.
 */
export async function ensureHousekeepingSchedule(client: Client, options: { scheduleId: string; taskQueue: string }): Promise<void> {
  try {
    await client.schedule.create<typeof HousekeepingWorkflow>({
      scheduleId: options.scheduleId,
      spec: { intervals: [{ every: '1 minute' }] },
      action: {
        type: 'startWorkflow',
        workflowType: 'HousekeepingWorkflow',
        workflowId: options.scheduleId,
        taskQueue: options.taskQueue,
        args: [],
        staticSummary: 'Housekeeping: expire what is due, send low-stock alerts, start auto-refills',
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
      state: { note: 'Created by the promo-codes worker: expires codes, sends low-stock alerts, starts auto-refills.' },
    });
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
}

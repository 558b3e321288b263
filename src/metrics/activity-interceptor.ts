import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type { WorkerMetrics } from './worker-metrics.js';

/** Items a batch activity's result says it settled; undefined for other activities. */
const BATCH_ITEMS: Record<string, (result: unknown) => number | undefined> = {
  sendMailingBatch: (result) => {
    const tally = result as { sent?: unknown; failed?: unknown; unknown?: unknown } | undefined;
    const counts = [tally?.sent, tally?.failed, tally?.unknown];
    return counts.every((count) => typeof count === 'number') ? (counts as number[]).reduce((sum, count) => sum + count, 0) : undefined;
  },
};

/** Times every activity attempt, counts its failures, and observes the size of batches; results pass through untouched. */
export function activityMetricsInterceptor(metrics: WorkerMetrics): ActivityInterceptorsFactory {
  return (context) => ({
    inbound: {
      async execute(input, next) {
        const labels = { activity_type: context.info.activityType };
        const stopTimer = metrics.activityDuration.startTimer(labels);
        try {
          const result = await next(input);
          const items = BATCH_ITEMS[labels.activity_type]?.(result);
          if (items !== undefined) metrics.batchItems.observe(labels, items);
          return result;
        } catch (error) {
          metrics.activityFailures.inc(labels);
          throw error;
        } finally {
          stopTimer();
        }
      },
    },
  });
}

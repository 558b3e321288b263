import { Counter, Histogram, Registry } from 'prom-client';

export interface WorkerMetrics {
  registry: Registry;
  activityDuration: Histogram<'activity_type'>;
  activityFailures: Counter<'activity_type'>;
  batchItems: Histogram<'activity_type'>;
}

/** A worker's own metrics, in a registry of its own (tests run several workers in one process). */
export function createWorkerMetrics(): WorkerMetrics {
  const registry = new Registry();
  const registers = [registry];
  return {
    registry,
    activityDuration: new Histogram({
      name: 'promo_activity_duration_seconds',
      help: 'Time an activity attempt ran on this worker, failed or not, by activity type.',
      labelNames: ['activity_type'] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    }),
    activityFailures: new Counter({
      name: 'promo_activity_failures_total',
      help: 'Activity attempts on this worker that ended in an error (retried or not), by activity type.',
      labelNames: ['activity_type'] as const,
      registers,
    }),
    batchItems: new Histogram({
      name: 'promo_activity_batch_items',
      help: 'Items one batch activity attempt settled: recipients of a mailing send batch (sent + failed + unknown).',
      labelNames: ['activity_type'] as const,
      buckets: [0, 1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10_000],
      registers,
    }),
  };
}

import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Sql } from '../db/client.js';
import { sharedInFlight } from './shared-in-flight.js';
import { CODE_STATUSES, isLowStock, JOB_STATUSES, MAILING_STATUSES, readServiceState, RECIPIENT_OUTCOMES } from './state-queries.js';

export interface ApiMetrics {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
}

/**
 * The API process's metrics, in a registry of its own (several apps may share a process): HTTP
 * requests, and the service's state read from the database at each scrape.
 */
export function createApiMetrics(sql: Sql): ApiMetrics {
  const registry = new Registry();
  const registers = [registry];
  const state = sharedInFlight(() => readServiceState(sql));

  const httpRequests = new Counter({
    name: 'promo_http_requests_total',
    help: 'HTTP requests answered, by method, matched route pattern and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    registers,
  });
  const httpDuration = new Histogram({
    name: 'promo_http_request_duration_seconds',
    help: 'Time to answer an HTTP request (until its response is ready), by method, matched route pattern and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });

  new Gauge({
    name: 'promo_codes',
    help: 'Codes of each live group by status, from the group counters.',
    labelNames: ['group_id', 'group', 'status'] as const,
    registers,
    async collect() {
      const { groups } = await state();
      this.reset();
      for (const group of groups) {
        for (const status of CODE_STATUSES) this.set({ group_id: group.id, group: group.name, status }, group[status]);
      }
    },
  });
  new Gauge({
    name: 'promo_low_stock_groups',
    help: 'Live groups whose active codes are below their low-stock threshold.',
    registers,
    async collect() {
      this.set((await state()).groups.filter(isLowStock).length);
    },
  });
  new Gauge({
    name: 'promo_jobs',
    help: 'Generation and import jobs by status.',
    labelNames: ['status'] as const,
    registers,
    async collect() {
      const { jobs } = await state();
      for (const status of JOB_STATUSES) this.set({ status }, jobs.get(status) ?? 0);
    },
  });
  new Gauge({
    name: 'promo_mailings',
    help: 'Mailings by status.',
    labelNames: ['status'] as const,
    registers,
    async collect() {
      const { mailings } = await state();
      for (const status of MAILING_STATUSES) this.set({ status }, mailings.get(status) ?? 0);
    },
  });
  // a counter: the sums over every mailing only grow, so rate() and increase() apply
  new Counter({
    name: 'promo_mailing_recipients_total',
    help: 'Recipients of all mailings settled as sent, failed or unknown, from the mailing counters.',
    labelNames: ['status'] as const,
    registers,
    async collect() {
      const { recipients } = await state();
      this.reset();
      for (const status of RECIPIENT_OUTCOMES) this.inc({ status }, recipients[status]);
    },
  });

  return { registry, httpRequests, httpDuration };
}

import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { groupWithCodes, mailingEnded, numberedCodes, spawnWorkerProcess, testStack, type TestStack, type WorkerProcess } from '../support/stack.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * The Prometheus text exposition format, samples only (comments skipped): `name{a="x",b="y"} value`.
 * Label values may hold escaped `\\`, `\"` and `\n`.
 */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/.exec(line);
    if (!match) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, name, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[name!] = value!.replace(/\\(.)/g, (_, escaped: string) => (escaped === 'n' ? '\n' : escaped));
    }
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The samples named `name` whose labels include `labels`. */
const select = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));

/** The value of the one sample named `name` with `labels`. */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = select(samples, name, labels);
  expect(found, `${name}${JSON.stringify(labels)}`).toHaveLength(1);
  return found[0]!.value;
}

let stack: TestStack;
let worker: WorkerProcess;
let group: { id: string; name: string };
let mailingId: string;
/** every metric family either process exposed, for the check of the docs */
const exposed = new Set<string>();
const familyOf = (name: string) => name.replace(/_(bucket|count|sum)$/, '');

beforeAll(async () => {
  // the runtime of this process was installed without metrics (test/support/stack.ts): the worker runs in a process of its own
  stack = await testStack({ worker: false });
  worker = await spawnWorkerProcess(stack, { PROMO_WORKER_METRICS_PORT: '0' });

  group = await groupWithCodes(stack, 'Metrics', numberedCodes('METRICS', 10), { lowStockThreshold: 100 });
  expect((await stack.api('POST', `/api/groups/${group.id}/issue`, { json: { customerId: 'direct-1' } })).status).toBe(200);
  const mailing = await stack.api('POST', '/api/mailings', {
    json: {
      name: 'Metrics mailing',
      channel: { type: 'log' },
      template: { body: 'Code {{ client.promocode("Metrics") }}' },
      recipients: [{ customerId: 'm-1' }, { customerId: 'm-2' }, { customerId: 'm-3' }],
    },
  });
  expect(mailing.status, mailing.text).toBe(202);
  mailingId = mailing.body.id;
  expect(await mailingEnded(stack, mailingId)).toMatchObject({ status: 'completed', sent: 3 });
}, 60_000);

describe("the API's /metrics", () => {
  it('needs the API token', async () => {
    expect((await stack.api('GET', '/metrics', { token: null })).status).toBe(401);
    expect((await stack.api('GET', '/metrics', { token: 'wrong' })).status).toBe(401);
  });

  it('shows the counters of the database and the requests by route pattern', async () => {
    const groupAnswer = await stack.api('GET', `/api/groups/${group.id}`);
    expect(groupAnswer.body).toMatchObject({ active: 6, issued: 4, lowStock: true });
    const scrape = await stack.api('GET', '/metrics');
    expect(scrape.status).toBe(200);
    expect(scrape.headers.get('content-type')).toMatch(/^text\/plain/);
    const samples = parseExposition(scrape.text);
    for (const sample of samples) exposed.add(familyOf(sample.name));

    for (const status of ['active', 'blocked', 'issued', 'redeemed', 'expired']) {
      expect(valueOf(samples, 'promo_codes', { group_id: group.id, group: 'Metrics', status }), status).toBe(groupAnswer.body[status]);
    }
    expect(valueOf(samples, 'promo_low_stock_groups')).toBe(1);
    expect(valueOf(samples, 'promo_mailings', { status: 'completed' })).toBe(1);
    expect(valueOf(samples, 'promo_mailings', { status: 'sending' })).toBe(0);
    expect(valueOf(samples, 'promo_jobs', { status: 'running' })).toBe(0);
    expect(valueOf(samples, 'promo_mailing_recipients_total', { status: 'sent' })).toBe(3);
    expect(valueOf(samples, 'promo_mailing_recipients_total', { status: 'failed' })).toBe(0);
    expect(valueOf(samples, 'promo_mailing_recipients_total', { status: 'unknown' })).toBe(0);

    const requests = select(samples, 'promo_http_requests_total');
    expect(valueOf(samples, 'promo_http_requests_total', { method: 'GET', route: '/api/groups/:id', status: '200' })).toBeGreaterThanOrEqual(1);
    expect(valueOf(samples, 'promo_http_requests_total', { method: 'POST', route: '/api/groups/:id/issue', status: '200' })).toBe(1);
    expect(valueOf(samples, 'promo_http_requests_total', { method: 'GET', route: '/metrics', status: '401' })).toBe(2);
    // never the raw path
    expect(requests.filter((sample) => sample.labels.route!.includes(group.id) || sample.labels.route!.includes(mailingId))).toEqual([]);
    expect(valueOf(samples, 'promo_http_request_duration_seconds_count', { method: 'GET', route: '/api/groups/:id', status: '200' })).toBeGreaterThanOrEqual(1);
  });
});

describe("a worker's /metrics", () => {
  it('times the activities the mailing ran, sizes its batches, and carries the SDK metrics', async () => {
    expect(worker.metricsPort).toBeGreaterThan(0);
    const response = await fetch(`http://127.0.0.1:${worker.metricsPort}/metrics`);
    expect(response.status).toBe(200);
    const samples = parseExposition(await response.text());
    for (const sample of samples) exposed.add(familyOf(sample.name));

    for (const activityType of ['reserveMailingCodes', 'sendMailingBatch', 'finishMailing']) {
      expect(valueOf(samples, 'promo_activity_duration_seconds_count', { activity_type: activityType }), activityType).toBeGreaterThanOrEqual(1);
    }
    expect(valueOf(samples, 'promo_activity_batch_items_sum', { activity_type: 'sendMailingBatch' })).toBe(3);
    expect(select(samples, 'promo_activity_failures_total')).toEqual([]);
    expect(samples.some((sample) => sample.name.startsWith('temporal_'))).toBe(true);
  });
});

describe('the dashboard and the alert rules', () => {
  const read = (file: string) => readFileSync(new URL(`../../docs/${file}`, import.meta.url), 'utf8');
  const promoMetrics = (text: string) => new Set([...text.matchAll(/\bpromo_[a-z_]+/g)].map(([name]) => familyOf(name)));

  it('use only metrics the processes expose and docs/metrics.md describes', () => {
    const dashboard = JSON.parse(read('grafana-dashboard.json'));
    expect(dashboard.templating.list).toContainEqual(expect.objectContaining({ type: 'datasource', query: 'prometheus' }));
    const rules = parse(read('prometheus-alerts.yml')).groups.flatMap((group: { rules: { alert: string }[] }) => group.rules);
    expect(rules.map((rule: { alert: string }) => rule.alert)).toEqual(['PromoMailingStuck', 'PromoLowStock', 'PromoWorkerDown']);

    const documented = read('metrics.md');
    const used = new Set([...promoMetrics(read('grafana-dashboard.json')), ...promoMetrics(read('prometheus-alerts.yml'))]);
    // a failure counter has no series until something fails
    const exposedOrFailures = new Set([...exposed, 'promo_activity_failures_total']);
    for (const name of used) {
      expect(exposedOrFailures.has(name), `${name} is exposed`).toBe(true);
      expect(documented, `${name} is documented`).toContain(`\`${name}\``);
    }
  });
});

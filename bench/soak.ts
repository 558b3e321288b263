import { lifecycleViolations } from '../test/support/lifecycle-violations.js';
import { startTopology, type Topology } from '../test/support/topology.js';
import { memoryMb } from './processes.js';
import { percentile, round } from './support.js';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 600);
/** direct issues per second, spread over both APIs */
const ISSUE_RATE = 40;
const MAILING_EVERY_MS = 30_000;
const MAILING_RECIPIENTS = 500;
const SEGMENT_EVERY_MS = 2_000;
const IMPORT_LINES = 200_000;
const GENERATED = 200_000;
const STOCK = 300_000;

/**
 * Ten minutes (SOAK_SECONDS) of mixed load on the production-shaped topology (two API and two
 * worker processes, PostgreSQL and a Temporal server of their own): direct issues at a fixed
 * rate, a mailing every 30 s, an import, a generation and segment queries, all at once. Prints
 * throughput, latencies, errors (must be 0) and each process's RSS at the start and the end;
 * the baseline is the same issue latency measured on the idle topology before the load.
 */
export async function run() {
  const topology = await startTopology({ output: () => {} });
  try {
    const errors: string[] = [];
    const api = (via: number) => (method: string, path: string, json?: unknown, text?: string) =>
      topology.api(method, path, { via: via % topology.apis.length, ...(json !== undefined && { json }), ...(text !== undefined && { text }) });
    const stock = await filledGroup(topology, 'Soak stock', STOCK);
    await filledGroup(topology, 'Soak mailings', (Math.ceil((SECONDS * 1000) / MAILING_EVERY_MS) + 2) * MAILING_RECIPIENTS);
    const idle = await issueLatencies(topology, stock, 200, 'idle');
    const rssStart = await rss(topology);

    const deadline = Date.now() + SECONDS * 1000;
    const issueMs: number[] = [];
    const segmentMs: number[] = [];
    const mailingSeconds: number[] = [];
    const fail = (what: string) => (problem: unknown) => errors.push(`${what}: ${problem instanceof Error ? problem.message : String(problem)}`);
    const checked = async (what: string, answer: Promise<{ status: number; text: string }>, expected: number) => {
      const { status, text } = await answer;
      if (status !== expected) throw new Error(`${what} answered ${status}: ${text.slice(0, 200)}`);
    };

    let issued = 0;
    const issues = every(1000 / ISSUE_RATE, deadline, async (n) => {
      const start = performance.now();
      await checked('issue', api(n)('POST', `/api/groups/${stock}/issue`, { customerId: `soak-${n % 20_000}`, idempotencyKey: `soak-${n}` }), 200);
      issueMs.push(performance.now() - start);
      issued += 1;
    }, fail('issue'));
    const mailings = every(MAILING_EVERY_MS, deadline, async (n) => {
      const start = performance.now();
      const recipients = Array.from({ length: MAILING_RECIPIENTS }, (_, i) => ({ customerId: `mail-${n}-${i}`, attributes: { name: `R${i}` } }));
      const answer = await api(n)('POST', '/api/mailings', { name: `Soak ${n}`, channel: { type: 'log' }, template: { body: "Hi {{ client.name }}: {{ client.promocode('Soak mailings') }}" }, recipients });
      if (answer.status !== 202) throw new Error(`mailing answered ${answer.status}`);
      const ended = await waitFor(async () => {
        const mailing = (await api(n)('GET', `/api/mailings/${answer.body.id}`)).body;
        return ['completed', 'failed', 'cancelled'].includes(mailing.status) && mailing;
      });
      if (ended.status !== 'completed' || ended.sent !== MAILING_RECIPIENTS) throw new Error(`mailing ${answer.body.id} ended ${JSON.stringify(ended)}`);
      mailingSeconds.push((performance.now() - start) / 1000);
    }, fail('mailing'));
    const segments = every(SEGMENT_EVERY_MS, deadline, async (n) => {
      const start = performance.now();
      const filter = n % 2 === 0 ? { issuedCount: { op: 'gte', value: 2 } } : { issuedFromGroup: { group: 'Soak stock' } };
      await checked('segment', api(n)('POST', '/api/segments/query', { filter, limit: 100 }), 200);
      segmentMs.push(performance.now() - start);
    }, fail('segment'));
    const jobs = (async () => {
      const imported = await job(topology, 'Soak import', (id) => api(0)('POST', `/api/groups/${id}/imports`, undefined, Array.from({ length: IMPORT_LINES }, (_, i) => `SOAKIMP-${i}`).join('\n')));
      const generated = await job(topology, 'Soak generation', (id) => api(1)('POST', `/api/groups/${id}/generations`, { quantity: GENERATED, format: "SOAKGEN-{string('A-Z', 10)}" }));
      return { imported, generated };
    })().catch((problem) => {
      fail('job')(problem);
      return undefined;
    });

    await Promise.all([issues, mailings, segments]);
    const jobTimes = await jobs;
    const rssEnd = await rss(topology);
    const violations = Object.entries(await lifecycleViolations(topology.sql)).filter(([, rows]) => rows.length > 0);
    errors.push(...violations.map(([invariant, rows]) => `broken: ${invariant} (${rows.length} rows)`));

    return [
      {
        bench: 'soak',
        seconds: SECONDS,
        processes: { apis: topology.apis.length, workers: topology.workers.length },
        issues: { count: issued, perSecond: round(issued / SECONDS), p50Ms: round(percentile(issueMs, 50)), p99Ms: round(percentile(issueMs, 99)) },
        baselineIdleIssue: { p50Ms: round(percentile(idle, 50)), p99Ms: round(percentile(idle, 99)) },
        mailings: { count: mailingSeconds.length, recipients: mailingSeconds.length * MAILING_RECIPIENTS, p50Seconds: round(percentile(mailingSeconds, 50)), maxSeconds: round(Math.max(...mailingSeconds)) },
        segments: { count: segmentMs.length, p50Ms: round(percentile(segmentMs, 50)), p99Ms: round(percentile(segmentMs, 99)) },
        jobs: jobTimes,
        errors: errors.length,
        firstErrors: errors.slice(0, 5),
        rssMb: Object.fromEntries(Object.keys(rssStart).map((name) => [name, { start: round(rssStart[name]!, 0), end: round(rssEnd[name]!, 0) }])),
      },
    ];
  } finally {
    await topology.stop();
  }
}

/** Runs `task(n)` every `intervalMs` until `deadline`, without waiting for one to end before the next starts; resolves once all have ended. */
async function every(intervalMs: number, deadline: number, task: (n: number) => Promise<void>, onError: (error: unknown) => void): Promise<void> {
  const running: Promise<void>[] = [];
  const start = Date.now();
  for (let n = 0; Date.now() < deadline; n += 1) {
    running.push(task(n).catch(onError));
    const next = start + (n + 1) * intervalMs;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - Date.now())));
  }
  await Promise.all(running);
}

/** Polls until `probe` gives something; a probe that fails counts as an error of the soak (unlike the topology's `until`). */
async function waitFor<T>(probe: () => Promise<T | false | undefined>, timeoutMs = 300_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`not done within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** A new group with `count` codes (seeded in SQL: the load is what is measured, not the seeding). */
async function filledGroup(topology: Topology, name: string, count: number): Promise<string> {
  const id: string = (await topology.api('POST', '/api/groups', { json: { name } })).body.id;
  await topology.sql`insert into promo_code (group_id, code) select ${id}, ${`${name.replaceAll(' ', '-')}-`} || n from generate_series(1, ${count}) as n`;
  await topology.sql`analyze promo_code`;
  return id;
}

/** Latencies of `count` direct issues one after another. */
async function issueLatencies(topology: Topology, groupId: string, count: number, prefix: string): Promise<number[]> {
  const latencies: number[] = [];
  for (let n = 0; n < count; n += 1) {
    const start = performance.now();
    const answer = await topology.api('POST', `/api/groups/${groupId}/issue`, { json: { customerId: `${prefix}-${n}` }, via: n % 2 });
    if (answer.status !== 200) throw new Error(`issue answered ${answer.status}`);
    latencies.push(performance.now() - start);
  }
  return latencies;
}

/** Starts a job into a new group and waits for it: its seconds, and what it added. */
async function job(topology: Topology, name: string, start: (groupId: string) => Promise<{ status: number; body: any }>) {
  const groupId: string = (await topology.api('POST', '/api/groups', { json: { name } })).body.id;
  const began = performance.now();
  const answer = await start(groupId);
  if (answer.status !== 202) throw new Error(`${name} answered ${answer.status}`);
  const ended = await waitFor(async () => {
    const current = (await topology.api('GET', `/api/jobs/${answer.body.id}`)).body;
    return current.status !== 'running' && current;
  });
  if (ended.status !== 'completed') throw new Error(`${name} ended ${JSON.stringify(ended)}`);
  return { added: ended.added, seconds: round((performance.now() - began) / 1000) };
}

async function rss(topology: Topology): Promise<Record<string, number>> {
  const processes = [...topology.apis, ...topology.workers];
  return Object.fromEntries(await Promise.all(processes.map(async (service) => [service.name, await memoryMb(service.pid()!, 'VmRSS')] as const)));
}

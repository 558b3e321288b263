import { mailingPhases } from './mailing-phases.js';
import { memoryMb, startService } from './processes.js';
import { apiCaller, mailUntilDone, percentile, round, timed, withBenchStack } from './support.js';

// BENCH_SEGMENT_CUSTOMERS=100000 npm run bench -- mailing-segment: a smaller audience
const CUSTOMERS = Number(process.env.BENCH_SEGMENT_CUSTOMERS ?? 1_000_000);
const READS = 100;

/**
 * A mailing to a segment audience of every customer (1,000,000 by default) over the log channel,
 * run as deployed: an API process and a worker process of their own (`npm run api`,
 * `npm run worker`, on a task queue of their own) against the stack's servers. Recipients/s from
 * POST to `completed`; each process's RSS when the mailing starts, its peak (VmHWM) and at the
 * end (no recipient list may be held in memory, so they stay flat); the p95 of reading the
 * mailing once it has them all. Baseline: the same snapshot as one raw INSERT … SELECT.
 */
export async function run() {
  return withBenchStack(async ({ sql, token, databaseUrl, temporalAddress }) => {
    const env = { DATABASE_URL: databaseUrl, TEMPORAL_ADDRESS: temporalAddress, TEMPORAL_TASK_QUEUE: 'bench-mailing-segment', PROMO_API_TOKENS: token };
    const [apiProcess, workerProcess] = await Promise.all([startService('api', env), startService('worker', env)]);
    try {
      const api = apiCaller(apiProcess.apiUrl, token);
      const group = (await api('POST', '/groups', { name: 'Segment bench' })).body;
      await api('POST', '/groups', { name: 'Nobody' });
      await sql`insert into promo_code (group_id, code) select ${group.id}, 'SEG-' || n from generate_series(1, ${CUSTOMERS}) as n`;
      await sql`insert into customer (id, attributes) select 'c-' || n, jsonb_build_object('first_name', 'Name' || n) from generate_series(1, ${CUSTOMERS}) as n`;
      await sql`analyze`;

      const baseline = await timed(() =>
        sql.begin(async (tx) => {
          await tx`create temporary table snapshot (seq bigint, customer_id text) on commit drop`;
          await tx`insert into snapshot select row_number() over (order by id), id from customer`;
        }),
      );

      const rss = async () => ({ api: await memoryMb(apiProcess.child.pid!, 'VmRSS'), worker: await memoryMb(workerProcess.child.pid!, 'VmRSS') });
      const before = await rss();
      // everybody: no customer got a code from "Nobody"
      const audience = { segment: { not: { issuedFromGroup: { group: 'Nobody' } } } };
      const body = { name: 'Everybody', channel: { type: 'log' }, template: { body: 'Hi {{ client.first_name }}: {{ client.promocode("Segment bench") }}' }, audience };
      const { mailing: result, ms } = await mailUntilDone(api, body, 1000);
      if (result.status !== 'completed' || result.sent !== CUSTOMERS) throw new Error(`mailing ended ${result.status} with ${result.sent} of ${CUSTOMERS} sent`);
      const after = await rss();
      const peak = { api: await memoryMb(apiProcess.child.pid!, 'VmHWM'), worker: await memoryMb(workerProcess.child.pid!, 'VmHWM') };

      const reads: number[] = [];
      for (let i = 0; i < READS; i += 1) reads.push((await timed(() => api('GET', `/mailings/${result.id}`))).ms);
      return [
        {
          bench: 'mailing-segment',
          recipients: CUSTOMERS,
          seconds: round(ms / 1000),
          recipientsPerSecond: Math.round(CUSTOMERS / (ms / 1000)),
          workerRssBeforeMb: Math.round(before.worker),
          workerPeakRssMb: Math.round(peak.worker),
          workerRssAfterMb: Math.round(after.worker),
          apiRssBeforeMb: Math.round(before.api),
          apiPeakRssMb: Math.round(peak.api),
          apiRssAfterMb: Math.round(after.api),
          phases: await mailingPhases(temporalAddress, result.workflowId),
          readP95Ms: round(percentile(reads, 95)),
          baselineSnapshotSeconds: round(baseline.ms / 1000, 3),
        },
      ];
    } finally {
      await Promise.all([apiProcess.stop(), workerProcess.stop()]);
    }
  });
}

import { percentile, round, timed, withBenchStack } from './support.js';

// BENCH_SEGMENT_CUSTOMERS=100000 npm run bench -- mailing-segment: a smaller audience
const CUSTOMERS = Number(process.env.BENCH_SEGMENT_CUSTOMERS ?? 1_000_000);
const READS = 100;

/**
 * A mailing to a segment audience of every customer (1,000,000 by default) over the log channel:
 * recipients/s from POST to `completed`, the process's peak RSS while it runs (the API and the
 * worker share it here; no recipient list may be held in memory, so it stays flat), and the p95 of
 * reading the mailing once it has them all. Baseline: the same snapshot as one raw INSERT … SELECT.
 */
export async function run() {
  return withBenchStack(async ({ sql, api }) => {
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

    const rssBeforeMb = process.memoryUsage().rss / 2 ** 20;
    let peakRssMb = rssBeforeMb;
    const sampler = setInterval(() => (peakRssMb = Math.max(peakRssMb, process.memoryUsage().rss / 2 ** 20)), 100);
    // everybody: no customer got a code from "Nobody"
    const audience = { segment: { not: { issuedFromGroup: { group: 'Nobody' } } } };
    const { ms, result } = await timed(async () => {
      const mailing = (await api('POST', '/mailings', { name: 'Everybody', channel: { type: 'log' }, template: { body: 'Hi {{ client.first_name }}: {{ client.promocode("Segment bench") }}' }, audience })).body;
      for (;;) {
        const current = (await api('GET', `/mailings/${mailing.id}`)).body;
        if (!['reserving', 'sending'].includes(current.status)) return current;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }).finally(() => clearInterval(sampler));
    if (result.status !== 'completed' || result.sent !== CUSTOMERS) throw new Error(`mailing ended ${result.status} with ${result.sent} of ${CUSTOMERS} sent`);

    const reads: number[] = [];
    for (let i = 0; i < READS; i += 1) reads.push((await timed(() => api('GET', `/mailings/${result.id}`))).ms);
    return [
      {
        bench: 'mailing-segment',
        recipients: CUSTOMERS,
        seconds: round(ms / 1000),
        recipientsPerSecond: Math.round(CUSTOMERS / (ms / 1000)),
        processRssBeforeMb: Math.round(rssBeforeMb),
        processPeakRssMb: Math.round(peakRssMb),
        readP95Ms: round(percentile(reads, 95)),
        baselineSnapshotSeconds: round(baseline.ms / 1000, 3),
      },
    ];
  });
}

import { percentile, round, timed, withBenchStack } from './support.js';

const GROUPS = 100;
const CODES = 1_000_000;
const SAMPLES = 200;

/** GET /api/groups over HTTP with 100 groups holding 1,000,000 codes; the raw query as baseline. */
export async function run() {
  return withBenchStack(async ({ sql, api }) => {
    const ids: string[] = [];
    for (let i = 0; i < GROUPS; i += 1) ids.push((await api('POST', '/groups', { name: `Bench group ${i}` })).body.id);
    await sql`
      insert into promo_code (group_id, code)
      select (${ids}::bigint[])[1 + n % ${GROUPS}], 'BENCH-' || n from generate_series(1, ${CODES}) as n`;
    await sql`vacuum analyze`;
    // the seeding's writes are flushed before the samples, not during them
    await sql`checkpoint`;

    const list: number[] = [];
    for (let i = 0; i < SAMPLES; i += 1) {
      const { result, ms } = await timed(() => api('GET', '/groups?limit=1000'));
      if (result.body.items.length !== GROUPS) throw new Error(`listed ${result.body.items.length} groups`);
      list.push(ms);
    }
    const baseline: number[] = [];
    for (let i = 0; i < SAMPLES; i += 1) {
      baseline.push((await timed(() => sql`select * from promo_group where deleted_at is null order by id limit 1001`)).ms);
    }
    return [
      {
        bench: 'groups',
        groups: GROUPS,
        codes: CODES,
        listP50Ms: round(percentile(list, 50)),
        listP95Ms: round(percentile(list, 95)),
        baselineP50Ms: round(percentile(baseline, 50)),
        baselineP95Ms: round(percentile(baseline, 95)),
      },
    ];
  });
}

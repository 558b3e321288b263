import type { Sql } from '../src/db/client.js';
import { startService } from './processes.js';
import { apiCaller, type BenchContext, percentile, round, timed, withBenchStack } from './support.js';

const GROUPS = 100;
const CODES = 1_000_000;
const SAMPLES = 200;
/** untimed calls before each timed loop: the figures are a warm service's, not its first calls' (compiled code, caches) */
const WARM_UP = 400;

/**
 * GET /api/groups over HTTP, to an API process of its own, with 100 groups holding 1,000,000
 * codes; the raw query as baseline.
 */
export async function run() {
  return withBenchStack(async ({ sql, token, databaseUrl, temporalAddress }) => {
    // the API as deployed (`npm run api`): its heap holds the list's garbage only, not the worker's or the load generator's
    const apiProcess = await startService('api', { DATABASE_URL: databaseUrl, TEMPORAL_ADDRESS: temporalAddress, PROMO_API_TOKENS: token });
    try {
      return await measured(sql, apiCaller(apiProcess.apiUrl, token));
    } finally {
      await apiProcess.stop();
    }
  });
}

async function measured(sql: Sql, api: BenchContext['api']) {
  const ids: string[] = [];
  for (let i = 0; i < GROUPS; i += 1) ids.push((await api('POST', '/groups', { name: `Bench group ${i}` })).body.id);
  await sql`
    insert into promo_code (group_id, code)
    select (${ids}::bigint[])[1 + n % ${GROUPS}], 'BENCH-' || n from generate_series(1, ${CODES}) as n`;
  await sql`vacuum analyze`;
  // the seeding's writes are flushed before the samples, not during them
  await sql`checkpoint`;

  const list = await sampled(async () => {
    const { body } = await api('GET', '/groups?limit=1000');
    if (body.items.length !== GROUPS) throw new Error(`listed ${body.items.length} groups`);
  });
  const baseline = await sampled(() => sql`select * from promo_group where deleted_at is null order by id limit 1001`);
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
}

/** Milliseconds of SAMPLES calls of `call`, one at a time, after WARM_UP untimed ones. */
async function sampled(call: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < WARM_UP; i += 1) await call();
  const samples: number[] = [];
  for (let i = 0; i < SAMPLES; i += 1) samples.push((await timed(call)).ms);
  return samples;
}

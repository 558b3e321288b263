import { createSql, type Sql } from '../src/db/client.js';
import { startService } from './processes.js';
import { apiCaller, percentile, round, withBenchStack } from './support.js';

const CODES = 100_000;
const CLIENTS = 32;
const ISSUES = 10_000;

/**
 * Direct issue over HTTP (`POST /api/groups/{id}/issue`) to an API process of its own, 32 clients
 * at once, each request with a customer and idempotency key of its own; the baseline, in the same
 * run, is the raw SQL pick-and-issue (one active code marked issued plus its history row, through
 * the same index) from 32 connections.
 * Afterwards the group's counters must equal its rows.
 */
export async function run() {
  return withBenchStack(async ({ sql, token, databaseUrl, temporalAddress }) => {
    // the API as deployed (`npm run api`), a process of its own: the load generator does not share its event loop
    const apiProcess = await startService('api', { DATABASE_URL: databaseUrl, TEMPORAL_ADDRESS: temporalAddress, PROMO_API_TOKENS: token });
    try {
      const api = apiCaller(apiProcess.apiUrl, token);
      const service = await seededGroup(sql, api, 'Issue bench');
      const baseline = await seededGroup(sql, api, 'Issue baseline');
      await sql`analyze`;
      // each phase starts from a clean slate: no checkpoint of the other's writes lands in it
      await sql`checkpoint`;

      const latencies: number[] = [];
      const serviceSeconds = await inParallel(CLIENTS, ISSUES, async (n) => {
        const start = performance.now();
        const answer = await api('POST', `/groups/${service}/issue`, { customerId: `issue-${n}`, idempotencyKey: `bench-${n}` });
        if (answer.status !== 200) throw new Error(`issue ${n}: ${answer.status} ${JSON.stringify(answer.body)}`);
        latencies.push(performance.now() - start);
      });

      await sql`checkpoint`;
      const pool = createSql(databaseUrl, { max: CLIENTS });
      const baselineSeconds = await inParallel(CLIENTS, ISSUES, (n) =>
        pool.begin(async (tx) => {
          const [picked] = await tx<{ id: string }[]>`
            update promo_code set status = 'issued', customer_id = ${`base-${n}`}, issued_at = now()
             where id = (select id from promo_code where group_id = ${baseline} and status = 'active' order by id limit 1 for update skip locked)
            returning id`;
          await tx`insert into customer (id) values (${`base-${n}`}) on conflict do nothing`;
          await tx`insert into code_issuance (customer_id, group_id, code_id, kind) values (${`base-${n}`}, ${baseline}, ${picked!.id}, 'initial')`;
        }),
      );
      await pool.end();

      const group = (await api('GET', `/groups/${service}`)).body;
      const [rows] = await sql<{ issued: number }[]>`select count(*)::int as issued from promo_code where group_id = ${service} and status = 'issued'`;
      if (group.issued !== ISSUES || rows!.issued !== ISSUES || group.active + group.issued !== CODES) {
        throw new Error(`after ${ISSUES} issues the group counts ${JSON.stringify(group)} and its rows ${rows!.issued} issued`);
      }

      return [
        {
          bench: 'issue',
          clients: CLIENTS,
          issues: ISSUES,
          issuesPerSecond: Math.round(ISSUES / serviceSeconds),
          p50Ms: round(percentile(latencies, 50)),
          p99Ms: round(percentile(latencies, 99)),
          baselineIssuesPerSecond: Math.round(ISSUES / baselineSeconds),
          ratio: round(baselineSeconds / serviceSeconds),
        },
      ];
    } finally {
      await apiProcess.stop();
    }
  });
}

async function seededGroup(sql: Sql, api: (method: string, path: string, body?: unknown) => Promise<{ body: any }>, name: string): Promise<string> {
  const id: string = (await api('POST', '/groups', { name })).body.id;
  await sql`insert into promo_code (group_id, code) select ${id}, ${`${name.replaceAll(' ', '-')}-`} || n from generate_series(1, ${CODES}) as n`;
  return id;
}

/** Runs `count` tasks numbered from 0 on `clients` workers; the wall time in seconds. */
async function inParallel(clients: number, count: number, task: (n: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < count) await task(next++);
    }),
  );
  return (performance.now() - start) / 1000;
}

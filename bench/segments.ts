import type { Sql } from '../src/db/client.js';
import { percentile, round, timed, withBenchStack } from './support.js';

const CUSTOMERS = 1_000_000;
const ISSUANCES = 3_000_000;
const GROUPS = 50;
const ROUNDS = 30;

const MARCH = { since: '2025-03-01T00:00:00Z', until: '2025-04-01T00:00:00Z' };

interface Question {
  name: string;
  filter: unknown;
  /** the same question as hand-written SQL, answering the count */
  baseline: (sql: Sql) => Promise<{ n: string }[]>;
}

const group = (i: number) => `Segment group ${i}`;

/**
 * POST /api/segments/query over 1,000,000 customers and 3,000,000 issuances in 50 groups:
 * five typical filters, each timed through HTTP (count plus a page of one), against the
 * same questions as hand-written SQL in the same run — the fastest form found for each, so
 * that the ratio measures what the service adds, not a slow baseline.
 */
export async function run() {
  return withBenchStack(async ({ sql, api }) => {
    const groupIds = await seed(sql);
    const [g1, g2] = [groupIds[0]!, groupIds[1]!];
    const questions: Question[] = [
      {
        name: 'one group',
        filter: { issuedFromGroup: { group: group(1) } },
        baseline: (sql) => sql`select count(distinct customer_id) as n from code_issuance where group_id = ${g1}`,
      },
      {
        name: 'count >= 2',
        filter: { issuedCount: { op: 'gte', value: 2 } },
        baseline: (sql) => sql`select count(*) as n from (select customer_id from code_issuance group by customer_id having count(*) >= ${2}) t`,
      },
      {
        name: 'group and not other group',
        filter: { and: [{ issuedFromGroup: { group: group(1) } }, { not: { issuedFromGroup: { group: group(2) } } }] },
        baseline: (sql) => sql`
          select count(distinct i.customer_id) as n from code_issuance i
           where i.group_id = ${g1}
             and not exists (select 1 from code_issuance j where j.group_id = ${g2} and j.customer_id = i.customer_id)`,
      },
      {
        name: 'count = 0',
        filter: { issuedCount: { op: 'eq', value: 0 } },
        // faster than `not exists` (a hash anti-join of 1,000,000 by 3,000,000 rows) since
        // every customer_id of code_issuance is a customer
        baseline: (sql) => sql`select (select count(*) from customer) - (select count(distinct customer_id) from code_issuance) as n`,
      },
      {
        name: 'count in a window',
        filter: { issuedCount: { op: 'gte', value: 1, ...MARCH } },
        // grouping by hash beats count(distinct …), which sorts the window's rows
        baseline: (sql) => sql`
          select count(*) as n from (
            select customer_id from code_issuance
             where issued_at >= ${MARCH.since}::timestamptz and issued_at < ${MARCH.until}::timestamptz
             group by customer_id) t`,
      },
    ];

    const ask = (question: Question) => api('POST', '/segments/query', { filter: question.filter, limit: 1 });
    // warm-up, and the API's answers checked against the baseline's
    for (const question of questions) {
      const [answer, [expected]] = [await ask(question), await question.baseline(sql)];
      if (answer.status !== 200 || answer.body.count !== Number(expected!.n) || answer.body.customerIds.length !== Math.min(1, answer.body.count)) {
        throw new Error(`${question.name}: the API answered ${answer.status} ${JSON.stringify(answer.body)}, the baseline ${expected!.n}`);
      }
    }

    const apiMs = new Map(questions.map((q) => [q.name, [] as number[]]));
    const baselineMs = new Map(questions.map((q) => [q.name, [] as number[]]));
    // API and baseline side by side, taking turns to go first, so that both meet the same
    // caches and the same background load
    for (let i = 0; i < ROUNDS; i += 1) {
      for (const question of questions) {
        const viaApi = async () => apiMs.get(question.name)!.push((await timed(() => ask(question))).ms);
        const direct = async () => baselineMs.get(question.name)!.push((await timed(() => question.baseline(sql))).ms);
        if (i % 2 === 0) await viaApi().then(direct);
        else await direct().then(viaApi);
      }
    }
    const all = (samples: Map<string, number[]>) => [...samples.values()].flat();
    // per-filter figures for the curious, on stderr: stdout carries the one JSON line
    for (const question of questions) {
      console.error(`segments: ${question.name.padEnd(26)} api p50 ${round(percentile(apiMs.get(question.name)!, 50))} ms, sql p50 ${round(percentile(baselineMs.get(question.name)!, 50))} ms`);
    }
    const p50Ms = percentile(all(apiMs), 50);
    const baselineP50Ms = percentile(all(baselineMs), 50);
    return [
      {
        bench: 'segments',
        customers: CUSTOMERS,
        issuances: ISSUANCES,
        p50Ms: round(p50Ms),
        p95Ms: round(percentile(all(apiMs), 95)),
        baselineP50Ms: round(baselineP50Ms),
        ratio: round(baselineP50Ms / p50Ms),
      },
    ];
  });
}

/**
 * 1,000,000 customers; 3,000,000 codes issued over 2025 to random customers from 50 groups
 * (70 % initial, 30 % repeat), each with its issuance; a few big statements.
 */
async function seed(sql: Sql): Promise<string[]> {
  await sql`insert into customer (id) select 'cust-' || lpad(n::text, 7, '0') from generate_series(1, ${CUSTOMERS}) as n`;
  const groupIds = (await sql<{ id: string }[]>`
    insert into promo_group (name, name_key) select 'Segment group ' || g, 'segment group ' || g from generate_series(1, ${GROUPS}) as g returning id`)
    .map((row) => row.id)
    .sort((a, b) => Number(a) - Number(b));
  // hashint4 spreads n evenly and repeatably over customers, groups and the year
  await sql`
    insert into promo_code (group_id, code, status, customer_id, issued_at)
    select (${groupIds}::bigint[])[1 + (hashint4(n + 7919) & 2147483647) % ${GROUPS}],
           'SEG-' || n,
           'issued',
           'cust-' || lpad((1 + (hashint4(n) & 2147483647) % ${CUSTOMERS})::text, 7, '0'),
           timestamptz '2025-01-01 00:00:00+00' + ((hashint4(n + 104729) & 2147483647) % 31536000) * interval '1 second'
      from generate_series(1, ${ISSUANCES}) as n`;
  await sql`
    insert into code_issuance (customer_id, group_id, code_id, kind, issued_at)
    select customer_id, group_id, id, case when id % 10 < 7 then 'initial'::issuance_kind else 'repeat' end, issued_at
      from promo_code where code like 'SEG-%'`;
  await sql`vacuum analyze`;
  return groupIds;
}

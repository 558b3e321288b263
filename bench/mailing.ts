import { mailingPhases } from './mailing-phases.js';
import { type BenchContext, mailUntilDone, percentile, round, timed, withBenchStack } from './support.js';

const TEMPLATE = {
  subject: 'Hello {{ client.first_name }}',
  body: 'Dear {{ client.first_name }} from {{ client.city }}: your code {{ client.promocode("Bench") }}; last time {{ client.last_promocode("Earlier") }}.',
};

/**
 * A mailing to N recipients over the log channel, from POST /api/mailings to `completed`;
 * baseline: the same reservation and issuance as raw SQL (skip-locked pick, block, issue).
 */
export async function run() {
  const batched = await withBenchStack((context) => measure(context, 100_000, 'mailing'));
  const perRecipient = await withBenchStack((context) => measure(context, 2_000, 'mailing-per-recipient'), { PROMO_MAILING_BATCH_SIZE: '1' });
  return [batched, perRecipient];
}

async function measure({ sql, api, temporalAddress }: BenchContext, recipients: number, bench: string) {
  const bench_ = (await api('POST', '/groups', { name: 'Bench' })).body;
  const earlier = (await api('POST', '/groups', { name: 'Earlier' })).body;
  const baselineGroup = (await api('POST', '/groups', { name: 'Baseline' })).body;
  for (const [group, prefix] of [[bench_, 'B'], [earlier, 'E'], [baselineGroup, 'S']] as const) {
    await sql`insert into promo_code (group_id, code) select ${group.id}, ${prefix} || '-' || n from generate_series(1, ${recipients}) as n`;
  }
  // half the customers got a code from "Earlier" before, so last_promocode has work to do
  await sql`insert into customer (id) select 'c-' || n from generate_series(1, ${recipients}) as n`;
  await sql`
    with given as (
      update promo_code set status = 'issued', customer_id = 'c-' || split_part(code, '-', 2), issued_at = now()
       where group_id = ${earlier.id} and split_part(code, '-', 2)::int % 2 = 0 returning id, customer_id)
    insert into code_issuance (customer_id, group_id, code_id, kind) select customer_id, ${earlier.id}, id, 'initial' from given`;
  await sql`analyze`;

  const people = Array.from({ length: recipients }, (_, i) => ({ customerId: `c-${i + 1}`, attributes: { first_name: `Name${i}`, city: 'Oslo' } }));
  const { mailing: result, ms, postMs } = await mailUntilDone(api, { name: bench, channel: { type: 'log' }, template: TEMPLATE, recipients: people }, 500);
  if (result.status !== 'completed' || result.sent !== recipients) throw new Error(`mailing ended ${result.status} with ${result.sent} sent`);

  const baseline = await timed(() =>
    sql.begin(async (tx) => {
      await tx`
        update promo_code set status = 'blocked' where id in (
          select id from promo_code where group_id = ${baselineGroup.id} and status = 'active' order by id limit ${recipients} for update skip locked)`;
      await tx`update promo_code set status = 'issued', issued_at = now() where group_id = ${baselineGroup.id} and status = 'blocked'`;
    }),
  );
  const seconds = ms / 1000;
  const reads: number[] = [];
  for (let i = 0; i < READS; i += 1) reads.push((await timed(() => api('GET', `/mailings/${result.id}`))).ms);
  return {
    bench,
    recipients,
    seconds: round(seconds),
    recipientsPerSecond: Math.round(recipients / seconds),
    baselineSqlSeconds: round(baseline.ms / 1000, 3),
    ratio: round(baseline.ms / ms, 3),
    phases: { post: round(postMs / 1000), ...(await mailingPhases(temporalAddress, result.workflowId)) },
    readP95Ms: round(percentile(reads, 95)),
  };
}

const READS = 200;

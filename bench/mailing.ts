import { Client, Connection } from '@temporalio/client';
import { type BenchContext, percentile, round, timed, withBenchStack } from './support.js';

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
  let postMs = 0;
  const { ms, result } = await timed(async () => {
    const posted = await timed(() => api('POST', '/mailings', { name: bench, channel: { type: 'log' }, template: TEMPLATE, recipients: people }));
    postMs = posted.ms;
    const mailing = posted.result.body;
    for (;;) {
      const current = (await api('GET', `/mailings/${mailing.id}`)).body;
      if (!['reserving', 'sending'].includes(current.status)) return current;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  });
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

/**
 * Seconds per phase of the mailing's workflow, from its history: reservation (the reserve
 * activity), sending (first batch scheduled to last batch completed), finishing. Runs that
 * continued as new are followed.
 */
async function mailingPhases(temporalAddress: string, workflowId: string): Promise<Record<string, number>> {
  const connection = await Connection.connect({ address: temporalAddress });
  try {
    const client = new Client({ connection });
    const spans = new Map<string, { from: number; to: number }>();
    const scheduled = new Map<string, { type: string; at: number }>();
    // from the first run: a mailing that continued as new spreads over several
    let runId: string | undefined = (await client.workflow.getHandle(workflowId).describe()).raw.workflowExecutionInfo?.firstRunId ?? undefined;
    for (;;) {
      const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
      let next: string | undefined;
      for (const event of history.events ?? []) {
        const at = Number(event.eventTime?.seconds ?? 0) * 1000 + (event.eventTime?.nanos ?? 0) / 1e6;
        const type = event.activityTaskScheduledEventAttributes?.activityType?.name;
        if (type) scheduled.set(String(event.eventId), { type, at });
        const completed = event.activityTaskCompletedEventAttributes;
        if (completed) {
          const start = scheduled.get(String(completed.scheduledEventId))!;
          const span = spans.get(start.type) ?? { from: start.at, to: at };
          spans.set(start.type, { from: Math.min(span.from, start.at), to: Math.max(span.to, at) });
        }
        next = event.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? next;
      }
      if (!next) break;
      runId = next;
    }
    return Object.fromEntries([...spans].map(([type, span]) => [PHASES[type] ?? type, round((span.to - span.from) / 1000)]));
  } finally {
    await connection.close();
  }
}

const PHASES: Record<string, string> = { reserveMailingCodes: 'reservation', sendMailingBatch: 'sending', finishMailing: 'finishing', mailingSummary: 'summary' };

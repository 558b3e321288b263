import { Client, Connection } from '@temporalio/client';
import { round } from './support.js';

/**
 * Seconds per phase of the mailing's workflow, from its history: reservation (the reserve
 * activity), sending (first batch scheduled to last batch completed), finishing. Runs that
 * continued as new are followed.
 */
export async function mailingPhases(temporalAddress: string, workflowId: string): Promise<Record<string, number>> {
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

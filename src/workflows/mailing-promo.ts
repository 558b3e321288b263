import {
  ActivityCancellationType,
  CancellationScope,
  ContinueAsNew,
  continueAsNew,
  defineQuery,
  isCancellation,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { BatchTally, MailingPlan } from '../activities/mailings.js';

const { reserveMailingCodes, finishMailing } = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

/**
 * Send batches. A batch heartbeats through its whole run, so only a dead or frozen worker misses
 * the heartbeat timeout, and only then does a second attempt start; a live one may take as long
 * as a slow receiver needs (the start-to-close timeout only bounds a batch gone astray). A retry
 * takes over what the failed attempt was sending; a cancel waits for the batch to record what it
 * delivered before any code is released.
 */
const sendProxy = (heartbeatTimeoutSeconds = 20) =>
  proxyActivities<Activities>({
    startToCloseTimeout: '12 hours',
    heartbeatTimeout: `${heartbeatTimeoutSeconds} seconds`,
    retry: { initialInterval: '1 second', maximumInterval: '1 minute', maximumAttempts: 20 },
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  }).sendMailingBatch;

export interface MailingProgress extends BatchTally {
  status: 'reserving' | 'sending' | 'completed' | 'failed' | 'cancelled';
  nextSeq: number;
  lastSeq: number;
}

export const mailingProgressQuery = defineQuery<MailingProgress>('progress');

export interface MailingInput {
  mailingId: string;
  /** set when a run continues as new */
  resume?: { plan: MailingPlan; nextSeq: number; sent: number; failed: number; unknown?: number };
}

/**
 * Reserves every code a mailing needs (all or nothing), sends to its recipients in batches
 * with a bounded number in flight — each batch issues the codes of messages that were or may
 * have been delivered and releases the rest — then ends with nothing blocked. Failure or
 * cancellation releases the codes of recipients never attempted; those whose message may be
 * out keep theirs (`unknown`).
 */
export async function MailingPromoWorkflow({ mailingId, resume }: MailingInput): Promise<MailingProgress> {
  const progress: MailingProgress = {
    status: resume ? 'sending' : 'reserving',
    nextSeq: resume?.nextSeq ?? 1,
    lastSeq: resume?.plan.lastSeq ?? 0,
    sent: resume?.sent ?? 0,
    failed: resume?.failed ?? 0,
    unknown: resume?.unknown ?? 0,
  };
  setHandler(mailingProgressQuery, () => progress);
  const inFlight = new Set<Promise<void>>();
  try {
    const plan = resume?.plan ?? (await reserveMailingCodes(mailingId));
    if (!plan.ok) return { ...progress, status: 'failed' };
    progress.status = 'sending';
    progress.lastSeq = plan.lastSeq;
    const sendMailingBatch = sendProxy(plan.heartbeatTimeoutSeconds);

    let draining = false;
    while (progress.nextSeq <= plan.lastSeq || inFlight.size > 0) {
      while (!draining && inFlight.size < plan.parallelism && progress.nextSeq <= plan.lastSeq) {
        const from = progress.nextSeq;
        progress.nextSeq += plan.batchSize;
        const batch: Promise<void> = sendMailingBatch(mailingId, from, from + plan.batchSize - 1).then((tally) => {
          progress.sent += tally.sent;
          progress.failed += tally.failed;
          progress.unknown += tally.unknown ?? 0;
          inFlight.delete(batch);
        });
        inFlight.add(batch);
      }
      if (inFlight.size === 0) break;
      await Promise.race(inFlight);
      draining ||= workflowInfo().continueAsNewSuggested;
    }
    if (progress.nextSeq <= plan.lastSeq) {
      const { nextSeq, sent, failed, unknown } = progress;
      return await continueAsNew<typeof MailingPromoWorkflow>({ mailingId, resume: { plan, nextSeq, sent, failed, unknown } });
    }
    await finishMailing(mailingId, 'completed');
    return { ...progress, status: 'completed' };
  } catch (error) {
    if (error instanceof ContinueAsNew) throw error;
    // a batch cancelled while its attempt was dead ends in a timeout, but the mailing was still cancelled
    const cancelled = isCancellation(error) || CancellationScope.current().consideredCancelled;
    progress.status = cancelled ? 'cancelled' : 'failed';
    // batches still running record what they delivered before their codes are released
    await CancellationScope.nonCancellable(() => Promise.allSettled(inFlight));
    await CancellationScope.nonCancellable(() =>
      cancelled
        ? finishMailing(mailingId, 'cancelled')
        : finishMailing(mailingId, 'failed', { code: 'delivery_error', detail: failureMessage(error) }),
    );
    throw error;
  }
}

function failureMessage(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  return cause instanceof Error ? cause.message : String(cause);
}

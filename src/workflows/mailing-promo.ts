import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  ContinueAsNew,
  continueAsNew,
  defineQuery,
  isCancellation,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { BatchTally, MailingPlan } from '../activities/mailings.js';
import type { MailingRequest } from '../api/schemas/mailings.js';
import type { Mailing } from '../db/mailings.js';
import { PromoGroup, PromoMailingId } from '../temporal/search-attributes.js';

// They heartbeat while they run: one whose worker dies is retried after 20 s, not after its 5 minutes
const { recordMailing, reserveMailingCodes, finishMailing, mailingSummary } = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '20 seconds',
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
  /**
   * Set when a campaign system starts the workflow itself (API.md, "Temporal contract"): the
   * mailing to record first. Without it the mailing exists already (the API recorded it).
   */
  request?: MailingRequest;
  /** set when a run continues as new */
  resume?: { plan: MailingPlan; nextSeq: number; sent: number; failed: number; unknown?: number };
}

/** What the workflow returns: the mailing's summary, as GET /api/mailings/{id} answers it. */
export type MailingResult = Mailing;

/** Runs from before this patch return their progress instead of the summary (reading it is a new activity). */
const SUMMARY_RESULT = 'mailing-summary-result';

/**
 * Records the mailing when started with a request; reserves every code it needs (all or
 * nothing), sends to its recipients in batches with a bounded number in flight — each batch
 * issues the codes of messages that were or may have been delivered and releases the rest —
 * then ends with nothing blocked, and returns its summary. Failure or cancellation releases the
 * codes of recipients never attempted; those whose message may be out keep theirs (`unknown`).
 */
export async function MailingPromoWorkflow({ mailingId, request, resume }: MailingInput): Promise<MailingResult> {
  const progress: MailingProgress = {
    status: resume ? 'sending' : 'reserving',
    nextSeq: resume?.nextSeq ?? 1,
    lastSeq: resume?.plan.lastSeq ?? 0,
    sent: resume?.sent ?? 0,
    failed: resume?.failed ?? 0,
    unknown: resume?.unknown ?? 0,
  };
  setHandler(mailingProgressQuery, () => progress);
  // histories from before direct starts have no request: this branch cannot change their replay
  if (request) await record(mailingId, request);
  const inFlight = new Set<Promise<void>>();
  try {
    const plan = resume?.plan ?? (await reserveMailingCodes(mailingId));
    if (!plan.ok) return await result(mailingId, { ...progress, status: 'failed' });
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
    return await result(mailingId, { ...progress, status: 'completed' });
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

/**
 * Records the requested mailing and tags the workflow as the API tags the ones it starts. Not
 * cancellable: a cancel that comes meanwhile finds the mailing recorded, and ends it. A bad
 * request fails the workflow with the activity's own non-retryable failure, which names the field.
 */
async function record(mailingId: string, request: MailingRequest): Promise<void> {
  try {
    const groups = await CancellationScope.nonCancellable(() => recordMailing(mailingId, request));
    upsertSearchAttributes([
      { key: PromoMailingId, value: mailingId },
      { key: PromoGroup, value: groups },
    ]);
  } catch (error) {
    if (error instanceof ActivityFailure && error.cause instanceof ApplicationFailure && error.cause.nonRetryable) throw error.cause;
    throw error;
  }
}

async function result(mailingId: string, progress: MailingProgress): Promise<MailingResult> {
  if (patched(SUMMARY_RESULT)) return mailingSummary(mailingId);
  // only a run that began before the patch gets here, and it keeps the result it was started with
  return progress as unknown as MailingResult;
}

function failureMessage(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  return cause instanceof Error ? cause.message : String(cause);
}

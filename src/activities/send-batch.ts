import { ApplicationFailure, type Context } from '@temporalio/activity';
import type { DeliveryResult } from '../channels/channel.js';
import { channelSettings, openChannel } from '../channels/index.js';
import type { ChannelConfig } from '../db/mailings.js';
import { claimRecipients, countUnsettled, loadUnsettledRecipients, type Outcome, recordOutcomes, type Tally } from '../db/mailing-delivery.js';
import type { ActivityDeps } from './deps.js';
import { type Rendered, renderRecipients } from './render-recipients.js';

/**
 * Messages claimed (written ahead) at a time: about as many as the channel has in flight, so
 * an attempt that dies leaves few recipients whose outcome must be taken as unknown.
 */
const CLAIM_SLICE: Record<ChannelConfig['type'], number> = { log: 10_000, webhook: 64, smtp: 16 };

/**
 * Sends the unsettled recipients of seq range [fromSeq, toSeq]: render them all, then slice by
 * slice claim them (committed before anything leaves), deliver, and record the outcomes.
 * Stopped by the mailing's cancellation it returns what it settled, and the rest stays pending;
 * stopped for any other reason (worker shutdown, a timeout) it fails, so that the batch is
 * retried, and the retry takes over what this attempt was sending.
 */
export async function sendBatch(deps: ActivityDeps, context: Context, mailingId: string, fromSeq: number, toSeq: number): Promise<Tally> {
  const tally: Tally = { sent: 0, failed: 0, unknown: 0 };
  const batch = await loadUnsettledRecipients(deps.sql, mailingId, fromSeq, toSeq);
  if (batch.recipients.length === 0) return tally;
  const { mailing } = batch;
  const rendered = await renderRecipients(deps.renderPool, batch);
  const channel = openChannel(mailing.channel, channelSettings(deps.config));
  const { attempt } = context.info;
  const signal = context.cancellationSignal;
  const cancelled = () => context.cancellationDetails?.cancelRequested === true;
  const sliceSize = CLAIM_SLICE[mailing.channel.type];
  for (let start = 0; start < rendered.length && !signal.aborted; start += sliceSize) {
    const slice = rendered.slice(start, start + sliceSize);
    const claimed = await claimRecipients(deps.sql, mailing, slice.map((r) => r.recipient.seq), attempt);
    const mine = slice.filter((r) => claimed.has(r.recipient.seq));
    if (mine.length === 0) continue;
    const sendable = mine.filter((r) => r.message);
    const results = new Map((await channel.deliver(sendable.map((r) => r.message!), signal)).map((result, i) => [sendable[i]!, result]));
    const outcomes = mine.flatMap((r) => outcomeOf(r, results.get(r), claimed.get(r.recipient.seq)!, cancelled()));
    add(tally, await recordOutcomes(deps.sql, mailing, attempt, outcomes));
  }
  if (signal.aborted) {
    if (cancelled()) return tally;
    throw ApplicationFailure.retryable(`The batch stopped before it finished (${stopReason(context)}); a retry takes over what it was sending.`, 'BatchInterrupted');
  }
  const left = await countUnsettled(deps.sql, mailing, fromSeq, toSeq);
  if (left > 0) throw ApplicationFailure.retryable(`${left} recipients of seq ${fromSeq}–${toSeq} are still unsettled; a retry takes them over.`, 'BatchUnsettled');
  return tally;
}

/**
 * The outcome to record for a claimed recipient, or none (it stays `sending`, for the next
 * attempt to take over). A recipient `takenOver` from an earlier attempt may hold the message
 * already, so nothing that happens to it now proves it was not delivered.
 */
function outcomeOf(rendered: Rendered, result: DeliveryResult | undefined, takenOver: boolean, cancelled: boolean): Outcome[] {
  const { recipient, used, repeated } = rendered;
  const base = { seq: recipient.seq, customerId: recipient.customerId, used, repeated };
  // the earlier attempt's message may have carried any of the codes reserved for the recipient
  const unknown = (error: string): Outcome[] => [{ ...base, status: 'unknown', error, ...(takenOver && { used: recipient.reserved.map((c) => c.codeId) }) }];
  const failed = (error: string): Outcome[] =>
    takenOver ? unknown(`${error}; an earlier attempt may have delivered it`) : [{ ...base, status: 'failed', error }];
  if (!result) return failed(rendered.error!);
  switch (result.status) {
    case 'delivered':
      return [{ ...base, status: 'sent' }];
    case 'failed':
      return failed(result.error);
    case 'unknown':
      return unknown(result.error);
    case 'interrupted':
      return cancelled ? unknown(result.error) : [];
    case 'skipped':
      return takenOver ? [] : [{ ...base, status: 'pending' }];
  }
}

function add(tally: Tally, more: Tally): void {
  tally.sent += more.sent;
  tally.failed += more.failed;
  tally.unknown += more.unknown;
}

function stopReason(context: Context): string {
  const details = context.cancellationDetails;
  if (details?.workerShutdown) return 'the worker is shutting down';
  if (details?.timedOut) return 'the attempt timed out';
  if (details?.notFound) return "the mailing's workflow is gone";
  return 'the attempt was stopped';
}

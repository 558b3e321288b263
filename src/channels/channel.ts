export interface OutgoingMessage {
  mailingId: string;
  customerId: string;
  email?: string | undefined;
  phone?: string | undefined;
  subject?: string | undefined;
  body: string;
  /** `mailingId:customerId`: a receiver that sees it twice has seen one message */
  idempotencyKey: string;
}

/**
 * What became of one message:
 * - `delivered`: the receiver accepted it;
 * - `failed`: it definitely did not reach the receiver (a 4xx, a refused connection before
 *   anything was sent, no address): its code may go back to active;
 * - `unknown`: it may have reached the receiver (a timeout, a connection lost after sending,
 *   a 5xx after the request was written): its code stays with the customer;
 * - `interrupted`: attempted with an outcome still unknown, then stopped by the signal before
 *   the channel's own retries could settle it;
 * - `skipped`: never attempted, because the signal was aborted before its turn.
 */
export type DeliveryResult =
  | { status: 'delivered' }
  | { status: 'failed'; error: string }
  | { status: 'unknown'; error: string }
  | { status: 'interrupted'; error: string }
  | { status: 'skipped' };

/**
 * Delivers messages; one result per message, in order. A failed message is a result, not a
 * throw. Once `signal` is aborted no new message or retry is started, but an attempt already
 * under way is never cut short (its outcome would become unknown).
 */
export interface Channel {
  deliver(messages: readonly OutgoingMessage[], signal: AbortSignal): Promise<DeliveryResult[]>;
}

/** Runs `work` over items with at most `limit` in flight, keeping results in order. */
export async function mapLimited<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

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

/** `skipped`: not attempted because the mailing was cancelled; the recipient stays pending. */
export type DeliveryResult = { delivered: true } | { delivered: false; error: string } | { skipped: true };

/** Delivers messages; one result per message, in order. A failed message is a result, not a throw. */
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

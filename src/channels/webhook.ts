import { setTimeout as sleep } from 'node:timers/promises';
import { type Channel, type DeliveryResult, mapLimited, type OutgoingMessage } from './channel.js';

export interface WebhookOptions {
  timeoutMs: number;
  attempts: number;
  backoffMs: number;
  concurrency: number;
}

export const WEBHOOK_DEFAULTS: WebhookOptions = { timeoutMs: 10_000, attempts: 4, backoffMs: 500, concurrency: 16 };

/**
 * POSTs each message as JSON. 2xx is delivered; 4xx fails at once; 5xx, a timeout or no answer
 * is retried with exponential backoff, then fails. The idempotency key is also a header.
 */
export function webhookChannel(url: string, options: WebhookOptions = WEBHOOK_DEFAULTS): Channel {
  return {
    deliver: (messages, signal) => mapLimited(messages, options.concurrency, (message) => post(url, message, options, signal)),
  };
}

async function post(url: string, message: OutgoingMessage, options: WebhookOptions, signal: AbortSignal): Promise<DeliveryResult> {
  let problem = '';
  for (let attempt = 1; attempt <= options.attempts; attempt += 1) {
    if (signal.aborted) return { skipped: true };
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': message.idempotencyKey },
        body: JSON.stringify(message),
        // a cancellation stops new attempts but never cuts one short: its outcome would be unknown
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      await response.arrayBuffer();
      if (response.ok) return { delivered: true };
      problem = `the webhook answered ${response.status}`;
      if (response.status < 500) return { delivered: false, error: problem };
    } catch (error) {
      problem = `the webhook did not answer: ${(error as Error).message}`;
    }
    if (attempt < options.attempts) await sleep(options.backoffMs * 2 ** (attempt - 1));
  }
  return { delivered: false, error: `${problem} (after ${options.attempts} attempts)` };
}

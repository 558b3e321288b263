import { isIP, type LookupFunction } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, fetch, type Response } from 'undici';
import { type AddressPolicy, addressPolicy, bareHost, portOf, refusalMessage } from './address-policy.js';
import { type Channel, type DeliveryResult, mapLimited } from './channel.js';

export interface WebhookOptions {
  /** how long one try waits for the answer */
  timeoutMs: number;
  /** tries per message, the first included */
  attempts: number;
  /** wait before the second try; doubled before each later one */
  backoffMs: number;
  /** messages in flight at once */
  concurrency: number;
  /** which addresses may be reached; without it, public addresses only */
  policy?: AddressPolicy | undefined;
}

export const WEBHOOK_DEFAULTS: WebhookOptions = { timeoutMs: 10_000, attempts: 4, backoffMs: 500, concurrency: 16 };

/** The most of a response body that is read (and thrown away) to free the connection. */
const MAX_BODY_BYTES = 64 * 1024;

/** Connection errors (`error.cause.code` of fetch) raised before the request could have been written. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

/** The code of the error the connection's lookup raises for an address the policy refuses. */
const REFUSED_ADDRESS = 'EPROMO_ADDRESS_REFUSED';

/**
 * The idempotency key as a header value: every character outside visible ASCII (a space, a
 * control character, a non-ASCII letter), and `%` itself, percent-encoded as UTF-8, so that
 * `decodeURIComponent(header)` always gives the key of the body; a key of visible ASCII without
 * `%` goes as it is.
 */
export function idempotencyHeader(key: string): string {
  return key.replace(/[^\x21-\x24\x26-\x7e]/gu, (char) => {
    try {
      return encodeURIComponent(char);
    } catch {
      return '%EF%BF%BD'; // a lone surrogate: U+FFFD, as its UTF-8 encoding would give
    }
  });
}

/**
 * What one try came to: `accepted` (2xx); `refused` (4xx: definitely not accepted); `not-sent`
 * (failed before the request could have been written); `uncertain` (a timeout, a connection lost
 * after sending, a 5xx or any other answer: the receiver may have accepted it).
 */
type Try = { outcome: 'accepted' } | { outcome: 'refused' | 'not-sent' | 'uncertain'; problem: string };

/**
 * POSTs each message as JSON, the idempotency key also as a header. 2xx is delivered; 4xx fails
 * at once; anything else is retried with exponential backoff. A message any try of which may have
 * been accepted is never `failed`: it ends `unknown` (or `interrupted` when the signal stops its
 * retries). A try under way is never cut short by the signal, only by its own timeout.
 */
export function webhookChannel(url: string, options: WebhookOptions = WEBHOOK_DEFAULTS): Channel {
  const send = webhookPoster(url, options);
  return {
    deliver: (messages, signal) => mapLimited(messages, options.concurrency, (message) => send(message, message.idempotencyKey, signal)),
  };
}

/**
 * POSTs one JSON payload at a time to the URL by the rules of the webhook channel (its address
 * policy, timeout, retries and outcomes), its idempotency key as a header.
 */
export function webhookPoster(url: string, options: WebhookOptions = WEBHOOK_DEFAULTS) {
  // one connection pool per poster, so that its connections are reused from one batch to the next
  let target: ReturnType<typeof connectionTo> | undefined;
  return (payload: object, idempotencyKey: string, signal: AbortSignal): Promise<DeliveryResult> => {
    target ??= connectionTo(url, options.policy ?? addressPolicy());
    return post(url, target, { payload, idempotencyKey }, options, signal);
  };
}

/** A JSON body and its idempotency key. */
interface Posting {
  payload: object;
  idempotencyKey: string;
}

/**
 * How the URL is reached: its host is resolved for each new connection, every address checked
 * against the policy, and the connection made to a checked address only (so a name that
 * resolves to another address at send time than when the mailing was accepted is caught).
 * An address literal is checked once, before any connection.
 */
function connectionTo(url: string, policy: AddressPolicy): { dispatcher?: Agent; refused?: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { refused: 'the webhook URL is not valid' };
  }
  const host = parsed.hostname;
  const port = portOf(parsed);
  const literal = bareHost(host);
  const lookup: LookupFunction = (hostname, options, callback) => {
    policy.resolve(hostname, port).then(
      (addresses) => {
        const allowed = addresses.filter((address) => address.allowed && (!options.family || options.family === address.family));
        if (allowed.length === 0) {
          const error = Object.assign(new Error(refusalMessage(host, addresses.map((address) => address.address))), { code: REFUSED_ADDRESS });
          callback(error as NodeJS.ErrnoException, '', 0);
        } else if (options.all) {
          callback(null, allowed.map(({ address, family }) => ({ address, family })));
        } else {
          callback(null, allowed[0]!.address, allowed[0]!.family);
        }
      },
      (error: NodeJS.ErrnoException) => callback(error, '', 0),
    );
  };
  const dispatcher = new Agent({ connect: { lookup } });
  if (isIP(literal) !== 0 && !policy.allows(literal, host, port)) return { dispatcher, refused: refusalMessage(host, [literal]) };
  return { dispatcher };
}

async function post(url: string, target: { dispatcher?: Agent; refused?: string }, posting: Posting, options: WebhookOptions, signal: AbortSignal): Promise<DeliveryResult> {
  if (signal.aborted) return { status: 'skipped' };
  // nothing is sent to an address the policy refuses: a definite failure
  if (target.refused) return { status: 'failed', error: target.refused };
  let uncertain: string | undefined; // the problem of the latest try that may have been accepted
  for (let attempt = 1; ; attempt += 1) {
    const result = await tryOnce(url, target.dispatcher, posting, options.timeoutMs);
    if (result.outcome === 'accepted') return { status: 'delivered' };
    if (result.outcome === 'uncertain') uncertain = result.problem;
    if (result.outcome === 'refused' || attempt === options.attempts) return settle(result, uncertain, attempt);
    const aborted = await sleep(options.backoffMs * 2 ** (attempt - 1), undefined, { signal }).then(
      () => false,
      () => true,
    );
    if (aborted) return uncertain ? { status: 'interrupted', error: `${uncertain}; stopped before a retry` } : { status: 'skipped' };
  }
}

/** The result of a message whose last try was not accepted. */
function settle(last: Exclude<Try, { outcome: 'accepted' }>, uncertain: string | undefined, attempts: number): DeliveryResult {
  const tries = attempts > 1 ? ` (after ${attempts} attempts)` : '';
  if (!uncertain) return { status: 'failed', error: `${last.problem}${tries}` };
  const problem = last.outcome === 'uncertain' ? last.problem : `${last.problem}, but an earlier attempt may have been accepted: ${uncertain}`;
  return { status: 'unknown', error: `${problem}${tries}` };
}

async function tryOnce(url: string, dispatcher: Agent | undefined, posting: Posting, timeoutMs: number): Promise<Try> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      ...(dispatcher && { dispatcher }),
      headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyHeader(posting.idempotencyKey) },
      body: JSON.stringify(posting.payload),
      // a followed 301/302/303 would turn the POST into a GET whose 2xx says nothing about the message
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    return classifyFetchError(error, timeoutMs);
  }
  // the status decides; the body only needs reading so that the connection can be reused
  await drain(response.body).catch(() => {});
  const { status } = response;
  if (status >= 200 && status < 300) return { outcome: 'accepted' };
  const problem = `the webhook answered ${status}`;
  return { outcome: status >= 400 && status < 500 ? 'refused' : 'uncertain', problem };
}

function classifyFetchError(error: unknown, timeoutMs: number): Try {
  if (error instanceof Error && error.name === 'TimeoutError') {
    return { outcome: 'uncertain', problem: `the webhook did not answer within ${timeoutMs} ms` };
  }
  const cause = (error as { cause?: { code?: unknown; syscall?: unknown; message?: unknown } }).cause;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  const detail = typeof cause?.message === 'string' ? cause.message : (error as Error).message;
  // the lookup refused every address: no connection was made, and none would be on a retry
  if (code === REFUSED_ADDRESS) return { outcome: 'refused', problem: detail };
  // a reset while connecting (syscall `connect`) comes before the request; one while reading may come after it
  const notSent = (code !== undefined && NOT_SENT_CODES.has(code)) || (code === 'ECONNRESET' && cause?.syscall === 'connect');
  if (notSent) return { outcome: 'not-sent', problem: `the webhook could not be reached: ${detail}` };
  return { outcome: 'uncertain', problem: `the webhook did not answer: ${detail}` };
}

/** Reads and discards at most MAX_BODY_BYTES of a body, then cancels the rest. */
async function drain(body: ReadableStream<Uint8Array> | null): Promise<void> {
  if (!body) return;
  const reader = body.getReader();
  let read = 0;
  while (read < MAX_BODY_BYTES) {
    const { done, value } = await reader.read();
    if (done) return;
    read += value.byteLength;
  }
  await reader.cancel();
}

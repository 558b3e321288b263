import { setTimeout as sleep } from 'node:timers/promises';
import { portOf, refusalMessage } from '../channels/address-policy.js';
import type { ChannelConfig } from '../db/mailings.js';
import { ValidationError } from '../domain/errors.js';
import type { AppDeps } from './router.js';

/** How long the check of a webhook's host waits for the resolver. */
const LOOKUP_TIMEOUT_MS = 5000;

const refuse = (path: string, message: string) => new ValidationError(`The request is invalid: ${path}: ${message}`, [{ path, message }]);

/**
 * Refuses (400) a channel that cannot deliver: `smtp` without SMTP_URL, a webhook whose host is an
 * address the policy refuses or resolves only to such addresses. A host that does not resolve now
 * is accepted: each send resolves and checks it again (and fails the message if it is refused).
 */
export async function checkChannel(deps: Pick<AppDeps, 'smtpConfigured' | 'webhookPolicy'>, channel: ChannelConfig): Promise<void> {
  if (channel.type === 'smtp' && !deps.smtpConfigured) throw refuse('channel.type', 'no SMTP server is configured (SMTP_URL)');
  if (channel.type !== 'webhook') return;
  const url = new URL(channel.url);
  const stop = new AbortController();
  const addresses = await Promise.race([
    deps.webhookPolicy.resolve(url.hostname, portOf(url)).catch(() => undefined),
    sleep(LOOKUP_TIMEOUT_MS, undefined, { signal: stop.signal }).catch(() => undefined),
  ]).finally(() => stop.abort());
  if (addresses && addresses.length > 0 && addresses.every((address) => !address.allowed)) {
    throw refuse('channel.url', refusalMessage(url.hostname, addresses.map((address) => address.address)));
  }
}

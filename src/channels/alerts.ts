import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { addressPolicy, parseAllowList } from './address-policy.js';
import { channelSettings } from './index.js';
import { webhookPoster } from './webhook.js';

/** What housekeeping tells operators (API.md "Expiry and stock"). */
export type Alert =
  | { type: 'low_stock'; groupId: string; groupName: string; active: number; threshold: number }
  | { type: 'refill_exhausted'; groupId: string; groupName: string; active: number; below: number; capacity: number };

/**
 * Sends an alert: always to the log (warn), and to PROMO_ALERT_WEBHOOK_URL when set, by the
 * webhook channel's rules (timeout, retries, idempotency key), its own host allowed since the
 * operator named it. True when it went out: logged only, or accepted by the receiver; false
 * when the receiver did not take it (the caller tries again on its next run, same key).
 */
export function alertSender(config: Config, logger: Logger): (alert: Alert, idempotencyKey: string) => Promise<boolean> {
  const url = config.PROMO_ALERT_WEBHOOK_URL;
  const allowed = url === undefined ? '' : [config.PROMO_WEBHOOK_ALLOW, new URL(url).host].filter(Boolean).join(',');
  const post = url === undefined ? undefined : webhookPoster(url, { ...channelSettings(config).webhook, policy: addressPolicy(parseAllowList(allowed).entries) });
  return async (alert, idempotencyKey) => {
    logger.warn({ alert }, `alert: ${alert.type} in group "${alert.groupName}"`);
    if (!post) return true;
    const result = await post(alert, idempotencyKey, new AbortController().signal);
    if (result.status === 'delivered') return true;
    logger.error({ alert, result }, 'the alert webhook did not take the alert; it is sent again on the next run');
    return false;
  };
}

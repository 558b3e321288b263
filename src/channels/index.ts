import path from 'node:path';
import type { Config } from '../config.js';
import type { ChannelConfig } from '../db/mailings.js';
import { addressPolicy, parseAllowList } from './address-policy.js';
import type { Channel } from './channel.js';
import { logChannel } from './log.js';
import { smtpChannel } from './smtp.js';
import { WEBHOOK_DEFAULTS, webhookChannel, type WebhookOptions } from './webhook.js';

export interface ChannelSettings {
  dataDir: string;
  smtpUrl: string | undefined;
  webhook: WebhookOptions;
}

export const messageLogPath = (dataDir: string) => path.join(dataDir, 'messages.ndjson');

/** The channel settings of the service's configuration. */
export function channelSettings(
  config: Pick<Config, 'dataDir' | 'SMTP_URL' | 'PROMO_WEBHOOK_TIMEOUT_MS' | 'PROMO_WEBHOOK_ATTEMPTS' | 'PROMO_WEBHOOK_BACKOFF_MS' | 'PROMO_WEBHOOK_ALLOW'>,
): ChannelSettings {
  return {
    dataDir: config.dataDir,
    smtpUrl: config.SMTP_URL,
    webhook: {
      ...WEBHOOK_DEFAULTS,
      timeoutMs: config.PROMO_WEBHOOK_TIMEOUT_MS,
      attempts: config.PROMO_WEBHOOK_ATTEMPTS,
      backoffMs: config.PROMO_WEBHOOK_BACKOFF_MS,
      policy: addressPolicy(parseAllowList(config.PROMO_WEBHOOK_ALLOW).entries),
    },
  };
}

export function openChannel(config: ChannelConfig, settings: ChannelSettings): Channel {
  switch (config.type) {
    case 'log':
      return logChannel(messageLogPath(settings.dataDir));
    case 'webhook':
      return webhookChannel(config.url, settings.webhook);
    case 'smtp':
      return smtpChannel(settings.smtpUrl, config.from);
  }
}

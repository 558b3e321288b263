import path from 'node:path';
import type { ChannelConfig } from '../db/mailings.js';
import type { Channel } from './channel.js';
import { logChannel } from './log.js';
import { smtpChannel } from './smtp.js';
import { webhookChannel } from './webhook.js';

export interface ChannelSettings {
  dataDir: string;
  smtpUrl: string | undefined;
}

export const messageLogPath = (dataDir: string) => path.join(dataDir, 'messages.ndjson');

export function openChannel(config: ChannelConfig, settings: ChannelSettings): Channel {
  switch (config.type) {
    case 'log':
      return logChannel(messageLogPath(settings.dataDir));
    case 'webhook':
      return webhookChannel(config.url);
    case 'smtp':
      return smtpChannel(settings.smtpUrl, config.from);
  }
}

import { appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Channel } from './channel.js';

/** Appends each message as one JSON line to the service's message log. */
export function logChannel(file: string): Channel {
  return {
    async deliver(messages) {
      await mkdir(path.dirname(file), { recursive: true });
      const lines = messages.map((message) => `${JSON.stringify({ ...message, at: new Date().toISOString() })}\n`);
      await appendFile(file, lines.join(''));
      return messages.map(() => ({ delivered: true }));
    },
  };
}

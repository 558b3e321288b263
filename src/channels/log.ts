import { appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Channel, DeliveryResult } from './channel.js';

/** Appends each message as one JSON line to the service's message log. */
export function logChannel(file: string): Channel {
  return {
    async deliver(messages, signal) {
      const outcome = (result: DeliveryResult) => messages.map(() => result);
      if (signal.aborted) return outcome({ status: 'skipped' });
      try {
        await mkdir(path.dirname(file), { recursive: true });
      } catch (error) {
        return outcome({ status: 'failed', error: `the message log cannot be created: ${(error as Error).message}` });
      }
      // one append: the lines are written at one time
      const at = new Date().toISOString();
      const lines = messages.map((message) => `${JSON.stringify({ ...message, at })}\n`);
      try {
        await appendFile(file, lines.join(''));
      } catch (error) {
        // part of the lines may have been written
        return outcome({ status: 'unknown', error: `the message log was not fully written: ${(error as Error).message}` });
      }
      return outcome({ status: 'delivered' });
    },
  };
}

import nodemailer from 'nodemailer';
import { type Channel, mapLimited } from './channel.js';

const CONNECTIONS = 4;

/** Sends each message as an e-mail through the configured SMTP server. */
export function smtpChannel(smtpUrl: string | undefined, from: string): Channel {
  return {
    async deliver(messages) {
      if (!smtpUrl) return messages.map(() => ({ delivered: false, error: 'no SMTP server is configured (SMTP_URL)' }));
      const transport = nodemailer.createTransport(smtpUrl);
      try {
        return await mapLimited(messages, CONNECTIONS, async (message) => {
          if (!message.email) return { delivered: false, error: 'the recipient has no e-mail address' };
          try {
            await transport.sendMail({
              from,
              to: message.email,
              subject: message.subject ?? '',
              text: message.body,
              headers: { 'Idempotency-Key': message.idempotencyKey },
            });
            return { delivered: true };
          } catch (error) {
            return { delivered: false, error: `SMTP: ${(error as Error).message}` };
          }
        });
      } finally {
        transport.close();
      }
    },
  };
}

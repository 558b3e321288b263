import nodemailer, { type Transporter } from 'nodemailer';
import { type Channel, type DeliveryResult, mapLimited } from './channel.js';

const CONNECTIONS = 4;

/** nodemailer's `timeoutType`s of the phases before the first command of a message */
const SETUP_TIMEOUTS = new Set<unknown>(['CONNECT_TIMEOUT', 'GREETING_TIMEOUT', 'UPGRADE_TIMEOUT']);

/**
 * Sends each message as an e-mail through the configured SMTP server. Once `signal` is aborted no
 * new message is started; the ones being sent finish.
 */
export function smtpChannel(smtpUrl: string | undefined, from: string): Channel {
  return {
    async deliver(messages, signal) {
      const failAll = (error: string): DeliveryResult[] => messages.map(() => ({ status: 'failed', error }));
      if (!smtpUrl) return failAll('no SMTP server is configured (SMTP_URL)');
      let transport: Transporter;
      try {
        transport = nodemailer.createTransport(smtpUrl);
      } catch (error) {
        return failAll(`SMTP_URL is not usable: ${(error as Error).message}`);
      }
      try {
        return await mapLimited(messages, CONNECTIONS, async (message): Promise<DeliveryResult> => {
          if (signal.aborted) return { status: 'skipped' };
          if (!message.email) return { status: 'failed', error: 'the recipient has no e-mail address' };
          try {
            await transport.sendMail({
              from,
              to: message.email,
              subject: message.subject ?? '',
              text: message.body,
              headers: { 'Idempotency-Key': message.idempotencyKey },
            });
            return { status: 'delivered' };
          } catch (error) {
            return { status: notAccepted(error) ? 'failed' : 'unknown', error: `SMTP: ${(error as Error).message}` };
          }
        });
      } finally {
        transport.close();
      }
    },
  };
}

/**
 * Whether a nodemailer error means the server certainly did not take the message. Found against
 * smtp-server (nodemailer 10):
 * - a 4xx/5xx reply carries `responseCode` (a refused RCPT TO: `code` EENVELOPE, `command`
 *   'RCPT TO'; a refused message after its data: EMESSAGE, 'DATA'): not accepted;
 * - a failed connect has `code` ESOCKET and `syscall` 'connect' (`originalCode` ECONNREFUSED), a
 *   failed lookup `code` EDNS; a timeout while connecting, waiting for the greeting or upgrading
 *   to TLS has `code` ETIMEDOUT and a SETUP_TIMEOUTS `timeoutType`: nothing of the message sent;
 * - a connection closed by the server is `code` ECONNECTION, `command` 'CONN', whether it closed
 *   before the greeting, at RCPT TO or after the data was sent (the fields are the same), and a
 *   reset is ESOCKET with `syscall` 'read'; no reply in time is ETIMEDOUT with SOCKET_TIMEOUT. Those
 *   may come after the data was sent, so they are not taken as a refusal.
 */
function notAccepted(error: unknown): boolean {
  const { responseCode, code, syscall, timeoutType } = error as Record<string, unknown>;
  if (typeof responseCode === 'number' && responseCode >= 400) return true;
  return code === 'EDNS' || (code === 'ESOCKET' && syscall === 'connect') || SETUP_TIMEOUTS.has(timeoutType);
}

import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { SMTPServer } from 'smtp-server';
import { afterAll } from 'vitest';

export interface ReceivedMail {
  to: string[];
  raw: string;
}

export interface SmtpReceiverOptions {
  /** wait this long after each message's data before answering it */
  delayMs?: number;
  /** refuse this recipient at RCPT TO with a permanent 550 */
  refuse?: (address: string) => boolean;
  /** take the whole data of a message for these recipients, then close the connection without answering */
  drop?: (address: string) => boolean;
}

export interface SmtpReceiver {
  url: string;
  /** messages received and accepted */
  mails: ReceivedMail[];
  /** messages received whole, then dropped without an answer */
  dropped: ReceivedMail[];
}

/** A real SMTP server in this process that keeps what it receives. */
export async function startSmtpReceiver(options: SmtpReceiverOptions = {}): Promise<SmtpReceiver> {
  const mails: ReceivedMail[] = [];
  const dropped: ReceivedMail[] = [];
  // smtp-server hands its handlers the session, not the socket: find the socket by the client's port
  const sockets = new Map<number, Socket>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(address, _session, callback) {
      if (!options.refuse?.(address.address)) return callback();
      callback(Object.assign(new Error(`no mailbox ${address.address}`), { responseCode: 550 }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', async () => {
        const mail = { to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('utf8') };
        if (options.drop && mail.to.some(options.drop)) {
          dropped.push(mail);
          sockets.get(session.remotePort)?.destroy();
          return;
        }
        if (options.delayMs) await sleep(options.delayMs);
        mails.push(mail);
        callback();
      });
    },
  });
  server.server.on('connection', (socket: Socket) => {
    const port = socket.remotePort!;
    sockets.set(port, socket);
    socket.on('close', () => sockets.delete(port));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`, mails, dropped };
}

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll } from 'vitest';

export interface ReceivedMessage {
  mailingId: string;
  customerId: string;
  idempotencyKey: string;
  header: string | undefined;
  /** what the receiver answered: a status, `'drop'`, or undefined while it has not answered yet */
  answer?: number | 'drop';
  [field: string]: unknown;
}

/** The status to answer with, or `'drop'` to close the connection without answering. */
type Behaviour = (message: ReceivedMessage, attempt: number) => number | 'drop' | Promise<number | 'drop'>;

export interface WebhookReceiver {
  url: string;
  received: ReceivedMessage[];
  behave(behaviour: Behaviour): void;
}

/**
 * A real HTTP server that records each POST (once its whole body is in) and answers with the
 * status the test chooses, after any delay the behaviour awaits, or drops the connection.
 */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedMessage[] = [];
  const attempts = new Map<string, number>();
  let behaviour: Behaviour = () => 200;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      const message = { ...JSON.parse(Buffer.concat(chunks).toString('utf8')), header: request.headers['idempotency-key'] } as ReceivedMessage;
      const attempt = (attempts.get(message.idempotencyKey) ?? 0) + 1;
      attempts.set(message.idempotencyKey, attempt);
      received.push(message);
      const answer = await behaviour(message, attempt);
      message.answer = answer;
      if (answer === 'drop') {
        request.socket.destroy();
        return;
      }
      response.statusCode = answer;
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    behave: (next) => {
      behaviour = next;
    },
  };
}

/**
 * The customer and code of each message the receiver took or may have taken: every answer but
 * a 4xx (a 5xx or a dropped connection may follow a message that was kept).
 */
export const heldCodes = (messages: readonly ReceivedMessage[], mailingId?: string) =>
  messages
    .filter((m) => (mailingId === undefined || m.mailingId === mailingId) && !(typeof m.answer === 'number' && m.answer >= 400 && m.answer < 500))
    .map((m) => ({ customerId: m.customerId, code: m.body as string }));

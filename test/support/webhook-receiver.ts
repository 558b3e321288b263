import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll } from 'vitest';

export interface ReceivedMessage {
  mailingId: string;
  customerId: string;
  idempotencyKey: string;
  header: string | undefined;
  [field: string]: unknown;
}

type Behaviour = (message: ReceivedMessage, attempt: number) => number | Promise<number>;

export interface WebhookReceiver {
  url: string;
  received: ReceivedMessage[];
  behave(behaviour: Behaviour): void;
}

/** A real HTTP server that records each POST and answers with the status the test chooses. */
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
      response.statusCode = await behaviour(message, attempt);
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

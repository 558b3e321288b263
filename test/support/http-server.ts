import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { freePort } from '../../src/local/ports.js';
import { onCleanup, type TestStack } from './stack.js';

/** An app on a free port of 127.0.0.1, stopped once the file's tests are done. */
export async function serveApp(app: { fetch: (request: Request) => Response | Promise<Response> }): Promise<{ url: string; port: number; server: Server }> {
  const port = await freePort();
  const server = await new Promise<Server>((resolve) => {
    const started = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, () => resolve(started as Server));
  });
  onCleanup(
    () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  );
  return { url: `http://127.0.0.1:${port}`, port, server };
}

/** The stack's app on a free port of 127.0.0.1, for a browser; its base URL. */
export async function serveStack(stack: TestStack): Promise<string> {
  return (await serveApp(stack.app)).url;
}

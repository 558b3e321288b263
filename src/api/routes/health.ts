import { Hono } from 'hono';
import type { AppDeps } from '../router.js';

/** Liveness and readiness, outside /api and without a token. */
export function healthRoutes({ sql, temporal }: AppDeps) {
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const [database, temporalServer] = await Promise.all([
      check(() => sql`select 1`),
      check(() => temporal.workflowService.getSystemInfo({})),
    ]);
    const ready = database === 'ok' && temporalServer === 'ok';
    return c.json({ status: ready ? 'ready' : 'unavailable', database, temporal: temporalServer }, ready ? 200 : 503);
  });
  return app;
}

async function check(probe: () => Promise<unknown>): Promise<string> {
  try {
    await withTimeout(probe(), 2000);
    return 'ok';
  } catch (error) {
    return `unreachable: ${error instanceof Error ? error.message : String(error)}`;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

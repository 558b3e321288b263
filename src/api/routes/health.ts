import { Hono } from 'hono';
import type { Logger } from '../../logger.js';
import { withAbortSignal } from '../../temporal/connect.js';
import type { AppDeps } from '../router.js';

/**
 * Liveness and readiness, outside /api and without a token. /readyz names each dependency
 * `ok` or `down`; why one is down goes to the log (warn), never into the answer.
 */
const PROBE_TIMEOUT_MS = 2000;

export function healthRoutes({ sql, temporal, logger }: AppDeps) {
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const [database, temporalServer] = await Promise.all([
      check(logger, 'database', () => sql`select 1`),
      // aborted at the timeout, so that the client does not go on retrying it in the background
      check(logger, 'temporal', () => withAbortSignal(temporal.connection, AbortSignal.timeout(PROBE_TIMEOUT_MS), () => temporal.workflowService.getSystemInfo({}))),
    ]);
    const ready = database === 'ok' && temporalServer === 'ok';
    return c.json({ status: ready ? 'ready' : 'unavailable', database, temporal: temporalServer }, ready ? 200 : 503);
  });
  return app;
}

async function check(logger: Logger, dependency: string, probe: () => Promise<unknown>): Promise<'ok' | 'down'> {
  try {
    await withTimeout(probe(), PROBE_TIMEOUT_MS);
    return 'ok';
  } catch (error) {
    logger.warn({ err: error, dependency }, 'readiness check failed');
    return 'down';
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

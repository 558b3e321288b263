import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config.js';
import { createSql, type Sql } from '../src/db/client.js';
import { startLocalStack } from '../src/local/stack.js';
import { freePort } from '../src/local/ports.js';
import { logger } from '../src/logger.js';

export interface BenchContext {
  /** e.g. http://localhost:PORT/api */
  apiUrl: string;
  token: string;
  /** the same database the service uses, for baselines and seeding */
  sql: Sql;
  databaseUrl: string;
  temporalAddress: string;
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
}

/** A throw-away copy of the whole service (as `npm run dev` runs it), on free ports and a scratch data dir. */
export async function withBenchStack<T>(run: (context: BenchContext) => Promise<T>, env: Record<string, string> = {}): Promise<T> {
  logger.level = 'warn'; // stdout carries the JSON result lines
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'promo-bench-'));
  await chmod(dataDir, 0o755);
  const token = randomBytes(16).toString('hex');
  const config = loadConfig({
    ...process.env,
    ...env,
    PROMO_DATA_DIR: dataDir,
    PROMO_API_TOKENS: token,
    PORT: String(await freePort()),
    TEMPORAL_DEV_PORT: String(await freePort()),
  });
  const stack = await startLocalStack(config, { durable: true, temporalUi: false });
  const sql = createSql(stack.databaseUrl);
  const api = apiCaller(stack.apiUrl, token);
  try {
    return await run({ apiUrl: stack.apiUrl, token, sql, api, databaseUrl: stack.databaseUrl, temporalAddress: stack.temporalAddress });
  } finally {
    await sql.end();
    await stack.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/**
 * JSON calls to the API at `apiUrl` (…/api) with the bearer token, over kept-alive connections
 * (node:http: the load generator shares the machine with the service, and fetch costs it more).
 */
export function apiCaller(apiUrl: string, token: string): BenchContext['api'] {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  return (method, route, body) =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const request = http.request(`${apiUrl}${route}`, {
        method,
        agent,
        headers: { authorization: `Bearer ${token}`, ...(payload !== undefined && { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }) },
      }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: response.statusCode!, body: text ? JSON.parse(text) : undefined });
        });
      });
      request.on('error', reject);
      request.end(payload);
    });
}

export function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

export const round = (value: number, digits = 2) => Number(value.toFixed(digits));

export async function timed<T>(work: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const start = performance.now();
  const result = await work();
  return { result, ms: performance.now() - start };
}

/**
 * POSTs a mailing and waits for it to end, polling every `pollMs`. Its time runs from the POST
 * to the mailing's own finishedAt (the database's clock is this machine's), not to the poll that
 * saw it: a poll adds up to its interval of nothing to the figure.
 */
export async function mailUntilDone(api: BenchContext['api'], body: unknown, pollMs: number): Promise<{ mailing: any; ms: number; postMs: number }> {
  const startedAt = Date.now();
  const posted = await timed(() => api('POST', '/mailings', body));
  for (;;) {
    const mailing = (await api('GET', `/mailings/${posted.result.body.id}`)).body;
    if (!['reserving', 'sending'].includes(mailing.status)) return { mailing, ms: Date.parse(mailing.finishedAt) - startedAt, postMs: posted.ms };
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

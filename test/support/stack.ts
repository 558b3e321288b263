import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { afterAll, expect, inject } from 'vitest';
import { createApp } from '../../src/api/app.js';
import type { AppDeps } from '../../src/api/router.js';
import { addressPolicy, parseAllowList } from '../../src/channels/address-policy.js';
import { type Config, loadConfig } from '../../src/config.js';
import { createSql, type Sql } from '../../src/db/client.js';
import { type Logger, logger } from '../../src/logger.js';
import { createRenderPool } from '../../src/render/render-pool.js';
import { startWorker } from '../../src/worker/create-worker.js';
import { installTemporalRuntime } from '../../src/worker/temporal-runtime.js';
import { TEMPLATE_DATABASE } from './names.js';

installTemporalRuntime('error'); // a kill or timeout test makes the SDK warn of late completions, as it should

export const TEST_TOKEN = 'test-token';

// Hooks registered inside a test body never run, so everything a helper starts is stopped here,
// once the file's tests are done, newest first.
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** Stops something a helper started once this file's tests are done. */
export function onCleanup(cleanup: () => Promise<void>): void {
  cleanups.push(cleanup);
}

/** A fresh database of this test file's own, cloned from the migrated template. */
export async function testDatabase(): Promise<Sql & { url: string }> {
  const adminUrl = inject('databaseUrl');
  const name = `t_${randomUUID().replaceAll('-', '').slice(0, 20)}`;
  const admin = createSql(adminUrl, { max: 1 });
  await admin.unsafe(`create database ${name} template ${TEMPLATE_DATABASE}`);
  const url = adminUrl.replace(/\/postgres$/, `/${name}`);
  const sql = Object.assign(createSql(url), { url });
  // test files share one Temporal server: job ids (hence workflow ids) must not repeat across their databases
  await sql`select setval(pg_get_serial_sequence('job', 'id'), ${1 + Math.floor(Math.random() * 1e12)})`;
  cleanups.push(async () => {
    await sql.end({ timeout: 5 });
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
  });
  return sql;
}

export interface TestWorker {
  stop(): Promise<void>;
}

/** The service's configuration for a test: small batches, a scratch data dir, and the given overrides. */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    PROMO_DATA_DIR: path.join(os.tmpdir(), `promo-test-data-${randomUUID()}`),
    PROMO_GENERATE_BATCH_SIZE: '1000',
    PROMO_MAILING_BATCH_SIZE: '100',
    // the tests' webhook receivers listen on loopback
    PROMO_WEBHOOK_ALLOW: '127.0.0.1',
    // test files share one Temporal server: a test that needs the schedule names its own
    PROMO_HOUSEKEEPING_SCHEDULE_ID: '',
    ...env,
  });
}

/** The service's logger at TEST_LOG_LEVEL (silent by default). */
const quietLogger = () => logger.child({}, { level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** A worker on this file's own task queue, against its own database. */
export async function startTestWorker(sql: Sql, taskQueue: string, config: Config, temporal: Client, log = quietLogger()): Promise<TestWorker> {
  return startWorker({
    address: inject('temporalAddress'),
    namespace: 'default',
    taskQueue,
    sql,
    temporal,
    logger: log,
    workflowBundlePath: inject('workflowBundlePath'),
    config,
  });
}

export interface ApiAnswer {
  status: number;
  headers: Headers;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export interface TestStack {
  sql: Sql;
  config: Config;
  databaseUrl: string;
  temporal: Client;
  taskQueue: string;
  worker: TestWorker;
  /** what the app was made of: a test makes a variant with `createApp({ ...stack.deps, … })` */
  deps: AppDeps;
  /** the HTTP app; `serveStack` puts it on a port */
  app: ReturnType<typeof createApp>;
  api(method: string, path: string, options?: { json?: unknown; text?: string; body?: RequestInit['body']; headers?: Record<string, string>; token?: string | null }): Promise<ApiAnswer>;
}

/** Database, Temporal client, a running worker and the HTTP app, all of this test file's own. */
export async function testStack(
  options: { env?: Record<string, string>; maxBodyBytes?: number; maxImportBytes?: number; worker?: boolean; logger?: Logger } = {},
): Promise<TestStack> {
  const config = testConfig(options.env);
  const sql = await testDatabase();
  const connection = await Connection.connect({ address: inject('temporalAddress') });
  const temporal = new Client({ connection, namespace: 'default' });
  const taskQueue = `test-${randomUUID()}`;
  const renderPool = createRenderPool({ threads: 1 });
  const deps: AppDeps = {
    sql,
    temporal,
    renderPool,
    logger: options.logger ?? quietLogger(),
    apiTokens: [TEST_TOKEN],
    taskQueue,
    maxBodyBytes: options.maxBodyBytes ?? 20 * 1024 * 1024,
    maxImportBytes: options.maxImportBytes ?? 5 * 1024 * 1024,
    temporalUiUrl: 'http://localhost:8233',
    issueBatchSize: config.PROMO_ISSUE_BATCH_SIZE,
    generationLanes: config.PROMO_GENERATE_LANES,
    smtpConfigured: config.SMTP_URL !== undefined,
    webhookPolicy: addressPolicy(parseAllowList(config.PROMO_WEBHOOK_ALLOW).entries),
  };
  const stack: TestStack = {
    sql,
    deps,
    app: createApp(deps),
    databaseUrl: sql.url,
    temporal,
    taskQueue,
    config,
    worker: options.worker === false ? { stop: async () => {} } : await startTestWorker(sql, taskQueue, config, temporal, deps.logger),
    api: async (method, path, { json, text, body, headers = {}, token = TEST_TOKEN } = {}) => {
      const requestHeaders: Record<string, string> = { ...headers };
      if (token !== null) requestHeaders.authorization = `Bearer ${token}`;
      if (json !== undefined) requestHeaders['content-type'] ??= 'application/json';
      if (text !== undefined) requestHeaders['content-type'] ??= 'text/plain';
      const response = await stack.app.request(path, {
        method,
        headers: requestHeaders,
        body: json !== undefined ? JSON.stringify(json) : (text ?? body),
        ...(body instanceof ReadableStream && { duplex: 'half' }),
      });
      const responseText = await response.text();
      const isJson = /json/.test(response.headers.get('content-type') ?? '');
      return { status: response.status, headers: response.headers, text: responseText, body: isJson ? JSON.parse(responseText) : undefined };
    },
  };
  cleanups.push(async () => {
    await stack.worker.stop();
    await renderPool.close();
    await connection.close();
  });
  return stack;
}

export interface WorkerProcess {
  /** SIGKILL: no goodbyes */
  kill(): Promise<void>;
  /** SIGTERM, as a deploy stops it; resolves once the process has exited */
  terminate(): Promise<void>;
  exited: Promise<void>;
  /** the port of its /metrics, when started with PROMO_WORKER_METRICS_PORT */
  metricsPort: number | undefined;
}

/** A worker in a child process on the stack's task queue and database, run as `npm run worker` runs it. */
export async function spawnWorkerProcess(stack: TestStack, env: Record<string, string> = {}): Promise<WorkerProcess> {
  const settings = Object.fromEntries(
    Object.entries(stack.config).filter(([name, value]) => /^PROMO_|^SMTP_URL$/.test(name) && value !== undefined).map(([name, value]) => [name, String(value)]),
  );
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./worker-process.ts', import.meta.url))], {
    env: {
      ...process.env,
      ...settings,
      LOG_LEVEL: 'warn',
      DATABASE_URL: stack.databaseUrl,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_TASK_QUEUE: stack.taskQueue,
      WORKFLOW_BUNDLE_PATH: inject('workflowBundlePath'),
      PROMO_DATA_DIR: stack.config.dataDir,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let output = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      if (!output.includes('worker ready')) output += chunk.toString();
      if (output.includes('worker ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`worker process exited early (${code})`)));
  });
  const signal = async (name: NodeJS.Signals) => {
    child.kill(name);
    await exited;
  };
  cleanups.push(() => signal('SIGKILL'));
  const metricsPort = /worker metrics port (\d+)/.exec(output)?.[1];
  return {
    kill: () => signal('SIGKILL'),
    terminate: () => signal('SIGTERM'),
    exited,
    metricsPort: metricsPort === undefined ? undefined : Number(metricsPort),
  };
}

/** Polls `probe` until it returns something truthy. */
export async function eventually<T>(probe: () => Promise<T | undefined | null | false>, timeoutMs = 60_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** The mailing, read over the API, once it has ended: completed, failed or cancelled. */
export async function mailingEnded(stack: TestStack, id: string, timeoutMs = 120_000): Promise<any> {
  return eventually(async () => {
    const mailing = (await stack.api('GET', `/api/mailings/${id}`)).body;
    return ['completed', 'failed', 'cancelled'].includes(mailing.status) && mailing;
  }, timeoutMs);
}

/** `PREFIX-0`, `PREFIX-1`, … (numbers padded to `pad` digits). */
export const numberedCodes = (prefix: string, count: number, pad = 0) =>
  Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(pad, '0')}`);

/** A group made through the API, filled with `codes` (all of them new). */
export async function groupWithCodes(stack: TestStack, name: string, codes: string[] = [], extra: Record<string, unknown> = {}): Promise<{ id: string; name: string }> {
  const created = await stack.api('POST', '/api/groups', { json: { name, ...extra } });
  expect(created.status, created.text).toBe(201);
  if (codes.length > 0) expect((await stack.api('POST', `/api/groups/${created.body.id}/codes`, { json: { codes } })).body.added).toBe(codes.length);
  return created.body;
}

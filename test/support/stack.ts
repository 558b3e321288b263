import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { afterAll, inject } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { createSql, type Sql } from '../../src/db/client.js';
import { logger } from '../../src/logger.js';
import { createWorker } from '../../src/worker/create-worker.js';
import { installTemporalRuntime } from '../../src/worker/temporal-runtime.js';

installTemporalRuntime('warn');
import { TEMPLATE_DATABASE } from './names.js';

export const TEST_TOKEN = 'test-token';

/** A fresh database of this test file's own, cloned from the migrated template. */
export async function testDatabase(): Promise<Sql> {
  const adminUrl = inject('databaseUrl');
  const name = `t_${randomUUID().replaceAll('-', '').slice(0, 20)}`;
  const admin = createSql(adminUrl, { max: 1 });
  await admin.unsafe(`create database ${name} template ${TEMPLATE_DATABASE}`);
  const sql = createSql(adminUrl.replace(/\/postgres$/, `/${name}`));
  afterAll(async () => {
    await sql.end({ timeout: 5 });
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
  });
  return sql;
}

export interface TestWorker {
  stop(): Promise<void>;
}

/** A worker on this file's own task queue, against its own database. */
export async function startTestWorker(sql: Sql, taskQueue: string, options: { generateBatchSize?: number } = {}): Promise<TestWorker> {
  const { worker, connection } = await createWorker({
    address: inject('temporalAddress'),
    namespace: 'default',
    taskQueue,
    sql,
    workflowBundlePath: inject('workflowBundlePath'),
    generateBatchSize: options.generateBatchSize ?? 1000,
  });
  const running = worker.run();
  return {
    stop: async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await connection.close();
    },
  };
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
  temporal: Client;
  taskQueue: string;
  worker: TestWorker;
  api(method: string, path: string, options?: { json?: unknown; text?: string; headers?: Record<string, string>; token?: string | null }): Promise<ApiAnswer>;
}

/** Database, Temporal client, a running worker and the HTTP app, all of this test file's own. */
export async function testStack(options: { generateBatchSize?: number; maxBodyBytes?: number } = {}): Promise<TestStack> {
  const sql = await testDatabase();
  const connection = await Connection.connect({ address: inject('temporalAddress') });
  const temporal = new Client({ connection, namespace: 'default' });
  const taskQueue = `test-${randomUUID()}`;
  const stack: TestStack = {
    sql,
    temporal,
    taskQueue,
    worker: await startTestWorker(sql, taskQueue, options),
    api: async (method, path, { json, text, headers = {}, token = TEST_TOKEN } = {}) => {
      const requestHeaders: Record<string, string> = { ...headers };
      if (token !== null) requestHeaders.authorization = `Bearer ${token}`;
      if (json !== undefined) requestHeaders['content-type'] ??= 'application/json';
      if (text !== undefined) requestHeaders['content-type'] ??= 'text/plain';
      const response = await app.request(path, {
        method,
        headers: requestHeaders,
        body: json !== undefined ? JSON.stringify(json) : text,
      });
      const responseText = await response.text();
      const isJson = /json/.test(response.headers.get('content-type') ?? '');
      return { status: response.status, headers: response.headers, text: responseText, body: isJson ? JSON.parse(responseText) : undefined };
    },
  };
  const app = createApp({
    sql,
    temporal,
    logger: logger.child({}, { level: 'silent' }),
    apiTokens: [TEST_TOKEN],
    taskQueue,
    maxBodyBytes: options.maxBodyBytes ?? 20 * 1024 * 1024,
  });
  afterAll(async () => {
    await stack.worker.stop();
    await connection.close();
  });
  return stack;
}

// A production-shaped topology on one machine: PostgreSQL and a Temporal server (SQLite file)
// as processes of their own, and the service as separate worker and API processes, run as
// `npm run worker` and `npm run api` run them. Each process can be killed (SIGKILL), stopped
// (SIGTERM, fast shutdown for PostgreSQL) and started again on the same data and ports.
// Shared by `npm run topology` (scripts/topology.ts) and the fault tests; no vitest here.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import protos from '@temporalio/proto';
import { createSql, type Sql } from '../../src/db/client.js';
import { migrate } from '../../src/db/migrate.js';
import { type LocalPostgres, startEmbeddedPostgres } from '../../src/local/embedded-postgres.js';
import { freePort } from '../../src/local/ports.js';
import { findTemporalCli, type LocalTemporal, startTemporalDevServer } from '../../src/local/temporal-dev-server.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WORKER_ENTRY = path.join(ROOT, 'worker.ts');
const API_ENTRY = path.join(ROOT, 'src/api/main.ts');
/** a worker run as worker.ts runs it, but with a prebuilt workflow bundle (WORKFLOW_BUNDLE_PATH) */
const BUNDLED_WORKER_ENTRY = path.join(ROOT, 'test/support/worker-process.ts');

export interface TopologyOptions {
  /** where PostgreSQL's data, the Temporal SQLite file and the workers' data dir go; a fresh temp dir by default (removed on stop) */
  dir?: string;
  workers?: number;
  apis?: number;
  /** environment of every service process (PROMO_*, LOG_LEVEL, …), over the defaults */
  env?: Record<string, string>;
  workerEnv?: Record<string, string>;
  apiEnv?: Record<string, string>;
  /** API ports; free ones by default */
  apiPorts?: number[];
  temporalPort?: number;
  /** the Temporal Web UI's port; headless without one */
  temporalUiPort?: number;
  /** PostgreSQL with fsync (the script) or without (tests) */
  durable?: boolean;
  /** a prebuilt workflow bundle: workers start in a second or two instead of bundling the workflows each */
  workflowBundlePath?: string;
  token?: string;
  /** where the processes' stderr (and stdout) goes; the parent's stderr by default */
  output?: (name: string, chunk: string) => void;
}

export interface ServiceProcess {
  name: string;
  pid(): number | undefined;
  running(): boolean;
  /** SIGKILL; resolves once it has exited */
  kill(): Promise<void>;
  /** SIGTERM, as a deploy stops it; resolves once it has exited */
  terminate(): Promise<void>;
  /** starts it again (after kill or terminate; a running one is killed first), with `env` over its environment from now on, and waits until it is ready */
  restart(env?: Record<string, string>): Promise<void>;
}

export interface ApiProcess extends ServiceProcess {
  port: number;
  /** http://127.0.0.1:<port> */
  baseUrl: string;
}

export interface Topology {
  dir: string;
  token: string;
  taskQueue: string;
  databaseUrl: string;
  temporalAddress: string;
  temporalUiUrl: string | undefined;
  workers: ServiceProcess[];
  apis: ApiProcess[];
  postgres: {
    url: string;
    port: number;
    pid(): number | undefined;
    /** fast shutdown (SIGINT to the postmaster) */
    stop(): Promise<void>;
    /** again on the same data dir and port */
    start(): Promise<void>;
  };
  temporal: {
    address: string;
    /** SIGKILL of the server process */
    kill(): Promise<void>;
    /** SIGTERM */
    stop(): Promise<void>;
    /** again on the same SQLite file and port; answers once the server serves its namespace */
    start(): Promise<void>;
  };
  /** service processes that exited without being told to (a crash), oldest first; a test may empty it */
  unexpectedExits: { name: string; pid: number | undefined; code: number | null; signal: NodeJS.Signals | null; at: Date; lastOutput: string }[];
  /** the oracle's client (postgres.js, as the service makes it) */
  sql: Sql;
  /** a Temporal client on the default namespace (histories, queries) */
  temporalClient: Client;
  /** an HTTP request to API process `via` (0 by default), with the token */
  api(method: string, path: string, options?: { json?: unknown; text?: string; headers?: Record<string, string>; via?: number; token?: string | null }): Promise<{ status: number; headers: Headers; text: string; body: any }>;
  /** stops everything, newest first; removes the temp dir it made */
  stop(): Promise<void>;
}

/** Polls `probe` until it gives something truthy; a probe that throws (a server down for a moment) counts as not yet. */
export async function until<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs: number, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not ready within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export async function startTopology(options: TopologyOptions = {}): Promise<Topology> {
  const ownDir = options.dir === undefined;
  const dir = path.resolve(options.dir ?? (await mkdtemp(path.join(os.tmpdir(), 'promo-topology-'))));
  await mkdir(dir, { recursive: true });
  if (ownDir) await chmod(dir, 0o755); // PostgreSQL runs as the postgres user when we are root
  const token = options.token ?? randomUUID();
  const taskQueue = options.env?.TEMPORAL_TASK_QUEUE ?? 'promo';
  const output = options.output ?? ((name: string, chunk: string) => process.stderr.write(chunk.replace(/^(?=.)/gm, `[${name}] `)));
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((error: unknown) => output('topology', `stop failed: ${String(error)}\n`));
    stops.length = 0;
    if (ownDir) await rm(dir, { recursive: true, force: true });
  };

  try {
    // PostgreSQL: a postmaster of its own on its own data dir
    const postgres: LocalPostgres = await startEmbeddedPostgres({ dataDir: path.join(dir, 'postgres'), durable: options.durable ?? false });
    stops.push(() => postgres.stop());
    const sql = createSql(postgres.url, { max: 4 });
    stops.push(() => sql.end({ timeout: 2 }));
    await migrate(sql); // once, before the processes race to it

    // Temporal: the CLI's dev server on a SQLite file, on a port that stays the same across restarts
    const cliPath = findTemporalCli(process.env.TEMPORAL_CLI_PATH);
    if (!cliPath) throw new Error('the topology needs the `temporal` CLI (on PATH or TEMPORAL_CLI_PATH): it kills and restarts the server process');
    const temporalPort = options.temporalPort ?? (await freePort());
    const temporalOptions = {
      cliPath,
      port: temporalPort,
      namespace: 'default',
      dbFilename: path.join(dir, 'temporal.sqlite'),
      ...(options.temporalUiPort !== undefined && { uiPort: options.temporalUiPort }),
    };
    let temporal: LocalTemporal | undefined = await startTemporalDevServer(temporalOptions);
    stops.push(() => temporal?.stop() ?? Promise.resolve());
    const temporalAddress = temporal.address;
    const connection = await Connection.connect({ address: temporalAddress });
    stops.push(() => connection.close());

    const dataDir = path.join(dir, 'promo-data');
    await mkdir(dataDir, { recursive: true });
    const baseEnv: Record<string, string> = {
      ...(process.env as Record<string, string>),
      LOG_LEVEL: 'warn',
      DATABASE_URL: postgres.url,
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_TASK_QUEUE: taskQueue,
      PROMO_API_TOKENS: token,
      PROMO_DATA_DIR: dataDir,
      PROMO_WEBHOOK_ALLOW: '127.0.0.1',
      ...(temporal.uiUrl && { TEMPORAL_UI_URL: temporal.uiUrl }),
      ...options.env,
    };

    const hasPollers = async (pid: number) => {
      const identity = `${pid}@`;
      for (const taskQueueType of [protos.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, protos.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY]) {
        const answer = await connection.workflowService.describeTaskQueue({ namespace: 'default', taskQueue: { name: taskQueue }, taskQueueType });
        if (!(answer.pollers ?? []).some((poller) => poller.identity?.startsWith(identity))) return false;
      }
      return true;
    };

    const unexpectedExits: Topology['unexpectedExits'] = [];
    /** A service process: spawned, waited for, and restartable. */
    const serviceProcess = (name: string, args: string[], initialEnv: Record<string, string>, ready: (child: ChildProcess) => Promise<unknown>): ServiceProcess & { start(): Promise<void> } => {
      let child: ChildProcess | undefined;
      let env = initialEnv;
      let exited: Promise<void> = Promise.resolve();
      let told = false; // whether the current child was told to stop
      const running = () => child !== undefined && child.exitCode === null && child.signalCode === null;
      const signal = async (sig: NodeJS.Signals) => {
        told = true;
        if (running()) child!.kill(sig);
        await exited;
      };
      const start = async () => {
        const spawned = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
        child = spawned;
        told = false;
        let tail = ''; // the process's last output, for a crash's report
        const keep = (chunk: Buffer) => {
          tail = (tail + chunk.toString()).slice(-3000);
        };
        spawned.stdout!.on('data', keep);
        spawned.stderr!.on('data', keep);
        exited = new Promise<void>((resolve) =>
          spawned.once('exit', (code, sig) => {
            if (!told) unexpectedExits.push({ name, pid: spawned.pid, code, signal: sig, at: new Date(), lastOutput: tail });
            resolve();
          }),
        );
        spawned.stdout!.on('data', (chunk: Buffer) => {
          const text = chunk.toString();
          if (text.trim() !== 'worker ready') output(name, text);
        });
        spawned.stderr!.on('data', (chunk: Buffer) => output(name, chunk.toString()));
        const died = exited.then(() => {
          throw new Error(`${name} exited while starting (${spawned.exitCode ?? spawned.signalCode})`);
        });
        try {
          await Promise.race([ready(spawned), died]);
        } finally {
          died.catch(() => {});
        }
      };
      return {
        name,
        pid: () => child?.pid,
        running,
        kill: () => signal('SIGKILL'),
        terminate: () => signal('SIGTERM'),
        restart: async (more?: Record<string, string>) => {
          await signal('SIGKILL');
          if (more) env = { ...env, ...more };
          await start();
        },
        start,
      };
    };

    const workerArgs = options.workflowBundlePath ? [BUNDLED_WORKER_ENTRY] : [WORKER_ENTRY];
    const workers = Array.from({ length: options.workers ?? 2 }, (_, i) =>
      serviceProcess(`worker-${i + 1}`, workerArgs, { ...baseEnv, ...(options.workflowBundlePath && { WORKFLOW_BUNDLE_PATH: options.workflowBundlePath }), ...options.workerEnv }, (child) =>
        // ready when it polls both its workflow and activity task queues (the bundle takes a while)
        until(`worker pid ${child.pid}`, () => hasPollers(child.pid!), 120_000, 250),
      ),
    );
    const apiPorts = options.apiPorts ?? (await Promise.all(Array.from({ length: options.apis ?? 2 }, () => freePort())));
    const apis = apiPorts.map((port, i) => {
      const base = serviceProcess(`api-${i + 1}`, [API_ENTRY], { ...baseEnv, PORT: String(port), ...options.apiEnv }, () =>
        until(`api on ${port}`, async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, 60_000),
      );
      return Object.assign(base, { port, baseUrl: `http://127.0.0.1:${port}` });
    });
    // the processes stop before the servers they use (stops run newest first)
    stops.push(async () => {
      await Promise.all([...workers, ...apis].map((service) => service.terminate()));
    });
    // two cores: the workers start one after the other (each bundles or loads its workflows), the APIs alongside
    await Promise.all([
      (async () => {
        for (const worker of workers) await worker.start();
      })(),
      Promise.all(apis.map((api) => api.start())),
    ]);

    const topology: Topology = {
      dir,
      token,
      taskQueue,
      databaseUrl: postgres.url,
      temporalAddress,
      temporalUiUrl: temporal.uiUrl,
      workers,
      apis,
      unexpectedExits,
      sql,
      temporalClient: new Client({ connection, namespace: 'default' }),
      postgres: {
        url: postgres.url,
        port: postgres.port,
        pid: () => postgres.pid(),
        stop: () => postgres.stop(),
        start: () => postgres.start(),
      },
      temporal: {
        address: temporalAddress,
        kill: async () => {
          await temporal?.kill();
          temporal = undefined;
        },
        stop: async () => {
          await temporal?.stop();
          temporal = undefined;
        },
        start: async () => {
          if (temporal) await temporal.kill();
          temporal = await startTemporalDevServer(temporalOptions);
        },
      },
      api: async (method, urlPath, { json, text, headers = {}, via = 0, token: given = token } = {}) => {
        const requestHeaders: Record<string, string> = { ...headers };
        if (given !== null) requestHeaders.authorization = `Bearer ${given}`;
        if (json !== undefined) requestHeaders['content-type'] ??= 'application/json';
        if (text !== undefined) requestHeaders['content-type'] ??= 'text/plain';
        const response = await fetch(`${apis[via]!.baseUrl}${urlPath}`, {
          method,
          headers: requestHeaders,
          ...((json !== undefined || text !== undefined) && { body: json !== undefined ? JSON.stringify(json) : text }),
        });
        const responseText = await response.text();
        const isJson = /json/.test(response.headers.get('content-type') ?? '');
        return { status: response.status, headers: response.headers, text: responseText, body: isJson && responseText ? JSON.parse(responseText) : undefined };
      },
      stop: stopAll,
    };
    return topology;
  } catch (error) {
    await stopAll();
    throw error;
  }
}

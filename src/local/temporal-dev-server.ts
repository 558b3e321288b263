import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { logger } from '../logger.js';
import { connectClient } from '../temporal/connect.js';
import { SEARCH_ATTRIBUTES } from '../temporal/search-attributes.js';
import { waitForPort } from './ports.js';

export interface LocalTemporal {
  address: string;
  uiUrl: string | undefined;
  stop(): Promise<void>;
  /** SIGKILL, no goodbyes: only for the CLI's server (a downloaded one is stopped as `stop` does) */
  kill(): Promise<void>;
}

export interface DevServerOptions {
  cliPath: string | undefined;
  port: number;
  /** without one the Web UI stays off */
  uiPort?: number;
  namespace: string;
  /** more namespaces to create, e.g. one for callers of the Nexus service */
  extraNamespaces?: string[];
  /** without one the server keeps everything in memory */
  dbFilename?: string;
}

/** The namespace `npm run dev` and the tests' dev server add for campaign systems calling the service through Nexus. */
export const CAMPAIGNS_NAMESPACE = 'campaigns';

const CLI_TYPES: Record<string, string> = { KEYWORD: 'Keyword', KEYWORD_LIST: 'KeywordList' };

/**
 * Nexus calls of a worker that dies time out on the server, and more than five failures in a row
 * open the circuit breaker of the caller's namespace to the endpoint: every call waits out its
 * open period (one minute by default) even once another worker serves. Ten seconds, as in
 * docker-compose.yml: callers are answered about 25 s after the crash instead of 80 s.
 */
export const NEXUS_BREAKER_OPEN_PERIOD = '10s';

/** TEMPORAL_CLI_PATH, else `temporal` on PATH (absolute: the SDK refuses a bare name), else none. */
export function findTemporalCli(configured: string | undefined, searchPath = process.env.PATH ?? ''): string | undefined {
  if (configured) return path.resolve(configured);
  for (const dir of searchPath.split(path.delimiter).filter(Boolean)) {
    const candidate = path.resolve(dir, 'temporal');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/**
 * Starts a Temporal dev server with the project's search attributes: the CLI found on this
 * machine, or else the one the SDK downloads (which needs the internet).
 */
export async function startTemporalDevServer(options: DevServerOptions): Promise<LocalTemporal> {
  const uiUrl = options.uiPort === undefined ? undefined : `http://localhost:${options.uiPort}`;
  const address = `127.0.0.1:${options.port}`;
  const { stop, kill } = options.cliPath ? await spawnCli(options.cliPath, options) : await startDownloaded(options);
  return { address, uiUrl, stop, kill };
}

/** The flags the CLI and the SDK's download both get besides their own: the extra namespaces and the breaker's open period. */
function extraArgs(options: DevServerOptions): string[] {
  const extra = new Set(options.extraNamespaces);
  extra.delete(options.namespace);
  const namespaces = [...extra].flatMap((namespace) => ['--namespace', namespace]);
  const breaker = `history.outboundQueue.circuitBreakerSettings={"timeout": "${NEXUS_BREAKER_OPEN_PERIOD}"}`;
  return [...namespaces, '--dynamic-config-value', breaker];
}

async function spawnCli(cliPath: string, options: DevServerOptions): Promise<{ stop(): Promise<void>; kill(): Promise<void> }> {
  const args = [
    'server', 'start-dev',
    '--ip', '127.0.0.1',
    '--port', String(options.port),
    '--namespace', options.namespace,
    ...extraArgs(options),
    '--log-level', 'error',
    ...(options.uiPort === undefined ? ['--headless'] : ['--ui-port', String(options.uiPort)]),
    ...(options.dbFilename ? ['--db-filename', options.dbFilename] : []),
    ...SEARCH_ATTRIBUTES.flatMap((key) => ['--search-attribute', `${key.name}=${CLI_TYPES[key.type]}`]),
  ];
  const child = spawn(cliPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let errorOutput = '';
  child.stderr.on('data', (chunk: Buffer) => {
    errorOutput = (errorOutput + chunk.toString()).slice(-4000);
  });
  let stopping = false;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const exitReport = () => `the Temporal dev server (${cliPath}, port ${options.port}) exited (${child.exitCode ?? child.signalCode}): ${errorOutput.trim()}`;
  const failed = exited.then(() => {
    throw new Error(exitReport());
  });
  try {
    await Promise.race([servesNamespace(options.port, options.namespace, 60_000), failed]);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  // from here on, an exit is a stop, or else a fault whose cause only the server's stderr tells
  failed.catch((error: Error) => {
    if (!stopping) logger.error({ component: 'temporal' }, error.message);
  });
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  return {
    stop: async () => {
      stopping = true;
      if (gone()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
    kill: async () => {
      stopping = true;
      if (gone()) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * Waits until the frontend on 127.0.0.1:`port` answers for `namespace`: an open port alone may
 * belong to a server that is about to exit, or to another process.
 */
async function servesNamespace(port: number, namespace: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const address = `127.0.0.1:${port}`;
  await waitForPort(port, timeoutMs);
  for (;;) {
    try {
      // as the service connects: the SDK's call context would turn on promise hooks for the whole process
      const client = await connectClient(address, namespace);
      try {
        await client.workflowService.describeNamespace({ namespace });
        return;
      } finally {
        await client.connection.close();
      }
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`the Temporal dev server at ${address} does not answer for namespace ${namespace}: ${String(error)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

async function startDownloaded(options: DevServerOptions): Promise<{ stop(): Promise<void>; kill(): Promise<void> }> {
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'cached-download' },
      ip: '127.0.0.1',
      port: options.port,
      ui: options.uiPort !== undefined,
      uiPort: options.uiPort,
      namespace: options.namespace,
      dbFilename: options.dbFilename,
      searchAttributes: SEARCH_ATTRIBUTES,
      extraArgs: extraArgs(options),
    },
  });
  const stop = () => env.teardown();
  return { stop, kill: stop };
}

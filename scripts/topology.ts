// `npm run topology`: the service as production runs it, on one machine — PostgreSQL and a
// Temporal server (SQLite file) as processes of their own, two worker processes and two API
// processes. Prints the URLs, the token and the process ids to kill; Ctrl-C or SIGTERM stops it all.
//
//   TOPOLOGY_DIR   where the data goes (default ./.data/topology; kept between runs)
//   TOPOLOGY_WORKERS, TOPOLOGY_APIS   how many of each (default 2)
//   TOPOLOGY_API_PORT   the first API's port (default 3100; the next ones follow)
//   TOPOLOGY_TEMPORAL_PORT, TOPOLOGY_TEMPORAL_UI_PORT   (default 7243 and 8243)
//   PROMO_API_TOKENS   the token (default: one generated); other PROMO_* and LOG_LEVEL reach every process
import { randomBytes } from 'node:crypto';
import { chmod, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { startTopology, type Topology } from '../test/support/topology.js';

const number = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const dir = path.resolve(process.env.TOPOLOGY_DIR ?? './.data/topology');
const apis = number('TOPOLOGY_APIS', 2);
const firstApiPort = number('TOPOLOGY_API_PORT', 3100);
const token = process.env.PROMO_API_TOKENS?.split(',')[0]?.trim() || randomBytes(24).toString('base64url');

await mkdir(dir, { recursive: true });
if (process.getuid?.() === 0) await chmod(dir, 0o755).catch(() => {}); // PostgreSQL runs as the postgres user

let topology: Topology | undefined;
let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  process.stderr.write(`\n${signal}: stopping the APIs, the workers, Temporal and PostgreSQL…\n`);
  await topology?.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));

try {
  const started = Date.now();
  topology = await startTopology({
    dir,
    durable: true,
    workers: number('TOPOLOGY_WORKERS', 2),
    apiPorts: Array.from({ length: apis }, (_, i) => firstApiPort + i),
    temporalPort: number('TOPOLOGY_TEMPORAL_PORT', 7243),
    temporalUiPort: number('TOPOLOGY_TEMPORAL_UI_PORT', 8243),
    token,
    env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
  });
  if (stopping) await new Promise(() => {}); // a signal came while starting: stop() exits
  const t = topology;
  process.stdout.write(
    [
      '',
      `Promo codes topology is running (${((Date.now() - started) / 1000).toFixed(1)} s to start; Ctrl-C stops everything):`,
      ...t.apis.map((api) => `  API          ${api.baseUrl}/api   (pid ${api.pid()})`),
      `  Temporal     ${t.temporalAddress}   UI ${t.temporalUiUrl ?? '(headless)'}   SQLite ${path.join(dir, 'temporal.sqlite')}`,
      `  PostgreSQL   ${t.databaseUrl}   (postmaster pid ${t.postgres.pid()}, data ${path.join(dir, 'postgres')})`,
      ...t.workers.map((worker) => `  ${worker.name.padEnd(12)} pid ${worker.pid()}   task queue ${t.taskQueue}`),
      `  Token        ${token}`,
      '',
      `  curl -H 'Authorization: Bearer ${token}' ${t.apis[0]!.baseUrl}/api/groups`,
      '',
      '',
    ].join('\n'),
  );
} catch (error) {
  process.stderr.write(`the topology did not start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
}

import { mkdtemp, rm, writeFile, chmod } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestProject } from 'vitest/node';
import { createSql } from '../../src/db/client.js';
import { migrate } from '../../src/db/migrate.js';
import { startEmbeddedPostgres } from '../../src/local/embedded-postgres.js';
import { freePort } from '../../src/local/ports.js';
import { CAMPAIGNS_NAMESPACE, findTemporalCli, startTemporalDevServer } from '../../src/local/temporal-dev-server.js';
import { WORKFLOWS_PATH } from '../../src/worker/create-worker.js';
import { TEMPLATE_DATABASE } from './names.js';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    temporalAddress: string;
    workflowBundlePath: string;
  }
}

/** One throw-away PostgreSQL and Temporal dev server per run, on free ports, and one workflow bundle. */
export default async function setup(project: TestProject) {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'promo-test-'));
  await chmod(scratch, 0o755); // reachable by the postgres user when tests run as root
  const postgres = await startEmbeddedPostgres({ dataDir: path.join(scratch, 'postgres'), durable: false });
  const temporal = await startTemporal().catch((error: unknown) => {
    // once more on another port; the first failure stays in the run's output
    console.error(`retrying the Temporal dev server's start: ${String(error)}`);
    return startTemporal();
  });

  const admin = createSql(postgres.url, { max: 1 });
  await admin.unsafe(`create database ${TEMPLATE_DATABASE}`);
  await admin.end();
  const template = createSql(postgres.url.replace(/\/postgres$/, `/${TEMPLATE_DATABASE}`), { max: 1 });
  await migrate(template);
  await template.end();

  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietBundlerLogger });
  const workflowBundlePath = path.join(scratch, 'workflow-bundle.js');
  await writeFile(workflowBundlePath, code);

  project.provide('databaseUrl', postgres.url);
  project.provide('temporalAddress', temporal.address);
  project.provide('workflowBundlePath', workflowBundlePath);

  return async () => {
    await temporal.stop();
    await postgres.stop();
    await rm(scratch, { recursive: true, force: true });
  };
}

const startTemporal = async () =>
  startTemporalDevServer({
    cliPath: findTemporalCli(process.env.TEMPORAL_CLI_PATH),
    port: await freePort(),
    namespace: 'default',
    extraNamespaces: [CAMPAIGNS_NAMESPACE], // where the Nexus tests' callers run
  });

const quietBundlerLogger = {
  trace: () => {},
  debug: () => {},
  info: () => {},
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
  log: () => {},
};

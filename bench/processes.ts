import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { freePort } from '../src/local/ports.js';

/** A service process as deployed (`npm run api` / `npm run worker`), against the bench stack's servers. */
export interface ServiceProcess {
  child: ChildProcess;
  /** the API's base URL (…/api), for an API process */
  apiUrl: string;
  stop(): Promise<void>;
}

const ENTRY = { api: '../src/api/main.ts', worker: '../worker.ts' } as const;

/** Starts `npm run api` or `npm run worker` as a process of its own; answers once it serves (API) or polls its task queue (worker). */
export async function startService(kind: keyof typeof ENTRY, env: Record<string, string>): Promise<ServiceProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL(ENTRY[kind], import.meta.url))], {
    env: { ...process.env, PORT: String(port), LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    child.kill('SIGTERM');
    await exited;
  };
  if (kind === 'api') await ready(`http://127.0.0.1:${port}/healthz`);
  else await polling(env.TEMPORAL_ADDRESS!, env.TEMPORAL_TASK_QUEUE!);
  return { child, apiUrl: `http://127.0.0.1:${port}/api`, stop };
}

/** A field of /proc/<pid>/status in MB: VmRSS (now) or VmHWM (peak). */
export async function memoryMb(pid: number, field: 'VmRSS' | 'VmHWM'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1];
  if (!kb) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(kb) / 1024;
}

async function ready(url: string): Promise<void> {
  for (let attempt = 0; attempt < 300; attempt += 1) {
    const answered = await fetch(url).then((response) => response.ok, () => false);
    if (answered) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not answer`);
}

/** Waits until a worker polls the task queue for workflow tasks (it bundles its workflows first). */
async function polling(address: string, taskQueue: string): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    for (let attempt = 0; attempt < 600; attempt += 1) {
      const { pollers } = await connection.workflowService.describeTaskQueue({ namespace: 'default', taskQueue: { name: taskQueue }, taskQueueType: proto.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW });
      if (pollers.length > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`no worker polls task queue ${taskQueue}`);
  } finally {
    await connection.close();
  }
}

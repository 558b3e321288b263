// Renders templates on a few worker threads, so that no template blocks or kills the process that
// asks: this thread only posts jobs and collects results. Each thread's heap is capped; a thread
// that runs out of it, or spends too long on one message (it is then stopped), fails only the
// message it was on (it reports which before each) and is replaced; the rest go on.

import { Worker } from 'node:worker_threads';
import { attributeDepthProblem } from '../domain/attributes.js';
import type { RenderedMessage, TemplateCheck, TemplateSource } from '../domain/template.js';
import { BUDGET_EXCEEDED, DEFAULT_RENDER_LIMITS, type RenderLimits } from '../domain/template-budget.js';
import { dryRun } from './dry-run.js';
import type { JobResult, RenderFailure, RenderJob, RenderTask, ThreadData, ThreadMessage } from './render-protocol.js';

export type { RenderJob } from './render-protocol.js';

export type RenderOutcome = { ok: true; message: RenderedMessage } | { ok: false; error: string };

export interface RenderPool {
  /** Renders each job with the compiled template (compiled once per thread per template, cached), in order; never throws for a recipient's problem. */
  render(template: TemplateSource, jobs: readonly RenderJob[]): Promise<RenderOutcome[]>;
  /**
   * checkTemplate, and then a render with no recipient data: a template that exceeds its render
   * budget even so is invalid (e.g. `{% set a = a + a %}` thirty times). Errors that depend on
   * the data, like a missing attribute, are not reported.
   */
  check(template: TemplateSource): Promise<TemplateCheck>;
  close(): Promise<void>;
}

export interface RenderPoolOptions {
  threads: number;
  /** the interpreter's budget per message (template-budget.ts); DEFAULT_RENDER_LIMITS for the rest */
  limits?: Partial<RenderLimits>;
  /** old-generation heap of each thread */
  heapMb?: number;
  /** how long one message may take before its thread is stopped */
  messageTimeoutMs?: number;
}

const RECIPIENT_FAILED = 'the template failed for this recipient: ';

const DEFAULT_HEAP_MB = 128;
const DEFAULT_MESSAGE_TIMEOUT_MS = 1000;
// jobs a thread takes at once: a large batch spreads over the threads
const TASK_JOBS = 100;
const COMPILE_ALLOWANCE = 10;
const THREAD_ENTRY = new URL('./render-thread.mjs', import.meta.url);

interface Batch {
  template: TemplateSource;
  jobs: readonly RenderJob[];
  results: JobResult[];
  pending: number;
  settled: boolean;
  resolve(results: JobResult[]): void;
  reject(error: Error): void;
}

interface Task {
  id: number;
  batch: Batch;
  /** positions in the batch of the jobs it renders, in order */
  positions: number[];
  /** how many of them have their result */
  received: number;
}

interface Thread {
  worker: Worker;
  progress: Int32Array;
  ready: boolean;
  task?: Task | undefined;
  /** progress as the watchdog last saw it, and since when */
  seen: number;
  since: number;
  /** why it stopped: out of memory, stopped by the watchdog, ... */
  fate?: string;
}

export function createRenderPool(options: RenderPoolOptions): RenderPool {
  const limits: RenderLimits = { ...DEFAULT_RENDER_LIMITS, ...options.limits };
  const heapMb = options.heapMb ?? DEFAULT_HEAP_MB;
  const timeoutMs = options.messageTimeoutMs ?? DEFAULT_MESSAGE_TIMEOUT_MS;
  const threads = new Set<Thread>();
  const queue: Task[] = [];
  let nextTaskId = 1;
  let watchdog: NodeJS.Timeout | undefined;
  let closed = false;

  function run(template: TemplateSource, jobs: readonly RenderJob[]): Promise<JobResult[]> {
    if (closed) return Promise.reject(new Error('the render pool is closed'));
    if (jobs.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      const batch: Batch = { template, jobs, results: new Array<JobResult>(jobs.length), pending: jobs.length, settled: false, resolve, reject };
      const positions: number[] = [];
      jobs.forEach((job, position) => {
        // copying attributes to a thread recurses as deep as they nest
        const tooDeep = attributeDepthProblem(job.client.attributes);
        if (tooDeep) settle(batch, position, { ok: false, failure: { kind: 'render', field: 'attributes', reason: tooDeep } });
        else positions.push(position);
      });
      for (let from = 0; from < positions.length; from += TASK_JOBS) queue.push(newTask(batch, positions.slice(from, from + TASK_JOBS)));
      dispatch();
    });
  }

  function newTask(batch: Batch, positions: number[]): Task {
    return { id: nextTaskId++, batch, positions, received: 0 };
  }

  function dispatch(): void {
    for (const thread of threads) {
      while (thread.ready && !thread.task) {
        const task = nextTask();
        if (!task) return;
        assign(thread, task);
      }
    }
    const starting = [...threads].filter((thread) => !thread.ready).length;
    for (let i = starting; i < queue.length && threads.size < options.threads; i++) startThread();
  }

  function nextTask(): Task | undefined {
    let task = queue.shift();
    while (task?.batch.settled) task = queue.shift();
    return task;
  }

  /** Sends the task to the thread; the thread stays free if it cannot be sent. */
  function assign(thread: Thread, task: Task): void {
    thread.task = task;
    Atomics.store(thread.progress, 0, 0);
    thread.seen = 0;
    thread.since = performance.now();
    thread.worker.ref();
    const message: RenderTask = { id: task.id, template: task.batch.template, jobs: task.positions.map((p) => task.batch.jobs[p]!) };
    try {
      thread.worker.postMessage(message);
    } catch (error) {
      // something in the jobs that cannot be copied: the caller's mistake
      thread.task = undefined;
      thread.worker.unref();
      fail(task.batch, error instanceof Error ? error : new Error(String(error)));
      return;
    }
    watchdog ??= setInterval(watch, Math.min(timeoutMs / 4, 250)).unref();
  }

  function startThread(): void {
    const progress = new SharedArrayBuffer(4);
    const workerData: ThreadData = { limits, progress };
    const worker = new Worker(THREAD_ENTRY, {
      workerData,
      execArgv: [],
      resourceLimits: { maxOldGenerationSizeMb: heapMb },
    });
    const thread: Thread = { worker, progress: new Int32Array(progress), ready: false, seen: 0, since: 0 };
    threads.add(thread);
    worker.on('message', (message: ThreadMessage) => received(thread, message));
    worker.on('error', (error: Error & { code?: string }) => {
      thread.fate ??= error.code === 'ERR_WORKER_OUT_OF_MEMORY' ? `${BUDGET_EXCEEDED}: more than ${heapMb} MB of memory` : error.message;
    });
    worker.on('exit', () => exited(thread));
  }

  function received(thread: Thread, message: ThreadMessage): void {
    if (message.type === 'ready') {
      thread.ready = true;
      thread.worker.unref();
      return dispatch();
    }
    const task = thread.task;
    if (!task || task.id !== message.id) return;
    if (message.type === 'failed') {
      fail(task.batch, new Error(`rendering failed: ${message.error}`));
    } else {
      for (const result of message.results) settle(task.batch, task.positions[task.received++]!, result);
      if (!message.done) return;
    }
    thread.task = undefined;
    thread.worker.unref();
    dispatch();
  }

  function exited(thread: Thread): void {
    threads.delete(thread);
    if (closed) return;
    const fate = thread.fate ?? 'the render thread stopped';
    if (!thread.ready) {
      // it never loaded: another would fail the same way
      for (const task of queue.splice(0)) fail(task.batch, new Error(`a render thread failed to start: ${fate}`));
      return;
    }
    if (thread.task) blame(thread.task, Atomics.load(thread.progress, 0) - 1, fate);
    dispatch();
  }

  /** The job at `index` of the task took its thread down; the task's other unfinished jobs go again. */
  function blame(task: Task, index: number, reason: string): void {
    const culprit = task.positions[Math.max(index, task.received)]!;
    const failure: RenderFailure = { kind: 'limit', reason };
    settle(task.batch, culprit, { ok: false, failure });
    const rest = task.positions.slice(task.received).filter((position) => position !== culprit);
    if (rest.length > 0 && !task.batch.settled) queue.unshift(newTask(task.batch, rest));
  }

  function settle(batch: Batch, position: number, result: JobResult): void {
    if (batch.settled) return;
    batch.results[position] = result;
    if (--batch.pending > 0) return;
    batch.settled = true;
    batch.resolve(batch.results);
  }

  function fail(batch: Batch, error: Error): void {
    if (batch.settled) return;
    batch.settled = true;
    batch.reject(error);
  }

  function watch(): void {
    const now = performance.now();
    let busy = false;
    for (const thread of threads) {
      if (!thread.task || thread.fate) continue;
      busy = true;
      const progress = Atomics.load(thread.progress, 0);
      // before the first job the thread compiles the template: a few hundred ms for the largest
      const limit = progress === 0 ? timeoutMs * COMPILE_ALLOWANCE : timeoutMs;
      if (progress !== thread.seen) {
        thread.seen = progress;
        thread.since = now;
      } else if (now - thread.since > limit) {
        thread.fate = `${BUDGET_EXCEEDED}: took longer than ${timeoutMs} ms`;
        void thread.worker.terminate();
      }
    }
    if (!busy) {
      clearInterval(watchdog);
      watchdog = undefined;
    }
  }

  return {
    async render(template, jobs) {
      const results = await run(template, jobs);
      return results.map((result): RenderOutcome => (result.ok ? result : { ok: false, error: RECIPIENT_FAILED + describe(result.failure) }));
    },
    check: (template) => dryRun(run, template),
    async close() {
      closed = true;
      clearInterval(watchdog);
      for (const task of queue.splice(0)) fail(task.batch, new Error('the render pool is closed'));
      const stopping = [...threads].map(async (thread) => {
        if (thread.task) fail(thread.task.batch, new Error('the render pool is closed'));
        await thread.worker.terminate();
      });
      await Promise.all(stopping);
    },
  };
}

function describe({ field, reason }: RenderFailure): string {
  return field ? `${field}: ${reason}` : reason;
}

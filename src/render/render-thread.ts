// A render thread: compiles each template once and renders the jobs the pool sends, reporting
// before each job which one it is on, so that the pool knows whose render killed the thread.

import { parentPort, workerData } from 'node:worker_threads';
import { type CompiledTemplate, compileTemplate, TemplateBudgetError, TemplateRenderError, type TemplateSource } from '../domain/template.js';
import type { JobResult, RenderJob, RenderTask, ThreadData, ThreadMessage } from './render-protocol.js';

const TEMPLATES_KEPT = 16;
// results go back in parts once this much text has piled up, so a batch of large messages never sits in one heap
const FLUSH_CHARS = 4_000_000;

const { limits, progress: progressBuffer } = workerData as ThreadData;
const progress = new Int32Array(progressBuffer);
const compiled = new Map<string, CompiledTemplate>();
const port = parentPort!;
const post = (message: ThreadMessage): void => port.postMessage(message);

port.on('message', (task: RenderTask) => {
  try {
    const template = compiledTemplate(task.template);
    let results: JobResult[] = [];
    let chars = 0;
    task.jobs.forEach((job, i) => {
      Atomics.store(progress, 0, i + 1);
      const result = renderJob(template, job);
      results.push(result);
      if (result.ok) chars += result.message.body.length + (result.message.subject?.length ?? 0);
      if (chars < FLUSH_CHARS) return;
      post({ type: 'results', id: task.id, results, done: false });
      results = [];
      chars = 0;
    });
    post({ type: 'results', id: task.id, results, done: true });
  } catch (error) {
    post({ type: 'failed', id: task.id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  }
});
post({ type: 'ready' });

function compiledTemplate(source: TemplateSource): CompiledTemplate {
  const key = JSON.stringify([source.subject, source.body]);
  let template = compiled.get(key);
  if (!template) {
    if (compiled.size >= TEMPLATES_KEPT) compiled.delete(compiled.keys().next().value!);
    template = compileTemplate(source, limits);
    compiled.set(key, template);
  }
  return template;
}

function renderJob(template: CompiledTemplate, job: RenderJob): JobResult {
  try {
    return { ok: true, message: template.render(job.client, job.codes) };
  } catch (error) {
    if (!(error instanceof TemplateRenderError)) throw error;
    const kind = error instanceof TemplateBudgetError ? 'limit' : 'render';
    return { ok: false, failure: { kind, field: error.field, reason: error.reason } };
  }
}

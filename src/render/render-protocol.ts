// Messages between the render pool (render-pool.ts) and its threads (render-thread.ts): plain
// data only, copied by structured clone.

import type { CodeLookup, RecipientContext, RenderedMessage, TemplateSource } from '../domain/template.js';
import type { RenderLimits } from '../domain/template-budget.js';

export interface RenderJob {
  client: RecipientContext;
  codes: CodeLookup;
}

export interface ThreadData {
  limits: RenderLimits;
  /** [index + 1 of the job being rendered in the current task], 0 before the first */
  progress: SharedArrayBuffer;
}

export interface RenderTask {
  id: number;
  template: TemplateSource;
  jobs: RenderJob[];
}

/** Why a job has no message. `limit` failures are the template's doing whatever the data. */
export interface RenderFailure {
  kind: 'render' | 'limit';
  field?: 'subject' | 'body' | 'attributes' | undefined;
  reason: string;
}

export type JobResult = { ok: true; message: RenderedMessage } | { ok: false; failure: RenderFailure };

export type ThreadMessage =
  | { type: 'ready' }
  /** results of the task's next jobs, in order; `done` with the last */
  | { type: 'results'; id: number; results: JobResult[]; done: boolean }
  /** the task failed as a whole: a bug, not a recipient's problem */
  | { type: 'failed'; id: number; error: string };

import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import type { Sql } from '../db/client.js';
import { finishJob } from '../db/jobs.js';
import type { Logger } from '../logger.js';

/**
 * Jobs whose workflow cannot end them any more: the process that recorded the job stopped
 * before starting its workflow, or an operator terminated the workflow in the Temporal UI.
 * Each pass fails the running jobs (older than `minAgeSeconds`) whose workflow has closed;
 * one whose workflow does not exist is failed when a later pass finds it missing again, since
 * an upload's job row becomes visible only a moment before its workflow starts.
 * Returns the ids missing this time, to pass to the next pass.
 */
export async function reconcileJobs(
  deps: { sql: Sql; temporal: Client },
  missingBefore: ReadonlySet<string>,
  minAgeSeconds: number,
): Promise<Set<string>> {
  const jobs = await deps.sql<{ id: string; workflowId: string }[]>`
    select id, workflow_id from job
     where status = 'running' and created_at < now() - make_interval(secs => ${minAgeSeconds})`;
  const missing = new Set<string>();
  for (const job of jobs) {
    const state = await workflowState(deps.temporal, job.workflowId);
    if (state === 'RUNNING') continue;
    if (state === 'missing') {
      if (missingBefore.has(job.id)) await fail(deps.sql, job.id, "The job's workflow never started (the API stopped before starting it); nothing more will be added.");
      else missing.add(job.id);
    } else {
      await fail(deps.sql, job.id, `The job's workflow ended (${state}) without finishing the job; what it added stays.`);
    }
  }
  return missing;
}

async function workflowState(temporal: Client, workflowId: string): Promise<string> {
  try {
    return (await temporal.workflow.getHandle(workflowId).describe()).status.name;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return 'missing';
    throw error;
  }
}

const fail = (sql: Sql, id: string, reason: string) => finishJob(sql, id, { status: 'failed', reason });

/** Runs reconcileJobs every `intervalSeconds` (jobs at least that old) until stopped; a failed pass is logged and retried next time. */
export function startJobReconciler(deps: { sql: Sql; temporal: Client; logger: Logger }, intervalSeconds = 60): { stop(): void } {
  let missing = new Set<string>();
  const timer = setInterval(() => {
    reconcileJobs(deps, missing, intervalSeconds).then(
      (next) => {
        missing = next;
      },
      (error: unknown) => deps.logger.warn({ err: error }, 'reconciling jobs failed'),
    );
  }, intervalSeconds * 1000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

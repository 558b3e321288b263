import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import type { Sql } from '../db/client.js';
import { finishJob } from '../db/jobs.js';
import { finishMailing } from '../db/mailing-delivery.js';
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

/**
 * Mailings still reserving or sending whose workflow closed without ending them (an operator
 * terminated it) are failed and settled by their recipients' states (`finishMailing`): those
 * being sent keep their codes (`unknown`), the codes of those never attempted return to active.
 * No time has to pass first: a batch of the closed run that is still alive can claim no one
 * once the mailing has ended, and what it was sending stays issued. Returns their ids.
 */
export async function reconcileMailings(deps: { sql: Sql; temporal: Client }): Promise<string[]> {
  const mailings = await deps.sql<{ publicId: string; workflowId: string }[]>`
    select public_id, workflow_id from mailing where status in ('reserving', 'sending')`;
  const ended: string[] = [];
  for (const mailing of mailings) {
    const workflow = await describe(deps.temporal, mailing.workflowId);
    if (!workflow?.closeTime) continue;
    const detail = `The mailing's workflow ended (${workflow.status.name}) without finishing it; recipients being sent kept their codes (unknown), the others' codes were released.`;
    await finishMailing(deps.sql, mailing.publicId, 'failed', { code: 'workflow_ended', detail });
    ended.push(mailing.publicId);
  }
  return ended;
}

async function describe(temporal: Client, workflowId: string) {
  try {
    return await temporal.workflow.getHandle(workflowId).describe();
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return undefined;
    throw error;
  }
}

async function workflowState(temporal: Client, workflowId: string): Promise<string> {
  return (await describe(temporal, workflowId))?.status.name ?? 'missing';
}

const fail = (sql: Sql, id: string, reason: string) => finishJob(sql, id, { status: 'failed', reason });

/**
 * Runs reconcileJobs (jobs at least `intervalSeconds` old) and reconcileMailings every
 * `intervalSeconds` until stopped; a failed pass is logged and tried again next time.
 */
export function startReconciler(deps: { sql: Sql; temporal: Client; logger: Logger }, intervalSeconds = 60): { stop(): void } {
  let missing = new Set<string>();
  const pass = async () => {
    missing = await reconcileJobs(deps, missing, intervalSeconds);
    const ended = await reconcileMailings(deps);
    if (ended.length > 0) deps.logger.warn({ mailings: ended }, 'mailings whose workflow had ended were failed and settled');
  };
  const timer = setInterval(() => {
    pass().catch((error: unknown) => deps.logger.warn({ err: error }, 'reconciling jobs and mailings failed'));
  }, intervalSeconds * 1000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

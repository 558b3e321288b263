import type { Client } from '@temporalio/client';
import { finishJob, type JobRecord } from '../db/jobs.js';
import type { Group } from '../db/groups.js';
import type { Sql } from '../db/client.js';
import type { GenerateCodesWorkflow } from '../workflows/generate-codes.js';
import { PromoGroup, PromoJobKind } from './search-attributes.js';

const WORKFLOW_TYPES = { generate: 'GenerateCodesWorkflow', import: 'ImportCodesWorkflow' } as const;

/**
 * Starts the workflow of a job that was just recorded. Operators find it in the Temporal UI by
 * group id or name (PromoGroup) and kind (PromoJobKind). A job whose workflow cannot start ends failed.
 */
export async function startJobWorkflow(
  deps: { sql: Sql; temporal: Client; taskQueue: string },
  job: JobRecord,
  group: Group,
  summary: string,
  lanes?: number,
): Promise<void> {
  try {
    await deps.temporal.workflow.start<typeof GenerateCodesWorkflow>(WORKFLOW_TYPES[job.kind], {
      workflowId: job.workflowId,
      taskQueue: deps.taskQueue,
      args: [{ jobId: job.id, lanes }],
      typedSearchAttributes: [
        { key: PromoGroup, value: [group.id, group.name] },
        { key: PromoJobKind, value: job.kind },
      ],
      staticSummary: summary,
      staticDetails: `Job ${job.id} on group "${group.name}" (id ${group.id}). Progress: query \`progress\`, or GET /api/jobs/${job.id}.`,
    });
  } catch (error) {
    await finishJob(deps.sql, job.id, { status: 'failed', reason: `The job's workflow could not start: ${(error as Error).message}` });
    throw error;
  }
}

import type { Client } from '@temporalio/client';
import type { Sql } from '../db/client.js';
import { createGenerationJob, generationCapacity } from '../db/generation.js';
import { type Group, updateGroup } from '../db/groups.js';
import { stageImport } from '../db/imports.js';
import { finishJob, type JobReason, type JobRecord } from '../db/jobs.js';
import { ValidationError } from '../domain/errors.js';
import type { ParsedFormat } from '../domain/format.js';
import { requireValidFormat } from '../domain/format-field.js';
import type { ImportFormat } from '../domain/import-file.js';
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
    // by name: the workflows' types would make an import cycle through the activities that start refills
    await deps.temporal.workflow.start(WORKFLOW_TYPES[job.kind], {
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

/**
 * The parsed format of a generation of `quantity` codes from `source` (the given format or the
 * group's), or a 400 on field `format` (none, or invalid) or `quantity` (more than it can still produce).
 */
export async function checkGeneration(sql: Sql, source: string | null, quantity: number): Promise<ParsedFormat> {
  if (source === null) {
    throw new ValidationError('The group has no format yet; give one.', [{ path: 'format', message: 'required: the group has no format' }]);
  }
  const format = requireValidFormat(source);
  const capacity = await generationCapacity(sql, format);
  if (quantity > capacity) {
    throw new ValidationError(`The format can produce at most ${capacity} more new codes.`, [
      { path: 'quantity', message: `at most ${capacity} more codes can be generated from ${source}` },
    ]);
  }
  return format;
}

/**
 * Records a generation job of a checked format (checkGeneration) into the group and starts its
 * workflow; a format other than the group's becomes the group's format for later generations.
 */
export async function startGeneration(
  deps: { sql: Sql; temporal: Client; taskQueue: string; generationLanes: number },
  given: Group,
  format: ParsedFormat,
  quantity: number,
  reason: JobReason = 'request',
): Promise<JobRecord> {
  const group = format.source === given.format ? given : await updateGroup(deps.sql, given.id, { format: format.source });
  const { job, lanes } = await createGenerationJob(deps.sql, { groupId: group.id, requested: quantity, format, maxLanes: deps.generationLanes, reason });
  const what = reason === 'autoRefill' ? 'Auto-refill: generate' : 'Generate';
  await startJobWorkflow(deps, job, group, `${what} ${quantity.toLocaleString('en')} codes of ${format.source} into "${group.name}"`, lanes);
  return job;
}

/** Stages a file's lines as an import job into the group (streamed: see stageImport) and starts its workflow. */
export async function startImport(
  deps: { sql: Sql; temporal: Client; taskQueue: string },
  group: Group,
  format: ImportFormat,
  chunks: AsyncIterable<Uint8Array>,
): Promise<JobRecord> {
  const job = await stageImport(deps.sql, group.id, format, chunks);
  await startJobWorkflow(deps, job, group, `Import ${job.requested.toLocaleString('en')} lines (${format}) into "${group.name}"`);
  return job;
}

import { NotFoundError } from '../domain/errors.js';
import { DEFAULT_PAGE_SIZE, type Page, toPage } from '../domain/pagination.js';
import type { Sql, TransactionSql } from './client.js';
import { isId } from './ids.js';
import { dropStaging, lockStagingTable } from './import-staging.js';

export type JobKind = 'generate' | 'import';
export type JobStatus = 'running' | 'completed' | 'failed' | 'cancelled';
/** why a job runs: asked for, or started by housekeeping to top its group up */
export type JobReason = 'request' | 'autoRefill';

// a type, not an interface: it is passed as JSON, which needs an index signature
export type JobProblem = {
  line?: number;
  value?: string;
  reason: string;
};

export interface Job {
  id: string;
  kind: JobKind;
  groupId: string;
  status: JobStatus;
  reason: JobReason;
  requested: number;
  processed: number;
  added: number;
  duplicates: number;
  invalid: number;
  errors: JobProblem[];
  workflowId: string;
  createdAt: string;
  finishedAt: string | null;
}

/** At most this many problems are kept per job; the counts stay complete. */
export const MAX_JOB_PROBLEMS = 1000;

interface JobRow {
  id: string;
  kind: JobKind;
  groupId: string;
  status: JobStatus;
  reason: JobReason;
  format: string | null;
  requested: string;
  processed: string;
  added: string;
  duplicates: string;
  invalid: string;
  errors: JobProblem[];
  workflowId: string;
  createdAt: Date;
  finishedAt: Date | null;
}

export interface JobRecord extends Job {
  format: string | null;
}

const toJob = ({ format, ...row }: JobRow): JobRecord => ({
  ...row,
  format,
  requested: Number(row.requested),
  processed: Number(row.processed),
  added: Number(row.added),
  duplicates: Number(row.duplicates),
  invalid: Number(row.invalid),
  createdAt: row.createdAt.toISOString(),
  finishedAt: row.finishedAt?.toISOString() ?? null,
});

/** The public shape: what the API answers. */
export const publicJob = ({ format: _format, ...job }: JobRecord): Job => job;

export async function createJob(
  tx: TransactionSql,
  job: { kind: JobKind; groupId: string; requested: number; format?: string | null; reason?: JobReason },
): Promise<JobRecord> {
  // the workflow id derives from the row id, so one statement fixes both
  const [row] = await tx<JobRow[]>`
    with next as (select nextval(pg_get_serial_sequence('job', 'id')) as id)
    insert into job (id, kind, group_id, requested, format, reason, workflow_id)
    overriding system value
    select id, ${job.kind}, ${job.groupId}, ${job.requested}, ${job.format ?? null}, ${job.reason ?? 'request'}, ${`${job.kind}-`} || id from next
    returning *`;
  return toJob(row!);
}

export async function getJob(sql: Sql | TransactionSql, id: string): Promise<JobRecord> {
  const rows = isId(id) ? await sql<JobRow[]>`select * from job where id = ${id}` : [];
  if (!rows[0]) throw new NotFoundError(`There is no job with id ${id}.`);
  return toJob(rows[0]);
}

export async function listJobs(sql: Sql, options: { groupId?: string | undefined; limit?: number; beforeId?: string | undefined }): Promise<Page<Job>> {
  const limit = options.limit ?? DEFAULT_PAGE_SIZE;
  if (options.groupId !== undefined && !isId(options.groupId)) return { items: [], nextCursor: null };
  const rows = await sql<JobRow[]>`
    select * from job
     where true
       ${options.groupId ? sql`and group_id = ${options.groupId}` : sql``}
       ${options.beforeId ? sql`and id < ${options.beforeId}` : sql``}
     order by id desc limit ${limit + 1}`;
  return toPage(rows, limit, (row) => publicJob(toJob(row)), (row) => row.id);
}

export interface BatchOutcome {
  job: JobRecord;
  done: boolean;
}

/** Thrown inside a batch's transaction when its job stopped running (cancelled, failed) while it worked. */
export class JobEnded extends Error {}

/**
 * Runs one batch of a job in one transaction; a batch that finds its job ended (by throwing
 * JobEnded) is rolled back, and its lane is done.
 */
export async function jobBatch(sql: Sql, jobId: string, work: (tx: TransactionSql) => Promise<BatchOutcome>): Promise<BatchOutcome> {
  try {
    return await sql.begin(work);
  } catch (error) {
    if (error instanceof JobEnded) return { job: await getJob(sql, jobId), done: true };
    throw error;
  }
}

export interface BatchCounts {
  processed: number;
  added: number;
  duplicates: number;
  invalid?: number;
  /** the batch's problems in line order, at most MAX_JOB_PROBLEMS */
  problems?: JobProblem[];
}

/**
 * Adds a batch's counts to its job, last in the batch's transaction (the job row stays locked
 * only until the commit), and merges its problems into the job's first ones by line. A job
 * that stopped running meanwhile throws JobEnded, which rolls the batch back.
 */
export async function addBatchToJob(tx: TransactionSql, jobId: string, counts: BatchCounts): Promise<JobRecord> {
  const problems = counts.problems ?? [];
  const [row] = await tx<JobRow[]>`
    update job
       set processed = processed + ${counts.processed}, added = added + ${counts.added},
           duplicates = duplicates + ${counts.duplicates}, invalid = invalid + ${counts.invalid ?? 0},
           -- the first problems by line, whichever lane found them
           errors = case when ${problems.length} = 0 then errors else (
             select coalesce(jsonb_agg(e order by (e ->> 'line')::bigint), '[]') from (
               select e from jsonb_array_elements(errors || ${tx.json(problems)}) e
                order by (e ->> 'line')::bigint limit ${MAX_JOB_PROBLEMS}) head) end
     where id = ${jobId} and status = 'running'
    returning *`;
  if (!row) throw new JobEnded();
  return toJob(row);
}

export interface JobOutcome {
  status: Exclude<JobStatus, 'running'>;
  reason?: string;
}

/** Ends a running job, and drops what an import staged; a job that has ended already stays as it is. */
export async function finishJob(sql: Sql, id: string, outcome: JobOutcome): Promise<JobRecord> {
  const problem = outcome.reason ? [{ reason: outcome.reason }] : [];
  await sql.begin(async (tx) => {
    const staged = await lockStagingTable(tx, id);
    await tx`
      update job
         set status = ${outcome.status}, finished_at = now(),
             errors = case when jsonb_array_length(errors) < ${MAX_JOB_PROBLEMS}
                           then errors || ${tx.json(problem)} else errors end
       where id = ${id} and status = 'running'`;
    if (staged) await dropStaging(tx, id);
  });
  return getJob(sql, id);
}

import { type FileValue, ImportFileParser, type ImportFormat } from '../domain/import-file.js';
import { IMPORT_LANES, laneOf } from '../domain/import-lanes.js';
import type { Sql, TransactionSql } from './client.js';
import { copyField, copyFrom } from './copy.js';
import { lockGroup } from './groups.js';
import { type BatchOutcome, createJob, getJob, jobBatch, JobEnded, type JobRecord, MAX_JOB_PROBLEMS } from './jobs.js';

/** The job row's copy of a problem keeps this much of the value; the rejects table keeps it whole. */
const PROBLEM_VALUE_LENGTH = 200;
/** Advisory lock class of an import lane: one batch at a time per (job, lane), retries included. */
const LANE_LOCK_CLASS = 7_244_015;

/** The staged lines of a running import are gone: PostgreSQL restarted after a crash and emptied the unlogged staging table. */
export class StagedLinesLostError extends Error {}

/**
 * Records an import job and stages the file's lines (COPY into import_line) while the bytes
 * arrive, all in one transaction: a file that fails to arrive, is too large or is not a
 * valid CSV leaves nothing behind. `requested` becomes the number of staged lines.
 */
export async function stageImport(sql: Sql, groupId: string, format: ImportFormat, chunks: AsyncIterable<Uint8Array>): Promise<JobRecord> {
  return sql.begin(async (tx) => {
    const job = await createJob(tx, { kind: 'import', groupId, requested: 0 });
    const parser = new ImportFileParser(format);
    let staged = 0;
    async function* rows() {
      for await (const chunk of chunks) yield parser.push(chunk);
      yield parser.end();
    }
    async function* copyText() {
      for await (const values of rows()) {
        staged += values.length;
        if (values.length > 0) yield copyRows(job.id, values);
      }
    }
    // backpressure from the database to the body, and an error on either side ends both
    await copyFrom(tx`copy import_line (job_id, lane, line, value, problem) from stdin`, copyText());
    await tx`update job set requested = ${staged} where id = ${job.id}`;
    return { ...job, requested: staged };
  });
}

/** COPY text format: tab-separated columns, backslash escapes, \N for null. */
function copyRows(jobId: string, values: FileValue[]): string {
  let text = '';
  for (const { line, value, problem } of values) {
    text += `${jobId}\t${laneOf(value)}\t${line}\t${copyField(value)}\t${problem ? copyField(problem) : '\\N'}\n`;
  }
  return text;
}

interface SliceResult {
  processed: string;
  upto: string | null;
  added: string;
  invalid: string;
  problems: { line: number; value: string; reason: string }[];
}

/**
 * One step of an import job, in one transaction, on one lane: takes the lane's staged lines
 * among the next `batchSize × IMPORT_LANES` lines of the file (about `batchSize`); adds the valid new codes to the group (the first occurrence in
 * the file wins: equal values share a lane, taken in line order); records every rejected line;
 * adds it all to the job's counts; deletes the lines. A retried batch sees only what is left.
 *
 * Lock order, so that nothing waits in a circle: the group (shared, then the counters
 * trigger), the job row, and the lane's staged lines last — ending a job deletes its staged
 * lines while holding the job row.
 */
export async function importBatch(sql: Sql, jobId: string, lane: number, batchSize: number, heartbeat: () => void): Promise<BatchOutcome> {
  return jobBatch(sql, jobId, async (tx) => {
    await tx`select pg_advisory_xact_lock(${LANE_LOCK_CLASS}, hashint8(${jobId}::bigint * 64 + ${lane}))`;
    const job = await getJob(tx, jobId);
    if (job.status !== 'running') return { job, done: true };
    await lockGroup(tx, job.groupId, 'shared');
    const [slice] = await tx<SliceResult[]>`
      with slice as materialized (
        select line, value, problem, min(line) over (partition by value) as first_line
          from import_line
         where job_id = ${jobId} and lane = ${lane}
           -- a range of line numbers: without statistics on freshly staged lines, a LIMIT here
           -- made the planner read and sort the whole lane to find where the batch ends
           and line < (select line from import_line where job_id = ${jobId} and lane = ${lane} order by line limit 1) + ${batchSize * IMPORT_LANES}
      ), added as (
        insert into promo_code (group_id, code, job_id)
        select ${job.groupId}, value, ${jobId} from slice where problem is null and line = first_line order by line
        on conflict (code) do nothing
        returning code
      ), rejected as (
        -- the statement's snapshot holds the codes of earlier batches, not the ones just added
        insert into import_reject (job_id, line, value, reason)
        select ${jobId}, s.line, s.value, case
                 when s.problem is not null then s.problem
                 when s.line <> s.first_line then 'duplicate of line ' || s.first_line
                 when exists (select 1 from promo_code p where p.code = s.value and p.job_id = ${jobId}) then 'duplicate of an earlier line'
                 else 'already stored' end
          from slice s
         where s.problem is not null or s.line <> s.first_line or s.value not in (select code from added)
        returning line, value, reason
      )
      select (select count(*) from slice) as processed,
             (select max(line) from slice) as upto,
             (select count(*) from added) as added,
             (select count(*) from slice where problem is not null) as invalid,
             (select coalesce(jsonb_agg(jsonb_build_object('line', line, 'value', left(value, ${PROBLEM_VALUE_LENGTH}), 'reason', reason) order by line), '[]')
                from (select * from rejected order by line limit ${MAX_JOB_PROBLEMS}) head) as problems`;
    heartbeat();
    const { processed, upto, added, invalid, problems } = slice!;
    if (upto === null) {
      await assertStagedLinesKept(tx, jobId);
      return { job, done: true };
    }
    const ended = await tx`
      update job
         set processed = processed + ${processed}, added = added + ${added}, invalid = invalid + ${invalid},
             duplicates = duplicates + ${Number(processed) - Number(added) - Number(invalid)},
             -- the first problems by line, whichever lane found them
             errors = case when ${problems.length} = 0 then errors else (
               select coalesce(jsonb_agg(e order by (e ->> 'line')::bigint), '[]') from (
                 select e from jsonb_array_elements(errors || ${tx.json(problems)}) e
                  order by (e ->> 'line')::bigint limit ${MAX_JOB_PROBLEMS}) head) end
       where id = ${jobId} and status = 'running'`;
    if (ended.count === 0) throw new JobEnded();
    await tx`delete from import_line where job_id = ${jobId} and lane = ${lane} and line <= ${upto}`;
    const [rest] = await tx`select 1 from import_line where job_id = ${jobId} and lane = ${lane} limit 1`;
    return { job: await getJob(tx, jobId), done: rest === undefined };
  });
}

/** A lane found nothing staged: fine unless every lane did while the job still misses lines. */
async function assertStagedLinesKept(sql: TransactionSql, jobId: string): Promise<void> {
  // one statement, one snapshot: another lane's batch is either wholly visible or not at all
  const [row] = await sql<{ missing: string; requested: string; staged: boolean }[]>`
    select requested - processed as missing, requested, exists (select 1 from import_line where job_id = id) as staged
      from job where id = ${jobId} and status = 'running'`;
  if (row && !row.staged && Number(row.missing) > 0) {
    throw new StagedLinesLostError(
      `${row.missing} of the file's ${row.requested} lines were lost before they were imported (the database restarted after a crash); ` +
        'upload the file again: the codes already added stay, and count as duplicates then.',
    );
  }
}

export interface RejectedLine {
  line: number;
  value: string;
  reason: string;
}

/** Every rejected line of a job in line order, a chunk at a time; an unknown job throws before the first chunk. */
export async function* importRejects(sql: Sql, jobId: string): AsyncGenerator<RejectedLine[]> {
  await getJob(sql, jobId);
  const cursor = sql<{ line: string; value: string; reason: string }[]>`
    select line, value, reason from import_reject where job_id = ${jobId} order by line`.cursor(5000);
  for await (const rows of cursor) yield rows.map((row) => ({ ...row, line: Number(row.line) }));
}

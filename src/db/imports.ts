import type { PendingQuery, Row } from 'postgres';
import { type FileValue, ImportFileParser, type ImportFormat } from '../domain/import-file.js';
import { IMPORT_LANES, laneOfHash, valueHash } from '../domain/import-lanes.js';
import { SeenValues } from '../domain/seen-values.js';
import type { Sql, TransactionSql } from './client.js';
import { type CodeOwner, unlessStored } from './codes.js';
import { copyField, copyFrom, copyNullable } from './copy.js';
import { lockGroup } from './groups.js';
import { createStagingTable, stagingTable } from './import-staging.js';
import { addBatchToJob, type BatchOutcome, createJob, getJob, jobBatch, JobEnded, type JobRecord, MAX_JOB_PROBLEMS } from './jobs.js';

/** The job row's copy of a problem keeps this much of the value; the rejects table keeps it whole. */
const PROBLEM_VALUE_LENGTH = 200;
/** Advisory lock class of an import lane: one batch at a time per (job, lane), retries included. */
const LANE_LOCK_CLASS = 7_244_015;

/** The staged lines of a running import are gone: PostgreSQL restarted after a crash and emptied the unlogged staging table. */
export class StagedLinesLostError extends Error {}

/**
 * Records an import job and stages the file's lines (COPY into the job's staging table) while
 * the bytes arrive, all in one transaction: a file that fails to arrive, is too large or is not
 * a valid CSV leaves nothing behind. `requested` becomes the number of staged lines.
 */
export async function stageImport(sql: Sql, groupId: string, format: ImportFormat, chunks: AsyncIterable<Uint8Array>): Promise<JobRecord> {
  return sql.begin(async (tx) => {
    const job = await createJob(tx, { kind: 'import', groupId, requested: 0 });
    await createStagingTable(tx, job.id);
    const parser = new ImportFileParser(format);
    const seen = new SeenValues();
    let staged = 0;
    async function* rows() {
      for await (const chunk of chunks) yield parser.push(chunk);
      yield parser.end();
    }
    async function* copyText() {
      for await (const values of rows()) {
        staged += values.length;
        if (values.length > 0) yield copyRows(values, seen);
      }
    }
    // backpressure from the database to the body, and an error on either side ends both
    await copyFrom(tx`copy ${tx(stagingTable(job.id))} (lane, line, value, problem, seen) from stdin`, copyText());
    await tx`update job set requested = ${staged} where id = ${job.id}`;
    return { ...job, requested: staged };
  });
}

/** COPY text format: tab-separated columns, backslash escapes, \N for null. A valid value is `seen` when it may be on an earlier line. */
function copyRows(values: FileValue[], seen: SeenValues): string {
  let text = '';
  for (const { line, value, problem } of values) {
    const hash = valueHash(value);
    const repeat = !problem && seen.add(hash);
    text += `${laneOfHash(hash)}\t${line}\t${copyField(value)}\t${copyNullable(problem)}\t${repeat ? 't' : 'f'}\n`;
  }
  return text;
}

/** A rejected line as the job's problems show it: its value cut to PROBLEM_VALUE_LENGTH characters. */
interface Problem {
  line: number;
  value: string;
  reason: string;
}

/**
 * One step of an import job, in one transaction, on one lane: takes the lane's staged lines
 * on the next pages of the staging table (pages of about `batchSize × IMPORT_LANES` lines, so
 * about `batchSize` of the lane); adds the valid new codes to the group (the first occurrence
 * in the file wins: equal values share a lane, and its batches go in line order); records
 * every rejected line; adds it all to the job's counts; moves the lane's position
 * (import_lane) past those pages. A retried batch starts at the position, and so sees only
 * what is left.
 *
 * The staging table (src/db/import-staging.ts) holds the lines in line order and never
 * changes: a range of pages is a range of lines, read without an index, and its cost does not
 * grow with the file. The lines never travel to the worker: statements move them from there
 * to promo_code and import_reject, and only the counts and the first problems come back.
 *
 * Lock order, so that nothing waits in a circle: the group (shared, then the counters
 * trigger), the staging table, the job row — ending a job (finishJob) takes the staging
 * table, then the job row.
 */
export async function importBatch(sql: Sql, jobId: string, lane: number, batchSize: number, heartbeat: () => void): Promise<BatchOutcome> {
  return jobBatch(sql, jobId, async (tx) => {
    await tx`select pg_advisory_xact_lock(${LANE_LOCK_CLASS}, hashint8(${jobId}::bigint * 64 + ${lane}))`;
    const job = await getJob(tx, jobId);
    if (job.status !== 'running') return { job, done: true };
    await lockGroup(tx, job.groupId, 'shared');
    // a batch's sorts of its values and its new codes (the counters trigger's transition table)
    // stay in memory instead of spilling to temporary files
    await tx`set local work_mem = '64MB'`;
    const staged = stagingTable(jobId);
    const [position] = await tx<{ pages: number | null; donePages: number }[]>`
      select (pg_relation_size(to_regclass(${staged})) / current_setting('block_size')::int)::int as pages,
             coalesce((select done_pages from import_lane where job_id = ${jobId} and lane = ${lane}), 0)::int as done_pages`;
    const { pages, donePages: from } = position!;
    if (pages === null) throw new JobEnded(); // ended (finishJob dropped the table) since the job was read
    if (pages === 0) {
      assertStagedLinesKept(job);
      return { job, done: true };
    }
    if (from >= pages) return { job, done: true };
    const to = from + Math.ceil((batchSize * IMPORT_LANES * pages) / job.requested);
    const lines = () => tx`${tx(staged)} where lane = ${lane} and ctid >= ${`(${from},0)`}::tid and ctid < ${`(${to},0)`}::tid`;
    const owner = { groupId: job.groupId, jobId };
    const moved = (await unlessStored(tx, (sp) => moveLines(sp, owner, lines, false))) || (await moveLines(tx, owner, lines, true));
    heartbeat();
    const updated = await addBatchToJob(tx, jobId, {
      processed: moved.processed, added: moved.added, duplicates: moved.processed - moved.added - moved.invalid, invalid: moved.invalid, problems: moved.problems,
    });
    await tx`
      insert into import_lane (job_id, lane, done_pages) values (${jobId}, ${lane}, ${to})
      on conflict (job_id, lane) do update set done_pages = excluded.done_pages`;
    return { job: updated, done: to >= pages };
  });
}

/** The staged lines of a batch: `<staging table> where …`, to follow a `from`. */
type BatchLines = () => PendingQuery<Row[]>;

/**
 * Moves a batch's lines in one statement: the first occurrence of each valid value into the
 * group (in the order of the code index, about a quarter faster than in line order: the index
 * is written page by page), and every rejected line into import_reject: invalid (the parser's
 * problem) or a repeat of a valid value on an earlier line of the batch (`duplicate of line N`).
 * Returns the batch's counts and its first problems.
 *
 * The usual file holds new codes, and the plain insert adds them all (run it through
 * unlessStored: one code stored already fails it as a whole). It looks up beforehand only the
 * values the upload saw on an earlier line (`seen`), which an earlier batch may have stored,
 * and rejects those it finds: a repeat across batches costs a lookup, not the whole batch done
 * twice. With `skipStored` the insert skips every stored code (a third slower), for a file that
 * repeats codes stored before it, or one another writer stored meanwhile (which this statement
 * cannot see). A stored code is rejected as `duplicate of an earlier line` when this job added
 * it, else as `already stored`.
 */
async function moveLines(tx: TransactionSql, owner: CodeOwner, lines: BatchLines, skipStored: boolean) {
  const storedReason = (jobId: PendingQuery<Row[]>) =>
    tx`case when ${jobId} = ${owner.jobId}::bigint then 'duplicate of an earlier line' else 'already stored' end`;
  const [row] = await tx<{ processed: number; invalid: number; added: number; problems: Problem[] }[]>`
    with slice as (
      select line, value, problem, seen, min(line) filter (where problem is null) over (partition by value) as first
        from ${lines()}),
    stored as (
      -- the seen first occurrences stored already, a lookup each (lateral), whatever the
      -- estimates: the staging table has no statistics. None with skipStored, whose insert
      -- skips every stored code and whose rejects then name them all.
      select s.line, s.value, p.job_id from slice s cross join lateral (select job_id from promo_code where code = s.value) p
       where ${skipStored ? tx`false` : tx`s.seen and s.line = s.first`}),
    added as (
      insert into promo_code (group_id, code, job_id)
      select ${owner.groupId}, value, ${owner.jobId} from slice where line = first and line not in (select line from stored) order by value
      ${skipStored ? tx`on conflict (code) do nothing` : tx``}
      returning code),
    rejected as (
      insert into import_reject (job_id, line, value, reason)
      select ${owner.jobId}::bigint, line, value, coalesce(problem, 'duplicate of line ' || first) from slice where problem is not null or line <> first
      union all
      select ${owner.jobId}::bigint, line, value, ${storedReason(tx`job_id`)} from stored
      ${skipStored ? tx`
      union all
      select ${owner.jobId}::bigint, line, value, ${storedReason(tx`(select job_id from promo_code where code = s.value)`)}
        -- not in: a hashed subplan whatever the estimates (estimated at a row, a not exists
        -- became a nested loop comparing every pair of codes)
        from slice s where line = first and s.value not in (select code from added)` : tx``}
      returning line, value, reason)
    select count(*)::int as processed, (count(*) filter (where problem is not null))::int as invalid, (select count(*) from added)::int as added,
           (select coalesce(json_agg(json_build_object('line', line, 'value', left(value, ${PROBLEM_VALUE_LENGTH}), 'reason', reason) order by line), '[]')
              from (select * from rejected order by line limit ${MAX_JOB_PROBLEMS}) head) as problems
      from slice`;
  return row!;
}

/**
 * A staging table with no page: the file had no line, or PostgreSQL restarted after a crash
 * and emptied the table (it is unlogged) while the job still missed lines.
 */
function assertStagedLinesKept(job: JobRecord): void {
  const missing = job.requested - job.processed;
  if (missing > 0) {
    throw new StagedLinesLostError(
      `${missing} of the file's ${job.requested} lines were lost before they were imported (the database restarted after a crash); ` +
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
  // a query per chunk (keyset on line), so no connection is held while a slow reader waits
  let after = '0';
  for (;;) {
    const rows = await sql<{ line: string; value: string; reason: string }[]>`
      select line, value, reason from import_reject where job_id = ${jobId} and line > ${after}::bigint order by line limit 5000`;
    if (rows.length > 0) yield rows.map((row) => ({ ...row, line: Number(row.line) }));
    if (rows.length < 5000) return;
    after = rows.at(-1)!.line;
  }
}

import { type FileValue, ImportFileParser, type ImportFormat } from '../domain/import-file.js';
import { IMPORT_LANES, laneOf } from '../domain/import-lanes.js';
import type { Sql, TransactionSql } from './client.js';
import { copyNewCodes, insertNewCodes } from './codes.js';
import { copyField, copyFrom } from './copy.js';
import { lockGroup } from './groups.js';
import { addBatchToJob, type BatchOutcome, createJob, getJob, jobBatch, type JobRecord, MAX_JOB_PROBLEMS } from './jobs.js';

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

interface StagedLine {
  line: string;
  value: string;
  problem: string | null;
}

interface Reject {
  line: number;
  value: string;
  reason: string;
}

/**
 * One step of an import job, in one transaction, on one lane: takes the lane's staged lines
 * among the next `batchSize × IMPORT_LANES` lines of the file (about `batchSize`); adds the
 * valid new codes to the group (the first occurrence in the file wins: equal values share a
 * lane, taken in line order); records every rejected line; adds it all to the job's counts;
 * deletes the lines and moves the lane's cursor (import_lane) past them. A retried batch
 * starts after the cursor, and so sees only what is left.
 *
 * The batch's lines are read and deleted by a range of line numbers whose both ends are values:
 * the planner then takes the range through the primary key whatever its statistics say (an
 * open end, or an end from a subquery, made it read the whole table once it had statistics:
 * a cost per batch that grew with the file). And no scan starts before the cursor, where the
 * index entries of the lines deleted so far stay until a vacuum.
 *
 * The new codes go in by COPY (codes.ts), about a third faster than an insert that checks each
 * one. A batch first tries to add all its distinct valid values so; only when one of them is
 * stored already (which fails that COPY) does it look them up, to leave out and tell apart
 * the stored ones (a duplicate of an earlier batch's line, or already stored).
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
    // a batch's new codes (the counters trigger's transition table) and its list of codes to
    // look up stay in memory instead of spilling to temporary files
    await tx`set local work_mem = '64MB'`;
    const [cursor] = await tx<{ doneUpto: string }[]>`select done_upto from import_lane where job_id = ${jobId} and lane = ${lane}`;
    const from = await nextStagedLine(tx, jobId, lane, cursor?.doneUpto ?? '0');
    if (from === undefined) {
      await assertStagedLinesKept(tx, jobId);
      return { job, done: true };
    }
    const to = BigInt(from) + BigInt(batchSize * IMPORT_LANES);
    const slice = await tx<StagedLine[]>`
      select line, value, problem from import_line
       where job_id = ${jobId} and lane = ${lane} and line >= ${from}::bigint and line < ${to.toString()}::bigint
       order by line`;
    const { fresh, rejects, invalid } = firstOccurrences(slice);
    const owner = { groupId: job.groupId, jobId };
    const codes = [...fresh.keys()];
    let stored = new Map<string, boolean>();
    let raced = new Map<string, boolean>();
    let inserted = codes.length;
    // the usual file holds new codes: one COPY adds them all. One stored already fails it as a
    // whole (nothing added), and then the stored ones are looked up and left out.
    if (!(await copyNewCodes(tx, owner, codes))) {
      stored = await storedAmong(tx, jobId, codes);
      const added = codes.filter((code) => !stored.has(code));
      inserted = await insertNewCodes(tx, owner, added, true);
      // fewer than all: another writer stored some of them meanwhile
      if (inserted < added.length) raced = await storedAmong(tx, jobId, added);
    }
    for (const [code, line] of fresh) {
      const earlier = stored.get(code);
      if (earlier !== undefined) rejects.push({ line, value: code, reason: earlier ? 'duplicate of an earlier line' : 'already stored' });
      else if (raced.get(code) === false) rejects.push({ line, value: code, reason: 'already stored' });
    }
    heartbeat();
    rejects.sort((a, b) => a.line - b.line);
    await recordRejects(tx, jobId, rejects);
    const problems = rejects.slice(0, MAX_JOB_PROBLEMS).map((reject) => ({ ...reject, value: reject.value.slice(0, PROBLEM_VALUE_LENGTH) }));
    const updated = await addBatchToJob(tx, jobId, { processed: slice.length, added: inserted, duplicates: slice.length - inserted - invalid, invalid, problems });
    const upto = slice[slice.length - 1]!.line;
    await tx`delete from import_line where job_id = ${jobId} and lane = ${lane} and line >= ${from}::bigint and line <= ${upto}::bigint`;
    await tx`
      insert into import_lane (job_id, lane, done_upto) values (${jobId}, ${lane}, ${upto})
      on conflict (job_id, lane) do update set done_upto = excluded.done_upto`;
    return { job: updated, done: (await nextStagedLine(tx, jobId, lane, upto)) === undefined };
  });
}

/** The number of the lane's first staged line after line `after`, if any. */
async function nextStagedLine(tx: TransactionSql, jobId: string, lane: number, after: string): Promise<string | undefined> {
  const [row] = await tx<{ line: string }[]>`
    select line from import_line where job_id = ${jobId} and lane = ${lane} and line > ${after}::bigint order by line limit 1`;
  return row?.line;
}

/** The valid values of a slice (in line order) with the line each first occurs on; the invalid lines and repeats. */
function firstOccurrences(slice: StagedLine[]): { fresh: Map<string, number>; rejects: Reject[]; invalid: number } {
  const fresh = new Map<string, number>();
  const invalid: Reject[] = [];
  const repeats: Reject[] = [];
  for (const { line: lineText, value, problem } of slice) {
    const line = Number(lineText);
    const first = fresh.get(value);
    if (problem !== null) invalid.push({ line, value, reason: problem });
    else if (first !== undefined) repeats.push({ line, value, reason: `duplicate of line ${first}` });
    else fresh.set(value, line);
  }
  return { fresh, rejects: [...invalid, ...repeats], invalid: invalid.length };
}

/** Which of `codes` are stored, each with whether this job added it (in an earlier batch). */
async function storedAmong(tx: TransactionSql, jobId: string, codes: string[]): Promise<Map<string, boolean>> {
  if (codes.length === 0) return new Map();
  // one probe of the code index per code (`offset 0` keeps the subquery a lookup of its own):
  // as `code = any(…)`, tens of thousands of codes made the planner read the whole table
  // instead, a cost per batch that grew with the table
  const rows = await tx<{ code: string; ours: boolean }[]>`
    select stored.code, stored.job_id is not distinct from ${jobId}::bigint as ours
      from unnest(${codes}::text[]) as wanted (code)
      cross join lateral (select code, job_id from promo_code where code = wanted.code offset 0) stored`;
  return new Map(rows.map((row) => [row.code, row.ours]));
}

async function recordRejects(tx: TransactionSql, jobId: string, rejects: Reject[]): Promise<void> {
  if (rejects.length === 0) return;
  await tx`
    insert into import_reject (job_id, line, value, reason)
    select ${jobId}, * from unnest(${rejects.map((r) => r.line)}::bigint[], ${rejects.map((r) => r.value)}::text[], ${rejects.map((r) => r.reason)}::text[])`;
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

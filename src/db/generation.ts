import { type ParsedFormat, canProduce, codeAt, compileFormat, indexOf } from '../domain/format.js';
import { randomCodes, sampleDistinctIndexes } from '../domain/random.js';
import type { Sql, TransactionSql } from './client.js';
import { insertNewCodes } from './codes.js';
import { lockGroup } from './groups.js';
import { addBatchToJob, type BatchOutcome, createJob, getJob, jobBatch, type JobReason, type JobRecord } from './jobs.js';

export const MAX_GENERATION = 10_000_000;
/** Up to this keyspace, a crowded format is sampled from its free codes instead of guessed. */
const ENUMERABLE_KEYSPACE = 1n << 24n;
const MAX_GUESS_ROUNDS = 64;

/** The format cannot produce enough new codes to finish the job. */
export class KeyspaceExhaustedError extends Error {}

/** Stored codes, in any group, that the format could have produced; a chunk at a time. */
async function* storedCodesOf(sql: Sql | TransactionSql, format: ParsedFormat): AsyncGenerator<string[]> {
  const first = format.parts[0];
  const prefix = first?.kind === 'literal' ? first.text : '';
  // `code` is collated "C", so a LIKE prefix walks the unique index instead of the table
  const pattern = `${prefix.replace(/[\\%_]/g, '\\$&')}%`;
  const cursor = sql<{ code: string }[]>`
    select code from promo_code where code like ${pattern} and length(code) = ${format.length}`.cursor(10_000);
  for await (const rows of cursor) yield rows.map((row) => row.code).filter((code) => canProduce(format, code));
}

/** How many codes one generation may still ask of this format: what is free of its keyspace, at most MAX_GENERATION. */
export async function generationCapacity(sql: Sql, format: ParsedFormat): Promise<number> {
  const [row] = await sql<{ stored: string }[]>`select coalesce(sum(total), 0) as stored from promo_group_counter`;
  if (format.keyspace >= BigInt(row!.stored) + BigInt(MAX_GENERATION)) return MAX_GENERATION;
  let stored = 0n;
  for await (const codes of storedCodesOf(sql, format)) stored += BigInt(codes.length);
  const free = format.keyspace - stored;
  return free < BigInt(MAX_GENERATION) ? Number(free) : MAX_GENERATION;
}

/** How many stored codes the format check examines at most (generationCapacity, run once per job, examines all). */
export const CAPACITY_CHECK_ROWS = 50_000;

export interface CapacityEstimate {
  /** at least this many codes can still be generated (exactly this many when not an estimate) */
  maxQuantity: number;
  /** at most this many can (equal to maxQuantity when not an estimate) */
  upperBound: number;
  isEstimate: boolean;
}

/**
 * generationCapacity within a bounded amount of work, for the format check (every keystroke of
 * the format builder): examines at most `examine` stored codes (those with the format's literal
 * prefix, or any when it has none). When more exist, the count is bounded on both sides: the
 * codes examined that the format could produce are surely taken, and every stored code not
 * examined might be.
 */
export async function estimateGenerationCapacity(sql: Sql, format: ParsedFormat, examine = CAPACITY_CHECK_ROWS): Promise<CapacityEstimate> {
  const clip = (free: bigint) => Number(free < 0n ? 0n : free < BigInt(MAX_GENERATION) ? free : BigInt(MAX_GENERATION));
  const [totals] = await sql<{ stored: string }[]>`select coalesce(sum(total), 0) as stored from promo_group_counter`;
  const stored = BigInt(totals!.stored);
  if (format.keyspace >= stored + BigInt(MAX_GENERATION)) return { maxQuantity: MAX_GENERATION, upperBound: MAX_GENERATION, isEstimate: false };
  const [row] = await sql<{ examined: string; codes: string[] }[]>`
    with s as (select code from promo_code where code like ${likePrefix(format)} limit ${examine})
    select (select count(*) from s) as examined, array(select code from s where length(code) = ${format.length}) as codes`;
  const examined = BigInt(row!.examined);
  const taken = BigInt(row!.codes.filter((code) => canProduce(format, code)).length);
  const upperBound = clip(format.keyspace - taken);
  if (examined < BigInt(examine)) return { maxQuantity: upperBound, upperBound, isEstimate: false };
  const unexamined = stored > examined ? stored - examined : 0n;
  return { maxQuantity: clip(format.keyspace - taken - unexamined), upperBound, isEstimate: true };
}

/** A LIKE pattern for the format's literal prefix (any code when it has none). */
function likePrefix(format: ParsedFormat): string {
  const first = format.parts[0];
  const prefix = first?.kind === 'literal' ? first.text : '';
  return `${prefix.replace(/[\\%_]/g, '\\$&')}%`;
}

/**
 * Creates a generation job whose target is split evenly over up to `maxLanes` lanes. Lanes
 * run at once, so only a format whose new codes will hardly ever collide gets more than one:
 * crowded lanes would mostly wait for each other's inserts.
 */
export async function createGenerationJob(
  sql: Sql,
  job: { groupId: string; requested: number; format: ParsedFormat; maxLanes: number; reason?: JobReason },
): Promise<{ job: JobRecord; lanes: number }> {
  return sql.begin(async (tx) => {
    const record = await createJob(tx, { kind: 'generate', groupId: job.groupId, requested: job.requested, format: job.format.source, reason: job.reason });
    const lanes = (await collisionsUnlikely(tx, job.format, job.requested)) ? job.maxLanes : 1;
    const shares = Array.from({ length: lanes }, (_, lane) => ({
      jobId: record.id,
      lane,
      target: Math.floor(job.requested / lanes) + (lane < job.requested % lanes ? 1 : 0),
    }));
    await tx`insert into generation_lane ${tx(shares, 'jobId', 'lane', 'target')}`;
    return { job: record, lanes };
  });
}

/**
 * One step of one lane of a generation job, in one transaction: tops the lane up by at most
 * `batchSize` codes toward its share of the target as counted in its generation_lane row (locked,
 * so a retry waits for the batch it retries), so a retried or repeated batch never over- or
 * under-generates. Lock order as for imports: lane, group, job row last.
 */
export async function generateBatch(sql: Sql, jobId: string, lane: number, batchSize: number, heartbeat: () => void): Promise<BatchOutcome> {
  return jobBatch(sql, jobId, async (tx) => {
    const [progress] = await tx<{ target: string; added: string }[]>`
      select target, added from generation_lane where job_id = ${jobId} and lane = ${lane} for update`;
    const job = await getJob(tx, jobId);
    const left = progress ? Number(progress.target) - Number(progress.added) : 0;
    const need = Math.min(batchSize, left);
    if (job.status !== 'running' || need <= 0) return { job, done: true };
    await lockGroup(tx, job.groupId, 'shared');
    const format = compileFormat(job.format ?? '');
    const { added, collisions } = await addNewCodes(tx, format, job, need, heartbeat);
    await tx`update generation_lane set added = added + ${added} where job_id = ${jobId} and lane = ${lane}`;
    const updated = await addBatchToJob(tx, jobId, { processed: added, added, duplicates: collisions });
    return { job: updated, done: added === left };
  });
}

async function addNewCodes(tx: TransactionSql, format: ParsedFormat, job: JobRecord, need: number, heartbeat: () => void) {
  let added = 0;
  let collisions = 0;
  let crowded = false;
  // COPY is about twice as fast as an insert that skips stored codes, but fails on the first one
  const copyFirst = await collisionsUnlikely(tx, format, need);
  for (let round = 0; added < need; round += 1) {
    if (round === MAX_GUESS_ROUNDS) {
      throw new KeyspaceExhaustedError(`The format ${format.source} has no room for ${need - added} more new codes.`);
    }
    const missing = need - added;
    const candidates: string[] = crowded ? await freeCodes(tx, format, missing) : [...new Set(randomCodes(format, missing))];
    const inserted = await insertNewCodes(tx, { groupId: job.groupId, jobId: job.id }, candidates, copyFirst && round === 0);
    added += inserted;
    collisions += candidates.length - inserted;
    // guessing pays while most guesses are new; past that, sample from what is actually free
    crowded ||= inserted * 2 < candidates.length && format.keyspace <= ENUMERABLE_KEYSPACE;
    heartbeat();
  }
  return { added, collisions };
}

/** Whether `count` random codes will, but about one time in 100, all be new. */
async function collisionsUnlikely(tx: TransactionSql, format: ParsedFormat, count: number): Promise<boolean> {
  const [row] = await tx<{ stored: string }[]>`select coalesce(sum(total), 0) as stored from promo_group_counter`;
  // the expected number of collisions is at most count * (stored + count) / keyspace
  return format.keyspace > 100n * BigInt(count) * (BigInt(row!.stored) + BigInt(count));
}

/** Up to `count` codes of a small keyspace that are stored nowhere, uniformly chosen. */
async function freeCodes(tx: TransactionSql, format: ParsedFormat, count: number): Promise<string[]> {
  const size = Number(format.keyspace);
  const taken = new Uint8Array(Math.ceil(size / 8));
  let takenCount = 0;
  for await (const codes of storedCodesOf(tx, format)) {
    for (const code of codes) {
      const index = Number(indexOf(format, code));
      taken[index >> 3]! |= 1 << (index & 7);
      takenCount += 1;
    }
  }
  const free = size - takenCount;
  if (free === 0) throw new KeyspaceExhaustedError(`Every code the format ${format.source} can produce is stored already.`);
  // pick ranks among the free codes, then walk the bitmap once to turn ranks into codes
  const ranks = sampleDistinctIndexes(BigInt(free), Math.min(count, free))
    .map(Number)
    .sort((a, b) => a - b);
  const codes: string[] = [];
  let rank = 0;
  for (let index = 0, next = 0; index < size && next < ranks.length; index += 1) {
    if ((taken[index >> 3]! >> (index & 7)) & 1) continue;
    if (rank === ranks[next]) {
      codes.push(codeAt(format, BigInt(index)));
      next += 1;
    }
    rank += 1;
  }
  return codes;
}

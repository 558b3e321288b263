import { type ParsedFormat, canProduce, codeAt, compileFormat, indexOf } from '../domain/format.js';
import { randomCodes, sampleDistinctIndexes } from '../domain/random.js';
import type { Sql, TransactionSql } from './client.js';
import { lockGroup } from './groups.js';
import { getJob, type JobRecord } from './jobs.js';

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
  const [row] = await sql<{ stored: string }[]>`select coalesce(sum(total), 0) as stored from promo_group`;
  if (format.keyspace >= BigInt(row!.stored) + BigInt(MAX_GENERATION)) return MAX_GENERATION;
  let stored = 0n;
  for await (const codes of storedCodesOf(sql, format)) stored += BigInt(codes.length);
  const free = format.keyspace - stored;
  return free < BigInt(MAX_GENERATION) ? Number(free) : MAX_GENERATION;
}

export interface BatchOutcome {
  job: JobRecord;
  done: boolean;
}

/**
 * One step of a generation job, in one transaction: tops the job up by at most `batchSize`
 * codes toward its target as counted in the job row, so a retried or repeated batch never
 * over- or under-generates.
 */
export async function generateBatch(sql: Sql, jobId: string, batchSize: number, heartbeat: () => void): Promise<BatchOutcome> {
  return sql.begin(async (tx) => {
    const job = await getJob(tx, jobId, true);
    const need = Math.min(batchSize, job.requested - job.added);
    if (job.status !== 'running' || need <= 0) return { job, done: true };
    await lockGroup(tx, job.groupId, 'no key update');
    const format = compileFormat(job.format ?? '');
    const { added, collisions } = await addNewCodes(tx, format, job, need, heartbeat);
    const [row] = await tx<{ added: string }[]>`
      update job set added = added + ${added}, processed = processed + ${added}, duplicates = duplicates + ${collisions}
       where id = ${jobId} returning added`;
    const total = Number(row!.added);
    return { job: { ...job, added: total, processed: total, duplicates: job.duplicates + collisions }, done: total >= job.requested };
  });
}

async function addNewCodes(tx: TransactionSql, format: ParsedFormat, job: JobRecord, need: number, heartbeat: () => void) {
  let added = 0;
  let collisions = 0;
  let crowded = false;
  for (let round = 0; added < need; round += 1) {
    if (round === MAX_GUESS_ROUNDS) {
      throw new KeyspaceExhaustedError(`The format ${format.source} has no room for ${need - added} more new codes.`);
    }
    const missing = need - added;
    const candidates: string[] = crowded ? await freeCodes(tx, format, missing) : [...new Set(randomCodes(format, missing))];
    const inserted = await insertCodes(tx, job, candidates);
    added += inserted;
    collisions += candidates.length - inserted;
    // guessing pays while most guesses are new; past that, sample from what is actually free
    crowded ||= inserted * 2 < candidates.length && format.keyspace <= ENUMERABLE_KEYSPACE;
    heartbeat();
  }
  return { added, collisions };
}

async function insertCodes(tx: TransactionSql, job: JobRecord, codes: string[]): Promise<number> {
  if (codes.length === 0) return 0;
  const result = await tx`
    insert into promo_code (group_id, code, job_id)
    select ${job.groupId}, code, ${job.id} from unnest(${codes}::text[]) as code
    on conflict (code) do nothing`;
  return result.count;
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

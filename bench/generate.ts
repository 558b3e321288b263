import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { compileFormat } from '../src/domain/format.js';
import { randomCodes } from '../src/domain/random.js';
import { type BenchContext, round, timed, withBenchStack } from './support.js';

const FORMAT = "SUMMER-S{string('0-9', 4)}{string('a-Z', 10)}";
const CHUNK = 10_000;

/**
 * Codes of the seed format through the API, from POST to the job `completed`; baseline: COPY of
 * as many pre-generated codes into a table of promo_code's shape and indexes, same database.
 */
export async function run() {
  const quantities = (process.env.BENCH_GENERATE_CODES ?? '1000000').split(',').map(Number);
  return withBenchStack(async (context) => {
    const lines = [];
    for (const quantity of quantities) lines.push(await measure(context, quantity));
    return lines;
  });
}

async function measure({ sql, api }: BenchContext, codes: number) {
  const group = (await api('POST', '/groups', { name: `Generated ${codes}` })).body;
  const { ms, result } = await timed(async () => {
    const job = (await api('POST', `/groups/${group.id}/generations`, { quantity: codes, format: FORMAT })).body;
    for (;;) {
      const current = (await api('GET', `/jobs/${job.id}`)).body;
      if (current.status !== 'running') return current;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });
  if (result.status !== 'completed' || result.added !== codes) throw new Error(`generation ended ${result.status} with ${result.added} codes`);

  await sql`drop table if exists bench_copy`;
  await sql`create table bench_copy (like promo_code including all)`;
  // pre-generated before the clock starts, a chunk of COPY text each, so 10,000,000 fit in memory
  const format = compileFormat(FORMAT);
  const chunks: string[] = [];
  for (let done = 0; done < codes; done += CHUNK) {
    chunks.push(randomCodes(format, Math.min(CHUNK, codes - done)).map((code) => `${group.id}\t${code}\n`).join(''));
  }
  const baseline = await timed(async () => {
    const copy = await sql`copy bench_copy (group_id, code) from stdin`.writable();
    await pipeline(Readable.from(chunks), copy);
  });
  await sql`drop table bench_copy`;
  const seconds = ms / 1000;
  return {
    bench: 'generate',
    codes,
    seconds: round(seconds),
    codesPerSecond: Math.round(codes / seconds),
    baselineCopySeconds: round(baseline.ms / 1000),
    ratio: round(baseline.ms / ms, 3),
  };
}


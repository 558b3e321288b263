import type { Sql } from '../src/db/client.js';
import { copyFrom } from '../src/db/copy.js';
import { round, withBenchStack } from './support.js';

// BENCH_IMPORT_LINES=10000000 npm run bench -- import: a larger file, to see that memory stays flat.
const LINES = Number(process.env.BENCH_IMPORT_LINES ?? 1_000_000);
const LINES_PER_CHUNK = 4096;

/** Unique codes in no particular order (a multiplicative hash in front), like real ones. */
export const code = (i: number) => `P${(Math.imul(i + 1, 2_654_435_761) >>> 0).toString(36).toUpperCase().padStart(7, '0')}-${i.toString(36).toUpperCase()}`;
/** Line i of the file: 1 % repeat an earlier line, 0.1 % are invalid, the rest are new codes. */
const lineOf = (i: number) => (i % 100 === 99 ? code(i - 37) : i % 1000 === 500 ? `bad code ${i}` : code(i));
const EXPECTED = { duplicates: Math.floor((LINES + 1) / 100), invalid: Math.floor((LINES + 499) / 1000) };

/** The file, LINES_PER_CHUNK lines a chunk, made as it is sent: never all of it in memory. */
function* fileChunks(): Generator<string> {
  for (let start = 0; start < LINES; start += LINES_PER_CHUNK) {
    let text = '';
    for (let i = start; i < Math.min(LINES, start + LINES_PER_CHUNK); i += 1) text += `${lineOf(i)}\n`;
    yield text;
  }
}

/**
 * A LINES-line text file POSTed through the HTTP API as a stream, timed from the first byte
 * sent to the job completed; baseline: COPY of the same valid codes into a fresh table shaped
 * and indexed like promo_code. The API and the worker run in this process, so peak RSS
 * covers both (and the client making the file).
 */
export async function run() {
  return withBenchStack(async ({ apiUrl, token, sql, api }) => {
    const group = (await api('POST', '/groups', { name: 'Bench import' })).body;
    const encoder = new TextEncoder();
    const chunks = fileChunks();
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(next.value));
      },
    });

    const baselineBefore = await baselineCopy(sql, group.id);
    const rssBeforeMb = process.memoryUsage().rss / 2 ** 20;
    let importRssMb = rssBeforeMb;
    let importHeapMb = 0;
    const sampler = setInterval(() => {
      const { rss, heapUsed, external } = process.memoryUsage();
      importRssMb = Math.max(importRssMb, rss / 2 ** 20);
      importHeapMb = Math.max(importHeapMb, (heapUsed + external) / 2 ** 20);
    }, 50);

    const start = performance.now();
    const response = await fetch(`${apiUrl}/groups/${group.id}/imports`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
      body,
      duplex: 'half',
    } as RequestInit);
    const started = (await response.json()) as BenchJob;
    if (response.status !== 202) throw new Error(`import answered ${response.status}: ${JSON.stringify(started)}`);
    const uploadSeconds = (performance.now() - start) / 1000;
    let job = started;
    while (job.status === 'running') {
      await new Promise((resolve) => setTimeout(resolve, 50));
      job = (await api('GET', `/jobs/${started.id}`)).body as BenchJob;
    }
    const seconds = (performance.now() - start) / 1000;
    clearInterval(sampler);
    const expectedAdded = LINES - EXPECTED.duplicates - EXPECTED.invalid;
    if (job.status !== 'completed' || job.added !== expectedAdded || job.duplicates !== EXPECTED.duplicates || job.invalid !== EXPECTED.invalid) {
      throw new Error(`unexpected outcome ${JSON.stringify({ ...job, errors: job.errors.length })}; expected added ${expectedAdded}, ${JSON.stringify(EXPECTED)}`);
    }
    const peakRssMb = process.resourceUsage().maxRSS / 1024;
    // other work on the machine skews single runs: the baseline runs before and after the import
    const baselineAfter = await baselineCopy(sql, group.id);
    const baselineCopySeconds = (baselineBefore + baselineAfter) / 2;

    return [
      {
        bench: 'import',
        lines: LINES,
        seconds: round(seconds),
        linesPerSecond: Math.round(LINES / seconds),
        uploadSeconds: round(uploadSeconds),
        baselineCopySeconds: round(baselineCopySeconds),
        baselineCopyRuns: [round(baselineBefore), round(baselineAfter)],
        ratio: round(baselineCopySeconds / seconds),
        peakRssMb: Math.round(peakRssMb),
        rssBeforeImportMb: Math.round(rssBeforeMb),
        peakRssDuringImportMb: Math.round(importRssMb),
        peakHeapDuringImportMb: Math.round(importHeapMb),
      },
    ];
  });
}

interface BenchJob {
  id: string;
  status: string;
  added: number;
  duplicates: number;
  invalid: number;
  errors: unknown[];
}

/** Seconds to COPY the file's valid codes into a fresh table shaped and indexed like promo_code. */
async function baselineCopy(sql: Sql, groupId: string): Promise<number> {
  await sql`create table bench_copy (like promo_code including all)`;
  const start = performance.now();
  await copyFrom(sql`copy bench_copy (group_id, code) from stdin`, validRows(groupId));
  const seconds = (performance.now() - start) / 1000;
  const [copied] = await sql<{ count: number }[]>`select count(*)::int as count from bench_copy`;
  await sql`drop table bench_copy`;
  if (copied!.count !== LINES - EXPECTED.duplicates - EXPECTED.invalid) throw new Error(`the baseline copied ${copied!.count} rows`);
  return seconds;
}

/** The codes the import added, as COPY rows, a chunk at a time. */
function* validRows(groupId: string): Generator<string> {
  for (let start = 0; start < LINES; start += LINES_PER_CHUNK) {
    let text = '';
    for (let i = start; i < Math.min(LINES, start + LINES_PER_CHUNK); i += 1) {
      if (i % 100 !== 99 && i % 1000 !== 500) text += `${groupId}\t${code(i)}\n`;
    }
    yield text;
  }
}

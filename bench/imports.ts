import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Sql } from '../src/db/client.js';
import { copyFrom } from '../src/db/copy.js';
import { EXPECTED, LINES, validRows } from './import-lines.js';
import { round, withBenchStack } from './support.js';

/**
 * A LINES-line text file POSTed through the HTTP API as a stream, timed from the first byte
 * sent to the job completed; baseline: COPY of the same valid codes into a fresh table shaped
 * and indexed like promo_code. The API and the worker run in this process, so peak RSS
 * covers both; the client making the file is a process of its own.
 */
export async function run() {
  return withBenchStack(async ({ apiUrl, token, sql, api }) => {
    const group = (await api('POST', '/groups', { name: 'Bench import' })).body;
    const baselineBefore = await baselineCopy(sql, group.id);
    const body = await fileFromClient();
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

/**
 * The file as the body of the upload, made by a process of its own as it is sent (a client
 * elsewhere, as an uploader is): made here, its lines took the event loop that parses them, a
 * third of it during the upload. Started before the clock: it answers once its first lines wait.
 */
async function fileFromClient(): Promise<ReadableStream<Uint8Array>> {
  const writer = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./import-file-writer.ts', import.meta.url))], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await once(writer.stdout, 'readable');
  return Readable.toWeb(writer.stdout) as ReadableStream<Uint8Array>;
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

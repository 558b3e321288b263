import { code } from './import-lines.js';
import { memoryMb, startService } from './processes.js';
import { apiCaller, round, withBenchStack } from './support.js';

// BENCH_IMPORT_BYTES: the size of the file (default 1 GiB).
const BYTES = Number(process.env.BENCH_IMPORT_BYTES ?? 2 ** 30);
/** 63-character codes and a newline: 64 bytes a line. */
const LINE_BYTES = 64;
const LINES = Math.floor(BYTES / LINE_BYTES);
const LINES_PER_CHUNK = 4096;

const paddedCode = (i: number) => code(i).padEnd(LINE_BYTES - 1, 'X');

/**
 * The API's memory for a very large import: the API runs as a process of its own (as deployed:
 * `npm run api`), next to the stack's worker, and a BYTES-long file of distinct codes streams
 * through it. Peak RSS of that process (VmHWM), upload time, and the time to the job completed.
 */
export async function run() {
  return withBenchStack(async ({ token, databaseUrl, temporalAddress, sql }) => {
    const api = await startService('api', { DATABASE_URL: databaseUrl, TEMPORAL_ADDRESS: temporalAddress, PROMO_API_TOKENS: token, PROMO_MAX_IMPORT_BYTES: String(BYTES * 2) });
    const call = async (method: string, path: string, body?: unknown) =>
      (await apiCaller(api.apiUrl, token)(method, path, body)).body as { id: string; status: string; added: number; duplicates: number; invalid: number };
    try {
      const rssBeforeMb = await memoryMb(api.child.pid!, 'VmRSS');
      const group = await call('POST', '/groups', { name: 'Bench large import' });
      const start = performance.now();
      const response = await fetch(`${api.apiUrl}/groups/${group.id}/imports`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
        body: fileStream(),
        duplex: 'half',
      } as RequestInit);
      const started = (await response.json()) as { id: string };
      if (response.status !== 202) throw new Error(`import answered ${response.status}: ${JSON.stringify(started)}`);
      const uploadSeconds = (performance.now() - start) / 1000;
      const apiPeakRssMb = await memoryMb(api.child.pid!, 'VmHWM');
      let job = await call('GET', `/jobs/${started.id}`);
      while (job.status === 'running') {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        job = await call('GET', `/jobs/${started.id}`);
      }
      const seconds = (performance.now() - start) / 1000;
      if (job.status !== 'completed' || job.added !== LINES) throw new Error(`the import ended ${job.status} with ${job.added} of ${LINES} codes`);
      await sql`delete from promo_code where group_id = ${group.id}`;
      return [
        {
          bench: 'import-memory',
          bytes: LINES * LINE_BYTES,
          lines: LINES,
          uploadSeconds: round(uploadSeconds),
          seconds: round(seconds),
          linesPerSecond: Math.round(LINES / seconds),
          apiRssBeforeMb: Math.round(rssBeforeMb),
          apiPeakRssMb: Math.round(apiPeakRssMb),
        },
      ];
    } finally {
      await api.stop();
    }
  });
}

function fileStream(): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let next = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (next >= LINES) return controller.close();
      let text = '';
      for (const end = Math.min(LINES, next + LINES_PER_CHUNK); next < end; next += 1) text += `${paddedCode(next)}\n`;
      controller.enqueue(encoder.encode(text));
    },
  });
}

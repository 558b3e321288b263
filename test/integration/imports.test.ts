import { once } from 'node:events';
import { connect } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { toCsvRow } from '../../src/api/csv.js';
import { copyFrom } from '../../src/db/copy.js';
import { stagingTable } from '../../src/db/import-staging.js';
import { PromoJobKind } from '../../src/temporal/search-attributes.js';
import { killWorkerMidJob } from '../support/crash.js';
import { serveStack } from '../support/http-server.js';
import { eventually, startTestWorker, TEST_TOKEN, testStack, type TestStack } from '../support/stack.js';
import { stagingTables } from '../support/staging.js';

const MAX_BODY_BYTES = 64 * 1024;
const MAX_IMPORT_BYTES = 1024 * 1024;
const BATCH_SIZE = '1000';

let stack: TestStack;
beforeAll(async () => {
  stack = await testStack({ env: { PROMO_IMPORT_BATCH_SIZE: BATCH_SIZE }, maxBodyBytes: MAX_BODY_BYTES, maxImportBytes: MAX_IMPORT_BYTES });
});

interface Job {
  id: string;
  status: string;
  requested: number;
  processed: number;
  added: number;
  duplicates: number;
  invalid: number;
  errors: { line?: number; value?: string; reason: string }[];
  workflowId: string;
}

const encoder = new TextEncoder();

/** A body that arrives a few lines at a time, as a slow client would send it. */
function streamOf(lines: Iterable<string>, linesPerChunk = 500): ReadableStream<Uint8Array> {
  const iterator = lines[Symbol.iterator]();
  return new ReadableStream({
    pull(controller) {
      let text = '';
      for (let i = 0; i < linesPerChunk; i += 1) {
        const next = iterator.next();
        if (next.done) {
          if (text) controller.enqueue(encoder.encode(text));
          controller.close();
          return;
        }
        text += `${next.value}\n`;
      }
      controller.enqueue(encoder.encode(text));
    },
  });
}

async function newGroup(name: string, via = stack): Promise<{ id: string; name: string }> {
  const answer = await via.api('POST', '/api/groups', { json: { name } });
  expect(answer.status, answer.text).toBe(201);
  return answer.body;
}

async function upload(groupId: string, body: string | Uint8Array | ReadableStream<Uint8Array>, contentType = 'text/plain', via = stack) {
  return via.api('POST', `/api/groups/${groupId}/imports`, { body, headers: { 'content-type': contentType } });
}

async function startImport(groupId: string, body: string | Uint8Array | ReadableStream<Uint8Array>, contentType = 'text/plain', via = stack): Promise<Job> {
  const answer = await upload(groupId, body, contentType, via);
  expect(answer.status, answer.text).toBe(202);
  expect(answer.body).toMatchObject({ kind: 'import', groupId, status: 'running', workflowId: `import-${answer.body.id}` });
  return answer.body;
}

async function finished(jobId: string, via = stack): Promise<Job> {
  return eventually(async () => {
    const job = (await via.api('GET', `/api/jobs/${jobId}`)).body;
    return job.status !== 'running' && job;
  }, 120_000);
}

async function rejectsCsv(jobId: string, via = stack): Promise<string> {
  const answer = await via.api('GET', `/api/jobs/${jobId}/rejects`);
  expect(answer.status).toBe(200);
  expect(answer.headers.get('content-type')).toMatch(/^text\/csv/);
  return answer.text;
}

const csvOf = (rows: { line?: number; value?: string; reason: string }[]) =>
  toCsvRow(['line', 'value', 'reason']) + rows.map((row) => toCsvRow([row.line, row.value, row.reason])).join('');

/** The job's counts agree with each other and with the rows: codes, rejects, group counters; nothing staged is left. */
async function expectConsistent(job: Job, groupId: string, via = stack) {
  const [rows] = await via.sql<{ codes: number; rejects: number; staged: boolean; lanes: number; group: number }[]>`
    select (select count(*) from promo_code where job_id = ${job.id})::int as codes,
           (select count(*) from import_reject where job_id = ${job.id})::int as rejects,
           to_regclass(${stagingTable(job.id)}) is not null as staged,
           (select count(*) from import_lane where job_id = ${job.id})::int as lanes,
           (select count(*) from promo_code where group_id = ${groupId})::int as group`;
  expect(rows).toMatchObject({ codes: job.added, rejects: job.duplicates + job.invalid, staged: false, lanes: 0 });
  expect(job.processed).toBe(job.added + job.duplicates + job.invalid);
  expect((await via.api('GET', `/api/groups/${groupId}`)).body).toMatchObject({ total: rows!.group, active: rows!.group });
}

/** Connections of the database in a COPY into a staging table: uploads being staged. */
async function copying(): Promise<number> {
  const [row] = await stack.sql<{ count: number }[]>`
    select count(*)::int as count from pg_stat_activity where pid <> pg_backend_pid() and query ilike 'copy "import\_line\_%'`;
  return row!.count;
}

async function leftovers(groupId: string, via = stack) {
  const [row] = await via.sql<{ jobs: number; codes: number }[]>`
    select (select count(*) from job where group_id = ${groupId})::int as jobs,
           (select count(*) from promo_code where group_id = ${groupId})::int as codes`;
  return { ...row!, staged: (await stagingTables(via.sql)).length };
}

describe('importing a TXT file', () => {
  it('adds the valid codes and counts and records every bad line with its line number and reason', async () => {
    const other = await newGroup('TXT other');
    await stack.api('POST', `/api/groups/${other.id}/codes`, { json: { codes: ['TAKEN-1'] } });
    const group = await newGroup('TXT kinds');
    const file = new Uint8Array([
      ...encoder.encode(`\uFEFFT-1\n  T-2  \r\n\nT-1\nHAS SPACE\n${'L'.repeat(65)}\nüber\nctl\x01x\n`),
      ...[0x42, 0x41, 0x44, 0xff, 0x0a], // BAD + a byte that is not UTF-8
      ...encoder.encode('TAKEN-1\n\t \nT-3'),
    ]);
    const job = await startImport(group.id, file);
    expect(job.requested).toBe(10);
    const done = await finished(job.id);
    const rejected = [
      { line: 4, value: 'T-1', reason: 'duplicate of line 1' },
      { line: 5, value: 'HAS SPACE', reason: 'contains whitespace' },
      { line: 6, value: 'L'.repeat(65), reason: 'longer than 64 characters' },
      { line: 7, value: 'über', reason: 'contains a non-ASCII character' },
      { line: 8, value: 'ctl\x01x', reason: 'contains a control character' },
      { line: 9, value: 'BAD\uFFFD', reason: 'not valid UTF-8' },
      { line: 10, value: 'TAKEN-1', reason: 'already stored' },
    ];
    expect(done).toMatchObject({ status: 'completed', requested: 10, processed: 10, added: 3, duplicates: 2, invalid: 5, errors: rejected });
    expect((await stack.sql<{ code: string }[]>`select code from promo_code where group_id = ${group.id} order by code`).map((r) => r.code)).toEqual(['T-1', 'T-2', 'T-3']);
    expect(await rejectsCsv(job.id)).toBe(csvOf(rejected));
    await expectConsistent(done, group.id);

    const description = await stack.temporal.workflow.getHandle(job.workflowId).describe();
    expect(description.type).toBe('ImportCodesWorkflow');
    expect(description.typedSearchAttributes.get(PromoJobKind)).toBe('import');
  });

  it("keeps a long rejected line whole in the rejects and its first 200 characters in the job's problems, whether or not the batch meets a stored code", async () => {
    const long = `${'W'.repeat(150)} ${'ü'.repeat(149)}`;
    const other = await newGroup('Long other');
    await stack.api('POST', `/api/groups/${other.id}/codes`, { json: { codes: ['LONG-TAKEN'] } });
    for (const [name, file] of [['Long new', `LONG-1\n${long}`], ['Long stored', `LONG-2\n${long}\nLONG-TAKEN`]] as const) {
      const group = await newGroup(name);
      const done = await finished((await startImport(group.id, file)).id);
      expect(done.errors[0]).toEqual({ line: 2, value: long.slice(0, 200), reason: 'contains whitespace' });
      expect(await rejectsCsv(done.id)).toContain(toCsvRow([2, long, 'contains whitespace']));
      await expectConsistent(done, group.id);
    }
  });

  it('imports an empty file as a job with nothing to do', async () => {
    const group = await newGroup('Empty file');
    const job = await startImport(group.id, '\n \n');
    expect(await finished(job.id)).toMatchObject({ status: 'completed', requested: 0, processed: 0, added: 0 });
  });

  it('answers a file whose codes collide with another group with the collisions as duplicates', async () => {
    const first = await newGroup('Collide A');
    const codes = Array.from({ length: 10 }, (_, i) => `COL-${i}`);
    await stack.api('POST', `/api/groups/${first.id}/codes`, { json: { codes: codes.filter((_, i) => i % 2 === 0) } });
    const second = await newGroup('Collide B');
    const done = await finished((await startImport(second.id, codes.join('\n'))).id);
    expect(done).toMatchObject({ status: 'completed', added: 5, duplicates: 5, invalid: 0 });
    expect(done.errors.map((e) => [e.line, e.reason])).toEqual([1, 3, 5, 7, 9].map((line) => [line, 'already stored']));
    expect((await stack.api('GET', `/api/groups/${first.id}`)).body.total).toBe(5);
    await expectConsistent(done, second.id);
  });
});

describe('racing writers', () => {
  it('skips a code another writer stores while the batch runs, as already stored', async () => {
    const other = await newGroup('Race other');
    const group = await newGroup('Race import');
    const racer = await stack.sql.reserve();
    try {
      // stored by a transaction still open when the batch adds its codes: its insert then waits on it
      await racer`begin`;
      await racer`insert into promo_code (group_id, code) values (${other.id}, 'RACE-2')`;
      const job = await startImport(group.id, 'RACE-1\nRACE-2\nRACE-3');
      await eventually(async () => {
        const [waiting] = await stack.sql`select 1 from pg_stat_activity where wait_event_type = 'Lock' and query ilike '%insert into promo_code%'`;
        return waiting !== undefined;
      });
      await racer`commit`;
      const done = await finished(job.id);
      expect(done).toMatchObject({ status: 'completed', added: 2, duplicates: 1, invalid: 0 });
      expect(done.errors).toEqual([{ line: 2, value: 'RACE-2', reason: 'already stored' }]);
      await expectConsistent(done, group.id);
    } finally {
      racer.release();
    }
  });
});

describe('importing a CSV file', () => {
  it('takes the code column through quotes, commas, escaped quotes, line breaks, a BOM and CRLF', async () => {
    const group = await newGroup('CSV kinds');
    const file =
      '\uFEFFid,"Code",note\r\n' +
      '1,Q-1,plain\r\n' +
      '2,"Q-2","with, comma"\r\n' +
      '3,"Q""3","quote ""inside"""\r\n' +
      '\r\n' +
      '5,"  Q-4  ","two\r\nlines"\r\n' +
      '7,,empty code\r\n' +
      '8,"Q,5",comma in code\r\n' +
      '9,Q-1,again\r\n' +
      '10,"Q\r\n6",line break in code\r\n' +
      '12\r\n';
    const job = await startImport(group.id, file, 'text/csv; charset=utf-8');
    expect(job.requested).toBe(9);
    const done = await finished(job.id);
    const rejected = [
      { line: 8, value: '', reason: 'empty' },
      { line: 10, value: 'Q-1', reason: 'duplicate of line 2' },
      { line: 11, value: 'Q\r\n6', reason: 'contains whitespace' },
      { line: 13, value: '', reason: 'empty' },
    ];
    expect(done).toMatchObject({ status: 'completed', requested: 9, added: 5, duplicates: 1, invalid: 3, errors: rejected });
    const stored = await stack.sql<{ code: string }[]>`select code from promo_code where group_id = ${group.id} order by code`;
    expect(stored.map((r) => r.code)).toEqual(['Q"3', 'Q,5', 'Q-1', 'Q-2', 'Q-4']);
    expect(await rejectsCsv(job.id)).toBe(csvOf(rejected));
    await expectConsistent(done, group.id);
  });

  it('refuses a CSV without a code column with 400, leaving nothing behind', async () => {
    const group = await newGroup('CSV no code');
    const answer = await upload(group.id, streamOf(['name,coupon', ...Array.from({ length: 5000 }, (_, i) => `n${i},C${i}`)]), 'text/csv');
    expect(answer.status).toBe(400);
    expect(answer.headers.get('content-type')).toBe('application/problem+json');
    expect(answer.body.detail).toMatch(/no `code` column/);
    expect(answer.body.errors).toEqual([{ path: 'file', message: expect.stringMatching(/"name", "coupon"/) }]);
    expect(await leftovers(group.id)).toEqual({ jobs: 0, staged: 0, codes: 0 });
  });
});

describe('upload rules', () => {
  it('answers 413 past the limit and leaves no job, no staged line and no code', async () => {
    const group = await newGroup('Too large');
    const lines = Array.from({ length: 100_000 }, (_, i) => `BIG-${String(i).padStart(8, '0')}`); // 1.4 MB
    const streamed = await upload(group.id, streamOf(lines));
    expect(streamed.status).toBe(413);
    expect(streamed.body.detail).toMatch(/larger than 1048576 bytes/);
    expect(streamed.headers.get('connection'), 'the rest of the body is not read: the connection must not be reused').toBe('close');
    expect(await leftovers(group.id)).toEqual({ jobs: 0, staged: 0, codes: 0 });
    // a declared length past the limit is refused before anything is read
    const declared = await stack.api('POST', `/api/groups/${group.id}/imports`, {
      body: lines.join('\n'),
      headers: { 'content-type': 'text/plain', 'content-length': String(lines.join('\n').length) },
    });
    expect(declared.status).toBe(413);
    expect(await leftovers(group.id)).toEqual({ jobs: 0, staged: 0, codes: 0 });
    // just under the limit is fine: the app-wide (smaller) body limit does not apply to imports
    const fits = lines.slice(0, 70_000).join('\n');
    expect(fits.length).toBeLessThan(MAX_IMPORT_BYTES);
    expect(fits.length).toBeGreaterThan(MAX_BODY_BYTES * 10);
    expect((await finished((await startImport(group.id, fits)).id)).added).toBe(70_000);
  });

  it.each([
    ['chunked', { 'transfer-encoding': 'chunked' }],
    ['of a declared length', { 'content-length': String(MAX_IMPORT_BYTES - 1) }],
  ])('leaves no job, no staged line and no code when the client drops the connection mid-upload (body %s)', async (kind, framing) => {
    const group = await newGroup(`Dropped upload, ${kind}`);
    const base = await serveStack(stack);
    const socket = connect({ host: '127.0.0.1', port: Number(new URL(base).port) });
    await once(socket, 'connect');
    const chunked = 'transfer-encoding' in framing;
    const head = Object.entries({ host: '127.0.0.1', authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'text/plain', ...framing })
      .map(([name, value]) => `${name}: ${value}\r\n`).join('');
    socket.write(`POST /api/groups/${group.id}/imports HTTP/1.1\r\n${head}\r\n`);
    const part = Array.from({ length: 5_000 }, (_, i) => `DROP-${group.id}-${i}\n`).join('');
    socket.write(chunked ? `${part.length.toString(16)}\r\n${part}\r\n` : part);
    // the lines are being staged: the upload's COPY is open
    await eventually(async () => (await copying()) > 0, 10_000, 20);
    socket.destroy();
    await eventually(async () => (await copying()) === 0, 10_000, 20).catch(() => {
      throw new Error('the COPY of a dropped upload stays open, holding its connection');
    });
    expect(await leftovers(group.id)).toEqual({ jobs: 0, staged: 0, codes: 0 });
    // the service goes on: the same group takes a whole file
    expect(await finished((await startImport(group.id, `AFTER-${group.id}-1\nAFTER-${group.id}-2\n`)).id)).toMatchObject({ status: 'completed', added: 2 });
  });

  it('answers 404 for an unknown group before reading the body', async () => {
    const untouchable = new ReadableStream<Uint8Array>({
      pull() {
        throw new Error('the body was read');
      },
    });
    const answer = await upload('987654321', untouchable);
    expect(answer.status).toBe(404);
    expect(answer.body.detail).toMatch(/no promo code group/);
  });

  it('refuses other content types with 415', async () => {
    const group = await newGroup('Wrong type');
    const answer = await stack.api('POST', `/api/groups/${group.id}/imports`, { json: { codes: ['A'] } });
    expect(answer.status).toBe(415);
    expect(await leftovers(group.id)).toMatchObject({ jobs: 0, codes: 0 });
  });

  it('takes the file as multipart/form-data field `file`, CSV by type or name', async () => {
    const group = await newGroup('Multipart');
    const form = new FormData();
    form.append('note', 'ignored');
    form.append('file', new Blob(['M-1\nM-2\nM-1\n'], { type: 'text/plain' }), 'codes.txt');
    const answer = await stack.api('POST', `/api/groups/${group.id}/imports`, { body: form });
    expect(answer.status, answer.text).toBe(202);
    expect(await finished(answer.body.id)).toMatchObject({ status: 'completed', requested: 3, added: 2, duplicates: 1 });
    const csvForm = new FormData();
    csvForm.append('file', new Blob(['id,code\n1,"M-3"\n2,M-4\n'], { type: 'application/octet-stream' }), 'export.CSV');
    const csv = await stack.api('POST', `/api/groups/${group.id}/imports`, { body: csvForm });
    expect(await finished(csv.body.id)).toMatchObject({ status: 'completed', added: 2 });
    expect((await stack.api('GET', `/api/groups/${group.id}`)).body.total).toBe(4);
    const noFile = new FormData();
    noFile.append('other', 'x');
    const refused = await stack.api('POST', `/api/groups/${group.id}/imports`, { body: noFile });
    expect(refused.status).toBe(400);
    expect(refused.body.errors[0].path).toBe('file');
  });

  it('is described in the OpenAPI document, with the rejects download', async () => {
    const doc = (await stack.api('GET', '/api/openapi.json', { token: null })).body;
    expect(Object.keys(doc.paths['/api/groups/{id}/imports'].post.requestBody.content)).toEqual(['text/plain', 'text/csv', 'multipart/form-data']);
    expect(doc.paths['/api/jobs/{id}/rejects'].get.responses['200'].content).toHaveProperty('text/csv');
  });

  it('answers 404 for the rejects of an unknown job', async () => {
    expect((await stack.api('GET', '/api/jobs/987654321/rejects')).status).toBe(404);
  });
});

describe('staging with COPY', () => {
  it('fails, instead of waiting forever, when the server refuses what is copied', async () => {
    await stack.sql`create table copy_refused (code text)`;
    const refused = copyFrom(stack.sql`copy copy_refused (code) from stdin`, ['A\n', 'B\textra column\n', 'C\n']);
    await expect(refused).rejects.toThrow(/extra data after last expected column/);
    expect((await stack.sql`select 1 as ok`)[0]).toEqual({ ok: 1 });
  });
});

describe('large imports', () => {
  it('gives exactly 100 duplicates and 10 invalid lines for a 20,000-line file, all listed in the rejects', async () => {
    const group = await newGroup('Twenty thousand');
    const lines = Array.from({ length: 20_000 }, (_, i) => `TT-${i}`);
    const duplicateLines = new Set<number>();
    // repeats of earlier lines, inside a batch and across batches (the test worker's batch is 1,000 lines)
    for (let k = 0; k < 100; k += 1) {
      const at = 500 + k * 193;
      lines[at] = lines[at - 1 - ((k * 37) % 400) - (k % 3 === 0 && at > 1500 ? 1000 : 0)]!;
      duplicateLines.add(at + 1);
    }
    const invalidLines = new Set<number>();
    for (let k = 0; k < 10; k += 1) {
      const at = 777 + k * 1901;
      lines[at] = `BAD CODE ${k}`;
      invalidLines.add(at + 1);
    }
    const job = await startImport(group.id, streamOf(lines, 333));
    expect(job.requested).toBe(20_000);
    const done = await finished(job.id);
    expect(done).toMatchObject({ status: 'completed', requested: 20_000, processed: 20_000, added: 19_890, duplicates: 100, invalid: 10 });
    expect(done.errors).toHaveLength(110);
    const csv = (await rejectsCsv(job.id)).trimEnd().split('\r\n');
    expect(csv[0]).toBe('line,value,reason');
    expect(csv.slice(1).map((row) => Number(row.split(',')[0]))).toEqual([...duplicateLines, ...invalidLines].sort((a, b) => a - b));
    // a repeat in the batch of an earlier line names that line; one whose value a later batch meets stored finds the code this job stored
    const repeats = csv.slice(1).filter((row) => /duplicate of/.test(row)).map((row) => row.split(','));
    expect(repeats).toHaveLength(100);
    for (const [line, value, reason] of repeats) {
      if (reason === 'duplicate of an earlier line') continue;
      const earlier = Number(/^duplicate of line (\d+)$/.exec(reason!)?.[1]);
      expect(earlier, `line ${line}: ${reason}`).toBeLessThan(Number(line));
      expect(lines[earlier - 1], `line ${line}: ${reason}`).toBe(value);
    }
    expect(new Set(repeats.map(([, , reason]) => reason === 'duplicate of an earlier line'))).toEqual(new Set([true, false]));
    await expectConsistent(done, group.id);
  });

  it('can be cancelled mid-import; codes already added stay and the counts agree', async () => {
    const group = await newGroup('Cancelled import');
    const job = await startImport(group.id, streamOf(Array.from({ length: 60_000 }, (_, i) => `CX-${i}`), 2000));
    await eventually(async () => (await stack.api('GET', `/api/jobs/${job.id}`)).body.processed > 0 || undefined, 60_000, 20);
    expect((await stack.api('POST', `/api/jobs/${job.id}/cancel`)).status).toBe(202);
    const done = await finished(job.id);
    expect(done.status).toBe('cancelled');
    expect(done.added).toBeGreaterThan(0);
    expect(done.added).toBeLessThan(60_000);
    await expectConsistent(done, group.id);
  });
});

describe('crash safety', () => {
  it.each([
    ['killed (SIGKILL)', 'kill'],
    ['stopped as a deploy does (SIGTERM)', 'terminate'],
  ] as const)('ends with the same counts when the worker is %s mid-import and restarted', async (_, stop) => {
    const crashStack = await testStack({ worker: false, env: { PROMO_IMPORT_BATCH_SIZE: '500' } });
    const group = await newGroup(`Stopped import ${stop}`, crashStack);
    const lines = Array.from({ length: 30_000 }, (_, i) => (i % 100 === 99 ? `KI-${i - 50}` : i % 1000 === 10 ? `bad ${i}` : `KI-${i}`));
    const job = await killWorkerMidJob(crashStack, () => startImport(group.id, streamOf(lines), 'text/plain', crashStack), (progress) => progress.processed >= 3000, stop);
    const done = await finished(job.id, crashStack);
    expect(done).toMatchObject({ status: 'completed', requested: 30_000, processed: 30_000, duplicates: 300, invalid: 30, added: 30_000 - 330 });
    await expectConsistent(done, group.id, crashStack);
  }, 180_000); // two worker processes to start and a batch's heartbeat timeout (15 s) to wait out, on a busy machine

  it('fails an import whose staged lines were lost (an unlogged table after a database crash), saying so', async () => {
    const idle = await testStack({ worker: false });
    const group = await newGroup('Lost lines', idle);
    const job = await startImport(group.id, 'L-1\nL-2\nL-3\n', 'text/plain', idle);
    await idle.sql`truncate ${idle.sql(stagingTable(job.id))}`; // what crash recovery does to an unlogged table
    const worker = await startTestWorker(idle.sql, idle.taskQueue, idle.config, idle.temporal);
    const done = await finished(job.id, idle).finally(() => worker.stop());
    expect(done).toMatchObject({ status: 'failed', processed: 0, added: 0 });
    expect(done.errors.at(-1)?.reason).toMatch(/3 of the file's 3 lines were lost .* upload the file again/);
  });
});

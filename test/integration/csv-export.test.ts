import { beforeAll, describe, expect, it, vi } from 'vitest';
import { serveStack } from '../support/http-server.js';
import { eventually, groupWithCodes, TEST_TOKEN, testStack, type TestStack } from '../support/stack.js';

// The CSV downloads (codes of a group, rejects of an import) as a spreadsheet and as a client
// on a real HTTP connection see them.

let stack: TestStack;
beforeAll(async () => {
  stack = await testStack();
});

/** RFC 4180, as a spreadsheet reads it: records of cells, quotes undone. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i]!;
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 1;
      } else if (char === '"') quoted = false;
      else cell += char;
    } else if (char === '"' && cell === '') quoted = true;
    else if (char === ',') {
      row.push(cell);
      cell = '';
    } else if (char === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i += 1;
    } else cell += char;
  }
  if (cell !== '' || row.length > 0) rows.push([...row, cell]);
  return rows;
}

/** Cells a spreadsheet would evaluate as a formula. */
const formulas = (rows: string[][]) => rows.flat().filter((cell) => /^[=+\-@\t\r]/.test(cell));

describe('CSV exports', () => {
  const dangerous = ['=1+1', '@SUM(A1)', '-5', "+CMD|'/c_calc'!A1", '=HYPERLINK("http://x","y")'];

  it('neutralise cells that a spreadsheet would take for a formula (codes export)', async () => {
    const group = await groupWithCodes(stack, 'Formulas', [...dangerous, 'PLAIN-1']);
    const answer = await stack.api('GET', `/api/groups/${group.id}/codes`, { headers: { accept: 'text/csv' } });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^text\/csv/);
    const rows = parseCsv(answer.text);
    expect(rows[0]).toEqual(['code', 'status', 'customerId', 'issuedAt']);
    expect(formulas(rows)).toEqual([]);
    expect(rows.slice(1).map((row) => row[0]).sort()).toEqual([...dangerous.map((code) => `'${code}`), 'PLAIN-1'].sort());
  });

  it('neutralise an import reject\'s value', async () => {
    const group = await groupWithCodes(stack, 'Rejects');
    const upload = await stack.api('POST', `/api/groups/${group.id}/imports`, { text: '=2+2\n=2+2\n-6\n-6\n@x y\n' });
    expect(upload.status, upload.text).toBe(202);
    await eventually(async () => (await stack.api('GET', `/api/jobs/${upload.body.id}`)).body.status === 'completed');
    const answer = await stack.api('GET', `/api/jobs/${upload.body.id}/rejects`);
    const rows = parseCsv(answer.text);
    expect(formulas(rows)).toEqual([]);
    expect(rows.slice(1).map((row) => row[1])).toEqual(["'=2+2", "'-6", "'@x y"]);
  });

  it('breaks the download when the database fails half-way, instead of ending a truncated file cleanly', async () => {
    const group = await groupWithCodes(stack, 'Large');
    const total = 300_000;
    await stack.sql`insert into promo_code (group_id, code) select ${group.id}, 'LARGE-' || lpad(n::text, 7, '0') from generate_series(1, ${total}) n`;
    const base = await serveStack(stack);
    // @hono/node-server reports a response stream that fails with console.error
    const printed = vi.spyOn(console, 'error').mockImplementation(() => {});
    const response = await fetch(`${base}/api/groups/${group.id}/codes`, { headers: { accept: 'text/csv', authorization: `Bearer ${TEST_TOKEN}` } });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    let bytes = 0;
    const first = await reader.read();
    bytes += first.value?.byteLength ?? 0;
    // the export's cursor is between fetches now: its connection goes away
    const killed = await eventually(async () => {
      const rows = await stack.sql<{ killed: boolean }[]>`
        select pg_terminate_backend(pid) as killed from pg_stat_activity
         where datname = current_database() and pid <> pg_backend_pid() and state <> 'idle'
           and query like '%from promo_code%order by status, id%'`;
      return rows.length > 0 && rows.every((row) => row.killed);
    }, 10_000, 20);
    expect(killed).toBe(true);
    const rest = (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return 'clean end';
        bytes += value.byteLength;
      }
    })().catch((error: unknown) => error);
    let timer: NodeJS.Timeout | undefined;
    const stuck = new Promise((resolve) => (timer = setTimeout(resolve, 20_000, 'neither an end nor an error in 20 s')));
    const outcome = await Promise.race([rest, stuck]);
    clearTimeout(timer);
    expect(outcome, `the client must see the download break (${bytes} bytes read)`).toBeInstanceOf(Error);
    expect(bytes).toBeLessThan(total * 'LARGE-0000000,active,,\r\n'.length);
    // The server reports the database's failure. postgres.js passes a socket error on as it is:
    // when its next fetch reaches the backend as it is terminated, the backend's socket closes
    // with that fetch unread, and the export sees the reset (`read ECONNRESET`, seen on CI)
    // before the backend's FATAL message.
    const databaseFailure = /CONNECTION_CLOSED|terminat|ECONNRESET/i;
    await eventually(async () => printed.mock.calls.some(([error]) => error instanceof Error && databaseFailure.test(error.message)), 10_000).catch(
      (error: unknown) => {
        throw new Error(`${String(error)}; console.error got ${JSON.stringify(printed.mock.calls.map((call) => call.map(String)))}`);
      },
    );
    printed.mockRestore();
    // the service goes on answering
    expect((await stack.api('GET', `/api/groups/${group.id}`)).status).toBe(200);
  });
});

import type postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSql, type Sql } from '../../src/db/client.js';
import { claimRecipients, finishMailing, loadUnsettledRecipients, recordOutcomes } from '../../src/db/mailing-delivery.js';
import { importBatch, stageImport } from '../../src/db/imports.js';
import { IssueBatcher } from '../../src/db/issue-batcher.js';
import { issueCodes } from '../../src/db/issuance.js';
import { getJob } from '../../src/db/jobs.js';
import { reserveMailingCodes } from '../../src/db/mailing-reservation.js';
import { IMPORT_LANES } from '../../src/domain/import-lanes.js';
import { createMailing, getMailingRecord } from '../../src/db/mailings.js';
import { expectLifecycleInvariants } from '../support/invariants.js';
import { testStack } from '../support/stack.js';

/*
 * Settling a batch finds its codes by primary key from a list. The statistics of promo_code are
 * usually older than the mailing's reservation and say that no code is blocked; planned on them,
 * "blocked codes of this mailing" looked like one row, and the planner read the whole code table
 * and compared every row with every code of the list: 27 s for 1,000 codes among 100,000
 * blocked ones. Then, with the table scan ruled out, it read every blocked code through the
 * (group, status) index instead, and again compared each with every code of the list: 140 s for
 * a batch of 2,500 among 100,000 blocked codes (`PROMO_MAILING_BATCH_SIZE=2500 npm run bench --
 * mailing`), and chosen for batches of 1,000 too once the table holds fewer than about 150,000
 * codes. Recording a batch's failures had the same fault: planned as if no recipient were being
 * sent, it compared each of them with every failure (1.4 s for 1,000 failures among 4,000
 * recipients being sent). Codes are found through the primary key, nothing else of the table is
 * read, and no join compares rows it then throws away.
 */

const CODES = 6000;
const RECIPIENTS = 2000;
let sql: Sql;
let databaseUrl: string;
/** Notices of the connection, while something listens */
let onNotice: ((notice: postgres.Notice) => void) | undefined;

beforeAll(async () => {
  const stack = await testStack({ worker: false });
  databaseUrl = stack.databaseUrl;
  // one connection: what it scanned is flushed to the statistics views on demand
  sql = createSql(stack.databaseUrl, { max: 1, onnotice: (notice) => onNotice?.(notice) });
  const [group] = await sql<{ id: string }[]>`insert into promo_group (name, name_key) values ('Plans', 'plans') returning id`;
  await sql`insert into promo_code (group_id, code) select ${group!.id}, 'PLAN-' || n from generate_series(1, ${CODES}) as n`;
  await sql`analyze promo_code`;
  // the statistics stay those of before the reservations and claims
  await sql`alter table promo_code set (autovacuum_enabled = false)`;
  await sql`alter table mailing_recipient set (autovacuum_enabled = false)`;
});
afterAll(async () => {
  await sql`alter table promo_code reset (autovacuum_enabled)`;
  await sql`alter table mailing_recipient reset (autovacuum_enabled)`;
  await sql.end();
});

/** Whole-table scans of each of `tables` so far, by this connection included. */
async function tableScans(...tables: string[]): Promise<Record<string, number>> {
  const rows = await statistics(sql`select relname, seq_scan as n from pg_stat_user_tables where relname in ${sql(tables)}`);
  return Object.fromEntries(rows.map((row) => [row.relname, Number(row.n)]));
}

/**
 * Rows that joins compared and threw away while `work` ran, over every statement it ran (each
 * planned and analyzed by auto_explain, whose plans this connection receives as notices): a
 * join that filters rows after pairing them compares every row of one side with every row of
 * the other, which is the cost that grows with the square of a batch.
 */
async function joinFilterRemovals(work: () => Promise<unknown>): Promise<number> {
  const plans: unknown[] = [];
  await sql`load 'auto_explain'`;
  await sql.unsafe(`set auto_explain.log_min_duration = 0; set auto_explain.log_analyze = on; set auto_explain.log_timing = off;
                    set auto_explain.log_nested_statements = on; set auto_explain.log_format = json; set client_min_messages = log`);
  onNotice = (notice) => {
    const json = notice.message?.match(/plan:\s*(\{[\s\S]*)$/)?.[1];
    if (json) plans.push(JSON.parse(json));
  };
  try {
    await work();
  } finally {
    onNotice = undefined;
    await sql.unsafe('set auto_explain.log_min_duration = -1; reset client_min_messages');
  }
  expect(plans.length).toBeGreaterThan(0);
  const removed = (node: any): number => (node['Rows Removed by Join Filter'] ?? 0) + (node.Plans ?? []).reduce((sum: number, child: unknown) => sum + removed(child), 0);
  return plans.reduce((sum: number, plan: any) => sum + removed(plan.Plan), 0);
}

/** Index entries of promo_code read while `work` runs, by index (those it read). */
async function codeIndexReadsDuring(work: () => Promise<unknown>): Promise<Record<string, number>> {
  const reads = async () => statistics(sql`select indexrelname as index, idx_tup_read as n from pg_stat_user_indexes where relname = 'promo_code'`);
  const before = new Map((await reads()).map((row) => [row.index, Number(row.n)]));
  await work();
  const after = await reads();
  return Object.fromEntries(after.map((row) => [row.index, Number(row.n) - before.get(row.index)!]).filter(([, n]) => n !== 0));
}

/** Index entries read from every index of `table` so far, by this connection included. */
async function indexEntriesRead(table: string): Promise<number> {
  const [row] = await statistics(sql`select sum(idx_tup_read) as n from pg_stat_user_indexes where relname = ${table}`);
  return Number(row!.n);
}

async function statistics(query: postgres.PendingQuery<postgres.Row[]>) {
  await sql`select pg_stat_force_next_flush()`;
  await sql`select pg_stat_clear_snapshot()`;
  return query;
}

async function reservedMailing(publicId: string) {
  const recipients = Array.from({ length: RECIPIENTS }, (_, i) => ({ customerId: `${publicId}-${i}` }));
  await createMailing(sql, { publicId, name: publicId, channel: { type: 'log' }, template: { body: '{{ client.promocode("Plans") }}' }, recipients });
  expect(await reserveMailingCodes(sql, publicId)).toEqual({ ok: true, lastSeq: RECIPIENTS });
  return getMailingRecord(sql, publicId);
}

/*
 * The reservation blocks the codes it picked. Joined to the code table as a whole, the picked
 * codes were hashed and every code of every group read to find them, whenever they were a large
 * part of the table (a third here): the cost of a mailing grew with the service's whole stock
 * (1.1–1.8 s more for 100,000 codes among 3.1 million). They are to be found by primary key.
 */
describe('reserving codes', () => {
  it("blocks a mailing's codes without scanning the code table", async () => {
    const before = await tableScans('promo_code');
    await reservedMailing('reserve-scan');
    expect(await tableScans('promo_code')).toEqual(before);
    await finishMailing(sql, 'reserve-scan', 'cancelled');
    await expectLifecycleInvariants(sql);
  });
});

describe('settling codes on statistics taken before the reservation', () => {
  it('issues a batch\'s codes without scanning the code table', async () => {
    const mailing = await reservedMailing('settle-sent');
    const { recipients } = await loadUnsettledRecipients(sql, 'settle-sent', 1, RECIPIENTS / 2);
    await claimRecipients(sql, mailing, recipients.map((r) => r.seq), 1);
    const before = await tableScans('promo_code');
    const outcomes = recipients.map((r) => ({ seq: r.seq, customerId: r.customerId, status: 'sent' as const, used: r.reserved.map((c) => c.codeId), repeated: [] }));
    let removed = 0;
    const reads = await codeIndexReadsDuring(async () => {
      removed = await joinFilterRemovals(async () => {
        expect(await recordOutcomes(sql, mailing, 1, outcomes)).toEqual({ sent: RECIPIENTS / 2, failed: 0, unknown: 0 });
      });
    });
    expect(await tableScans('promo_code')).toEqual(before);
    expect(Object.keys(reads)).toEqual(['promo_code_pkey']);
    expect(removed).toBe(0);
    await finishMailing(sql, 'settle-sent', 'cancelled');
    await expectLifecycleInvariants(sql);
  });

  it("records a batch's failures reading its own recipients, not the mailing's", async () => {
    const mailing = await reservedMailing('settle-failed');
    const { recipients } = await loadUnsettledRecipients(sql, 'settle-failed', 1, RECIPIENTS);
    await claimRecipients(sql, mailing, recipients.map((r) => r.seq), 1);
    // one small batch's failures while every recipient of the mailing is being sent
    const failed = recipients.slice(0, 100).map((r) => ({ seq: r.seq, customerId: r.customerId, status: 'failed' as const, error: 'refused', used: [], repeated: [] }));
    const before = await tableScans('mailing_recipient');
    const removed = await joinFilterRemovals(async () => {
      expect(await recordOutcomes(sql, mailing, 1, failed)).toEqual({ sent: 0, failed: 100, unknown: 0 });
    });
    expect(await tableScans('mailing_recipient')).toEqual(before);
    expect(removed).toBe(0);
    await finishMailing(sql, 'settle-failed', 'cancelled');
    await expectLifecycleInvariants(sql);
  });

  it('releases a cancelled mailing\'s codes without scanning the code table', async () => {
    await reservedMailing('settle-cancelled');
    const before = await tableScans('promo_code');
    let removed = 0;
    const reads = await codeIndexReadsDuring(async () => {
      removed = await joinFilterRemovals(() => finishMailing(sql, 'settle-cancelled', 'cancelled'));
    });
    expect(await tableScans('promo_code')).toEqual(before);
    expect(Object.keys(reads)).toEqual(['promo_code_pkey']);
    expect(removed).toBe(0);
    const [blocked] = await sql`select count(*)::int as n from promo_code where status = 'blocked'`;
    expect(blocked!.n).toBe(0);
    await expectLifecycleInvariants(sql);
  });
});

/*
 * A recipient row gets two new versions (claimed, then settled), neither changing an indexed
 * column. They stay on the row's page, with no new index entries (HOT), only where the page has
 * room for both: the version the claim replaced cannot be pruned while other transactions (the
 * other batches') may still see it. On half-full pages about 40 % of the settles moved.
 */
describe("a recipient's claim and settle", () => {
  it('stay on its page while another transaction holds an older snapshot', async () => {
    const mailing = await reservedMailing('hot-recipients');
    const { recipients } = await loadUnsettledRecipients(sql, 'hot-recipients', 1, RECIPIENTS);
    const updates = async () => {
      const [row] = await statistics(sql`select n_tup_upd as all, n_tup_hot_upd as hot from pg_stat_user_tables where relname = 'mailing_recipient'`);
      return { all: Number(row!.all), hot: Number(row!.hot) };
    };
    const before = await updates();
    const other = createSql(databaseUrl, { max: 1 });
    try {
      const holder = await other.reserve();
      await holder`begin isolation level repeatable read`;
      await holder`select 1`; // its snapshot is taken: versions replaced from now on stay visible to it
      await claimRecipients(sql, mailing, recipients.map((r) => r.seq), 1);
      const outcomes = recipients.map((r) => ({ seq: r.seq, customerId: r.customerId, status: 'sent' as const, used: r.reserved.map((c) => c.codeId), repeated: [] }));
      expect(await recordOutcomes(sql, mailing, 1, outcomes)).toEqual({ sent: RECIPIENTS, failed: 0, unknown: 0 });
      await holder`rollback`;
      holder.release();
    } finally {
      await other.end();
    }
    const after = await updates();
    expect({ all: after.all - before.all, hot: after.hot - before.hot }).toEqual({ all: 2 * RECIPIENTS, hot: 2 * RECIPIENTS });
    await finishMailing(sql, 'hot-recipients', 'completed');
    await expectLifecycleInvariants(sql);
  });
});

/*
 * A send batch loads its recipients' customer rows and, for last_promocode, each one's last code
 * of the group. Joined to the customer and issuance tables as a whole, both were planned as
 * scans of those tables for every batch (60–90 ms each at 100,000 customers); they are to be
 * index lookups, one per recipient.
 */
describe('loading a send batch', () => {
  it("reads the recipients' customers and last codes without scanning the customer or issuance table", async () => {
    const [earlier] = await sql<{ id: string }[]>`insert into promo_group (name, name_key) values ('Earlier plans', 'earlier plans') returning id`;
    /** Issues a code of "Earlier plans" to customer `customer(n)` for each n, `secondsAgo(n)` ago, with its history row. */
    const issueEarlier = (n: { from: number; to: number }, code: postgres.Fragment, customer: postgres.Fragment, secondsAgo: postgres.Fragment) => sql`
      with given as (
        insert into promo_code (group_id, code, status, customer_id, issued_at)
        select ${earlier!.id}, ${code}, 'issued', ${customer}, now() - make_interval(secs => ${secondsAgo})
          from generate_series(${n.from}::int, ${n.to}::int) as n where ${customer} is not null
        returning id, customer_id, issued_at)
      insert into code_issuance (customer_id, group_id, code_id, kind, issued_at)
      select customer_id, ${earlier!.id}, id, 'initial', issued_at from given`;
    // other customers with a history, so that the tables are far larger than a batch
    await sql`insert into customer (id) select 'other-' || n from generate_series(1, 50000) as n`;
    await issueEarlier({ from: 1, to: 50000 }, sql`'OTHER-' || n`, sql`'other-' || n`, sql`60`);
    await createMailing(sql, {
      publicId: 'load-plans',
      name: 'load-plans',
      channel: { type: 'log' },
      template: { body: '{{ client.promocode("Plans") }} {{ client.last_promocode("Earlier plans") }}' },
      recipients: Array.from({ length: 1000 }, (_, i) => ({ customerId: `load-${i}`, attributes: { n: i } })),
    });
    // every other recipient got two codes of "Earlier plans" before: the odd one, a second later, is the last
    await issueEarlier({ from: 0, to: 1999 }, sql`'EARLIER-' || n`, sql`case when (n / 2) % 2 = 0 then 'load-' || (n / 2) end`, sql`10 - n % 2`);
    expect(await reserveMailingCodes(sql, 'load-plans')).toMatchObject({ ok: true });
    await sql`analyze customer`;
    await sql`analyze code_issuance`;

    const before = await tableScans('customer', 'code_issuance');
    const { recipients } = await loadUnsettledRecipients(sql, 'load-plans', 1, 1000);
    expect(await tableScans('customer', 'code_issuance')).toEqual(before);

    expect(recipients).toHaveLength(1000);
    expect(recipients[7]).toMatchObject({ customerId: 'load-7', attributes: { n: 7 }, last: [] });
    expect(recipients[4]).toMatchObject({ customerId: 'load-4', attributes: { n: 4 }, last: [{ groupId: earlier!.id, code: 'EARLIER-9' }] });
    expect(recipients.filter((r) => r.last.length > 0)).toHaveLength(500);
    await finishMailing(sql, 'load-plans', 'cancelled');
    await expectLifecycleInvariants(sql);
  });
});

/*
 * A direct issue looks up its requests' idempotency keys among the group's issuances. Planned on
 * statistics from before the group's history, as a busy new group's are, both lookups read every
 * keyed issuance of the group for every batch (2.4 ms a batch at 6,700 issuances, growing with
 * each one: a quarter of PostgreSQL's time under `npm run bench -- issue`). They are to be one
 * index lookup a key.
 */
describe('direct issues of a group with a history', () => {
  it("looks up the requests' keys without reading the group's other issuances", async () => {
    await sql`alter table code_issuance set (autovacuum_enabled = false)`; // the statistics stay those of before
    const [group] = await sql<{ id: string }[]>`insert into promo_group (name, name_key) values ('Keyed plans', 'keyed plans') returning id`;
    await sql`insert into promo_code (group_id, code) select ${group!.id}, 'KEYED-' || n from generate_series(1, 3100) as n`;
    await sql`analyze promo_code`;
    await sql`analyze code_issuance`;
    const earlier = await issueCodes(sql, group!.id, Array.from({ length: 3000 }, (_, i) => ({ customerId: `keyed-${i}`, idempotencyKey: `key-${i}` })));

    const requests = [...Array.from({ length: 15 }, (_, i) => ({ customerId: `later-${i}`, idempotencyKey: `later-key-${i}` })), { customerId: 'keyed-7', idempotencyKey: 'key-7' }];
    const before = await indexEntriesRead('code_issuance');
    const outcomes = await issueCodes(sql, group!.id, requests);
    expect((await indexEntriesRead('code_issuance')) - before).toBeLessThan(100);

    expect(outcomes[15]).toEqual(earlier[7]);
    const codes = outcomes.slice(0, 15).map((outcome) => ('code' in outcome ? outcome.code : outcome.refused.message));
    expect(new Set([...codes, ...earlier.map((outcome) => ('code' in outcome ? outcome.code : ''))]).size).toBe(3015);
    await sql`alter table code_issuance reset (autovacuum_enabled)`;
    await expectLifecycleInvariants(sql);
  });
});

/*
 * Codes are issued in id order, so a group's issued codes lie before its active ones. A pick
 * that scanned from the group's first code walked past every issued one (and their heap rows,
 * when the planner took the primary key for `order by id`): 4 ms a batch after 16,000 issues,
 * 9 ms after 24,000. The batcher's picks start after the last code it picked.
 */
describe('direct issues of a group with many codes issued', () => {
  it('pick the next codes without walking past the issued ones, and come back for a code released before them', async () => {
    const [group] = await sql<{ id: string }[]>`insert into promo_group (name, name_key) values ('Issued plans', 'issued plans') returning id`;
    await sql`insert into promo_code (group_id, code) select ${group!.id}, 'ISSUED-' || n from generate_series(1, 5000) as n`;
    // the group's first code held by a mailing meanwhile (blocked), as a reservation does
    await sql`update promo_code set status = 'blocked' where group_id = ${group!.id} and code = 'ISSUED-1'`;
    await sql`analyze promo_code`;
    const batcher = new IssueBatcher(sql, 500);
    const issue = (customerId: string) => batcher.issue(group!.id, { customerId });
    const first = await Promise.all(Array.from({ length: 4990 }, (_, i) => issue(`issued-${i}`)));
    expect(new Set(first).size).toBe(4990);

    let next: string[] = [];
    const reads = await codeIndexReadsDuring(async () => (next = await Promise.all(Array.from({ length: 8 }, (_, i) => issue(`next-${i}`)))));
    expect(Object.values(reads).reduce((sum, n) => sum + n, 0), JSON.stringify(reads)).toBeLessThan(100);
    expect(next.filter((code) => first.includes(code))).toEqual([]);

    // released (a failed delivery returns its code): found once the codes after the cursor are gone
    await sql`update promo_code set status = 'active' where group_id = ${group!.id} and code = 'ISSUED-1'`;
    const rest = (await sql<{ code: string }[]>`select code from promo_code where group_id = ${group!.id} and status = 'active'`).map((row) => row.code);
    expect(rest).toContain('ISSUED-1');
    expect(rest).toHaveLength(2); // it, and the last code after the cursor
    expect((await Promise.all([issue('last-0'), issue('last-1')])).sort()).toEqual(rest.sort());
    await expect(issue('none-left')).rejects.toThrow('has no active code left');
    await expectLifecycleInvariants(sql);
  });

  it('keep the cursors of the groups issued from last: an older one goes, and its group scans from its first code again', async () => {
    const groups = await sql<{ id: string }[]>`
      insert into promo_group (name, name_key) select 'Cursor ' || n, 'cursor ' || n from generate_series(1, 2) as n returning id`;
    await sql`insert into promo_code (group_id, code) select g.id, 'CURSOR-' || g.id || '-' || n from unnest(${groups.map((g) => g.id)}::bigint[]) as g (id), generate_series(1, 3000) as n`;
    await sql`analyze promo_code`;
    const batcher = new IssueBatcher(sql, 500, 1);
    const issue = (group: { id: string }, count: number, prefix: string) =>
      Promise.all(Array.from({ length: count }, (_, i) => batcher.issue(group.id, { customerId: `${prefix}-${i}` })));
    const readsOfNextBatch = async (prefix: string) => Object.values(await codeIndexReadsDuring(() => issue(groups[0]!, 8, prefix))).reduce((sum, n) => sum + n, 0);
    await issue(groups[0]!, 2980, 'cursor-first');
    expect(await readsOfNextBatch('cursor-kept')).toBeLessThan(100);
    await issue(groups[1]!, 1, 'cursor-other');
    expect(await readsOfNextBatch('cursor-dropped')).toBeGreaterThan(1000);
    await expectLifecycleInvariants(sql);
  });
});

describe('an import with many rejected lines', () => {
  it('records them without reading its job row for each', async () => {
    const [group] = await sql<{ id: string }[]>`insert into promo_group (name, name_key) values ('Rejecting', 'rejecting') returning id`;
    const lines = Array.from({ length: 3000 }, (_, i) => `not a code ${i}`).join('\n');
    const job = await stageImport(sql, group!.id, 'txt', (async function* () {
      yield new TextEncoder().encode(lines);
    })());
    const before = await indexEntriesRead('job');
    for (let lane = 0; lane < IMPORT_LANES; lane += 1) while (!(await importBatch(sql, job.id, lane, 500, () => {})).done);
    // a few reads of the job row a batch, not one a rejected line
    expect((await indexEntriesRead('job')) - before).toBeLessThan(100);
    expect(await getJob(sql, job.id)).toMatchObject({ processed: 3000, invalid: 3000, added: 0 });
    expect(await sql`select count(*)::int as n from import_reject where job_id = ${job.id}`).toEqual([{ n: 3000 }]);
  });
});

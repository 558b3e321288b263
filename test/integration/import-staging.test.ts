import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createSql, type Sql } from '../../src/db/client.js';
import { finishJob, getJob } from '../../src/db/jobs.js';
import { importBatch, stageImport } from '../../src/db/imports.js';
import { dropStaging, lockStagingTable, stagingTable } from '../../src/db/import-staging.js';
import { loadMigrations, migrate } from '../../src/db/migrate.js';
import { IMPORT_LANES, laneOfHash, valueHash } from '../../src/domain/import-lanes.js';
import { stagingTables } from '../support/staging.js';

// Each import stages its lines in a table of its own (src/db/import-staging.ts). Migration 022
// moved the lines of imports running at the upgrade from the shared import_line into such
// tables, and 023 marks all their values as possibly seen before: those imports go on from
// where they were, and lose nothing.
const laneOf = (value: string) => laneOfHash(valueHash(value));
const admin = createSql(inject('databaseUrl'), { max: 1 });
const name = `t_${randomUUID().replaceAll('-', '').slice(0, 20)}`;
let sql: Sql;
beforeAll(async () => {
  await admin.unsafe(`create database ${name}`);
  sql = createSql(inject('databaseUrl').replace(/\/postgres$/, `/${name}`));
});
afterAll(async () => {
  await sql.end({ timeout: 5 });
  await admin.unsafe(`drop database if exists ${name} with (force)`);
  await admin.end();
});

describe('migrations 022 and 023: an import running at the upgrade', () => {
  it('keeps the lines it had not moved, in line order in a table of its own, and ends with every line counted', async () => {
    const migrations = await loadMigrations();
    await migrate(sql, migrations.filter((migration) => migration.version < 22));
    const [group] = await sql<{ id: string }[]>`insert into promo_group (name) values ('Upgraded import') returning id`;
    // 8 lines, lines 1 and 2 moved before the upgrade (their codes stored, their lane positions kept)
    const values = ['UP-1', 'UP-2', 'UP-3', 'UP-4', 'UP-3', 'UP-6', 'bad value', 'UP-8'];
    const [job] = await sql<{ id: string }[]>`
      insert into job (kind, group_id, requested, processed, added, workflow_id) values ('import', ${group!.id}, 8, 2, 2, 'import-upgraded') returning id`;
    await sql`insert into promo_code (group_id, code, job_id) values (${group!.id}, 'UP-1', ${job!.id}), (${group!.id}, 'UP-2', ${job!.id})`;
    for (let line = 8; line >= 3; line -= 1) {
      const value = values[line - 1]!;
      // inserted last line first: the new table must hold them in line order whatever order they were stored in
      await sql`insert into import_line (job_id, lane, line, value, problem) values (${job!.id}, ${laneOf(value)}, ${line}, ${value}, ${value.includes(' ') ? 'contains whitespace' : null})`;
    }
    await sql`insert into import_lane (job_id, lane, done_upto) values (${job!.id}, 0, 2), (${job!.id}, 1, 1)`;

    await migrate(sql, migrations);
    expect(await sql`select to_regclass('import_line') as shared`).toEqual([{ shared: null }]);
    expect(await stagingTables(sql)).toEqual([stagingTable(job!.id)]);
    expect((await sql<{ line: string }[]>`select line from ${sql(stagingTable(job!.id))} order by ctid`).map((row) => Number(row.line))).toEqual([3, 4, 5, 6, 7, 8]);
    expect(await sql`select distinct seen from ${sql(stagingTable(job!.id))}`).toEqual([{ seen: true }]);
    expect(await sql`select * from import_lane`).toEqual([]);

    for (let lane = 0; lane < IMPORT_LANES; lane += 1) {
      while (!(await importBatch(sql, job!.id, lane, 1000, () => {})).done);
    }
    expect(await getJob(sql, job!.id)).toMatchObject({ status: 'running', requested: 8, processed: 8, added: 6, duplicates: 1, invalid: 1 });
    expect((await sql<{ code: string }[]>`select code from promo_code where job_id = ${job!.id} order by code`).map((row) => row.code)).toEqual(['UP-1', 'UP-2', 'UP-3', 'UP-4', 'UP-6', 'UP-8']);
    expect(await finishJob(sql, job!.id, { status: 'completed' })).toMatchObject({ status: 'completed' });
    expect(await stagingTables(sql)).toEqual([]);
  });
});

describe('a batch and the end of its job at once', () => {
  it('the batch that finds the staging table taken waits, then finds the job ended and adds nothing', async () => {
    const [group] = await sql<{ id: string }[]>`insert into promo_group (name) values ('Ended under a batch') returning id`;
    const job = await stageImport(sql, group!.id, 'txt', (async function* () { yield new TextEncoder().encode('EB-1\nEB-2\n'); })());
    // what finishJob does, held open after its first step: the table taken, the job not yet ended
    let ended!: () => void;
    const ending = sql.begin(async (tx) => {
      await lockStagingTable(tx, job.id);
      await new Promise<void>((resolve) => (ended = resolve));
      await tx`update job set status = 'cancelled', finished_at = now() where id = ${job.id}`;
      await dropStaging(tx, job.id);
    });
    const batch = importBatch(sql, job.id, laneOf('EB-1'), 1000, () => {});
    await expect.poll(async () => (await sql`select 1 from pg_stat_activity where wait_event_type = 'Lock' and query like '%pg_relation_size%'`).length).toBe(1);
    ended();
    await ending;
    expect(await batch).toMatchObject({ done: true, job: { status: 'cancelled', processed: 0, added: 0 } });
    expect(await sql`select code from promo_code where job_id = ${job.id}`).toEqual([]);
  });
});

describe('a repeat of a value an earlier batch of the job stored', () => {
  it('is looked up and rejected, and the batch it is in adds the rest at the first try', async () => {
    const [group] = await sql<{ id: string }[]>`insert into promo_group (name) values ('Repeat across batches') returning id`;
    // about 17 pages of lines; batches of 100 lines a lane read 2 pages: line 2,900 comes batches after line 1.
    // The repeated value sorts after the others: a plain insert failing on it would have inserted the rest of its batch first.
    const lines = Array.from({ length: 3000 }, (_, i) => `RB-${String(i).padStart(5, '0')}`);
    lines[0] = lines[2899] = 'ZZ-REPEATED';
    const job = await stageImport(sql, group!.id, 'txt', (async function* () { yield new TextEncoder().encode(`${lines.join('\n')}\n`); })());
    expect((await sql<{ line: string }[]>`select line from ${sql(stagingTable(job.id))} where seen`).map((row) => Number(row.line))).toEqual([2900]);

    // identity values are drawn by every row an insert tries, and never given back: they count the attempts
    const nextId = async () => Number((await sql<{ id: string }[]>`select nextval(pg_get_serial_sequence('promo_code', 'id')) as id`)[0]!.id);
    const before = await nextId();
    const batches: number[] = [];
    for (let lane = 0; lane < IMPORT_LANES; lane += 1) {
      let count = 0;
      for (let done = false; !done; count += 1) done = (await importBatch(sql, job.id, lane, 100, () => {})).done;
      batches.push(count);
    }
    expect(batches[laneOf('ZZ-REPEATED')]).toBeGreaterThan(5);
    expect(await getJob(sql, job.id)).toMatchObject({ processed: 3000, added: 2999, duplicates: 1, invalid: 0 });
    expect(await sql`select line, reason from import_reject where job_id = ${job.id}`).toEqual([{ line: '2900', reason: 'duplicate of an earlier line' }]);
    expect((await nextId()) - before - 1).toBe(2999);
  });
});

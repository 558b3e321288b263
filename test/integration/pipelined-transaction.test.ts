import { beforeAll, describe, expect, it } from 'vitest';
import { createSql, type Sql } from '../../src/db/client.js';
import { pipelinedTransaction } from '../../src/db/pipelined-transaction.js';
import { testDatabase } from '../support/stack.js';

let sql: Sql & { url: string };
beforeAll(async () => {
  sql = await testDatabase();
  await sql`create table pipelined (n int primary key)`;
});

describe('pipelinedTransaction', () => {
  it('runs its statements in order, each seeing what the one before it wrote, and commits them', async () => {
    const [, seen, after] = await pipelinedTransaction(sql, (tx) => [
      tx`insert into pipelined values (1)`,
      tx<{ count: number }[]>`select count(*)::int as count from pipelined`,
      tx`insert into pipelined select n + 1 from pipelined returning n`,
    ]);
    expect(seen).toEqual([{ count: 1 }]);
    expect(after).toEqual([{ n: 2 }]);
    expect(await sql`select n from pipelined order by n`).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it('keeps nothing when a statement fails, throws that first error, and leaves its connection fit for the next', async () => {
    // one connection: the next statement runs on the very connection the failed transaction used
    const single = createSql(sql.url, { max: 1 });
    await expect(
      pipelinedTransaction(single, (tx) => [tx`insert into pipelined values (10)`, tx`insert into pipelined values (1)`, tx`insert into pipelined values (11)`]),
    ).rejects.toMatchObject({ code: '23505' });
    expect(await single`select n from pipelined where n >= 10`).toEqual([]);
    // outside any transaction: what it writes next is committed at once, seen by another connection
    await single`insert into pipelined values (20)`;
    expect(await sql`select n from pipelined where n >= 10`).toEqual([{ n: 20 }]);
    await single.end();
  });
});

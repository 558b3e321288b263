import { beforeAll, describe, expect, it } from 'vitest';
import { createSql, type Sql } from '../../src/db/client.js';
import { pipelinedTransaction } from '../../src/db/pipelined-transaction.js';
import { eventually, testDatabase } from '../support/stack.js';
import { startTcpProxy } from '../support/tcp-proxy.js';

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

  it('fails at once, keeping nothing, when its connection goes mid-transaction, statements still waiting to be sent included; the pool then serves the next', async () => {
    const { proxy, pool } = await poolThroughProxy(1);
    // a statement too large for the socket's buffer: the ones after it wait in the reservation's own queue
    const large = 'x'.repeat(4_000_000);
    const transaction = pipelinedTransaction(pool, (tx) => [
      tx`insert into pipelined values (30)`,
      tx`select pg_sleep(2), length(${large})`,
      tx`insert into pipelined values (31)`,
    ]);
    await eventually(async () => (await sql`select count(*)::int as n from pg_stat_activity where query like '%pg_sleep(2)%' and pid <> pg_backend_pid()`)[0]!.n === 1, 10_000, 10);
    await proxy.stop();
    await expect(transaction).rejects.toThrow(); // EPIPE, ECONNRESET or CONNECTION_CLOSED, as the socket went
    await proxy.start();
    const [inserted] = await pipelinedTransaction(pool, (tx) => [tx`insert into pipelined values (32) returning n`]);
    expect(inserted).toEqual([{ n: 32 }]);
    expect(await sql`select n from pipelined where n between 30 and 39`).toEqual([{ n: 32 }]);
    await pool.end();
  }, 30_000);

  it('serves every caller again once the server is back after an outage under transactions, callers waiting for a connection included', async () => {
    const { proxy, pool } = await poolThroughProxy(4);
    const callers = 8; // twice the connections: some wait in the pool's queue when the connections go
    const lastCommit: number[] = new Array(callers).fill(0);
    let running = true;
    const caller = async (i: number) => {
      while (running) {
        try {
          await pipelinedTransaction(pool, (tx) => [tx`select pg_sleep(0.01)`, tx`select 1`]);
          lastCommit[i] = Date.now();
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 50)); // as a caller retries
        }
      }
    };
    const loops = Array.from({ length: callers }, (_, i) => caller(i));
    await eventually(async () => lastCommit.every((at) => at > 0), 10_000, 10);
    await proxy.stop();
    await new Promise((resolve) => setTimeout(resolve, 4000)); // long enough for reconnects to back off
    await proxy.start();
    const back = Date.now();
    await eventually(async () => lastCommit.every((at) => at > back), 40_000, 100);
    running = false;
    await Promise.all(loops);
    await pool.end();
  }, 60_000);
});

describe('sql.begin (postgres.js, patched)', () => {
  it('fails the statements still waiting to be sent when its connection goes, instead of leaving them unsettled; the pool then serves the next', async () => {
    const { proxy, pool } = await poolThroughProxy(1);
    // a statement too large for the socket's buffer: the one after it waits in the transaction's own queue
    const large = 'x'.repeat(4_000_000);
    let waiting!: Promise<unknown>;
    const transaction = pool.begin(async (tx) => {
      await tx`insert into pipelined values (40)`;
      const slow = tx`select pg_sleep(2), length(${large})`;
      waiting = tx`insert into pipelined values (41)`;
      return Promise.all([slow, waiting]);
    });
    await eventually(async () => (await sql`select count(*)::int as n from pg_stat_activity where query like '%pg_sleep(2)%' and pid <> pg_backend_pid()`)[0]!.n === 1, 10_000, 10);
    await proxy.stop();
    await expect(transaction).rejects.toThrow();
    const outcome = await Promise.race([waiting.then(() => 'resolved', () => 'rejected'), new Promise((resolve) => setTimeout(() => resolve('unsettled'), 5000))]);
    expect(outcome).toBe('rejected');
    await proxy.start();
    expect(await pool.begin((tx) => tx`insert into pipelined values (42) returning n`)).toEqual([{ n: 42 }]);
    expect(await sql`select n from pipelined where n between 40 and 49`).toEqual([{ n: 42 }]);
    await pool.end();
  }, 30_000);
});

describe('statements sent on a connection that went (postgres.js, patched)', () => {
  /** Waits until the statement with this text runs on the server. */
  const running = (text: string) =>
    eventually(async () => (await sql`select count(*)::int as n from pg_stat_activity where query like ${`%${text}%`} and pid <> pg_backend_pid()`)[0]!.n === 1, 10_000, 10);

  it('in a reservation: fails it, and leaves the connection to the pool', async () => {
    const { proxy, pool } = await poolThroughProxy(1);
    const reserved = await pool.reserve();
    const sleeping = reserved`select pg_sleep(2.1)`.execute();
    await running('pg_sleep(2.1)');
    await proxy.stop();
    await expect(sleeping).rejects.toThrow();
    await expect(reserved`select 1`).rejects.toMatchObject({ code: 'CONNECTION_CLOSED' });
    reserved.release();
    await proxy.start();
    expect(await pool`select 1 as one`).toEqual([{ one: 1 }]);
    await pool.end();
  }, 30_000);

  it('in a reservation already released: fails it, instead of running it on the connection the pool has taken back', async () => {
    const single = createSql(sql.url, { max: 1 });
    const reserved = await single.reserve();
    reserved.release();
    await expect(reserved`select 1`).rejects.toMatchObject({ code: 'CONNECTION_CLOSED' });
    expect(await single`select 1 as one`).toEqual([{ one: 1 }]);
    await single.end();
  });

  it('in a transaction (its rollback too): fails them, and leaves the connection to the pool', async () => {
    const { proxy, pool } = await poolThroughProxy(1);
    let after: Promise<unknown> | undefined;
    const transaction = pool.begin(async (tx) => {
      await tx`select pg_sleep(2.2)`.catch(() => undefined);
      after = tx`select 1`;
      return after;
    });
    await running('pg_sleep(2.2)');
    await proxy.stop();
    await expect(transaction).rejects.toThrow();
    await eventually(async () => after !== undefined);
    await expect(after).rejects.toThrow();
    await proxy.start();
    expect(await pool`select 1 as one`).toEqual([{ one: 1 }]);
    await pool.end();
  }, 30_000);
});

/** A pool of `max` connections reaching the test's database through a proxy the test can stop and start. */
async function poolThroughProxy(max: number) {
  const url = new URL(sql.url);
  const proxy = await startTcpProxy(url.host);
  url.host = proxy.address;
  return { proxy, pool: createSql(url.toString(), { max }) };
}

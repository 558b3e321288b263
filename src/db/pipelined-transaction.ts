import type postgres from 'postgres';
import type { Sql } from './client.js';

type Results<T extends readonly postgres.PendingQuery<any>[]> = { [K in keyof T]: Awaited<T[K]> };

/**
 * One transaction in one round trip: BEGIN, the statements `build` makes and COMMIT go out
 * together on a connection of its own and run in order, each seeing what the ones before it wrote
 * and locked (a statement's snapshot is taken when it starts). For statements that need none of
 * one another's results in JavaScript. When one fails, PostgreSQL refuses the rest and turns the
 * COMMIT into a ROLLBACK: nothing is kept, and that first error is thrown.
 */
export async function pipelinedTransaction<T extends readonly postgres.PendingQuery<any>[]>(
  sql: Sql,
  build: (tx: Sql) => [...T],
): Promise<Results<T>> {
  const tx = await sql.reserve();
  try {
    // execute() queues them on the connection in this order, before any answer comes back
    const sent = [tx`begin`, ...build(tx), tx`commit`].map((query) => query.execute());
    const settled = await Promise.allSettled(sent);
    const failed = settled.find((outcome) => outcome.status === 'rejected');
    if (failed) throw failed.reason;
    return settled.slice(1, -1).map((outcome) => (outcome as PromiseFulfilledResult<unknown>).value) as Results<T>;
  } finally {
    tx.release();
  }
}

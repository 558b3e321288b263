import type postgres from 'postgres';
import type { TransactionSql } from './client.js';

/**
 * The rows of the query `rows` (as `l`) for which `match` finds a row: `match` is a table and a
 * condition on it that refers to `l`, checked by a lookup of its own for each row of the list,
 * which locks the row it finds.
 *
 * A statement that changes rows of a batch joins this instead of testing their state itself
 * (or tests it in a form the planner cannot take to an index: see stillBlocked in
 * mailing-delivery.ts, which needs no lock). The state a batch looks for (codes blocked,
 * recipients being sent) is one the statistics, taken before the batch's rows got there, say no
 * row is in; a plain test of it in the statement was planned as one row, so the planner read
 * every such row of the table first and compared each with every row of the list: 1.4 s for
 * 1,000 failures among 4,000 recipients being sent, 140 s for 2,500 codes among 100,000 blocked
 * (test/integration/query-plans.test.ts).
 */
export function lockedMatches(tx: TransactionSql, rows: postgres.PendingQuery<postgres.Row[]>, match: postgres.PendingQuery<postgres.Row[]>) {
  return tx`select l.* from (${rows}) l cross join lateral (select from ${match} offset 0 for update) matched`;
}

import type { TransactionSql } from './client.js';

/**
 * Each import stages its file's lines in an UNLOGGED table of its own, `import_line_<job id>`
 * (lane, line, value, problem, seen), created in the upload's transaction and dropped when the job
 * ends. A table of its own, written by one COPY and never changed after, has no index to keep
 * up while the file arrives (a primary key took most of the staging time) and holds the lines
 * in line order, page after page: a batch reads a range of pages (a TID range scan), and a
 * lane's position is a page number. `seen`: the value may occur on an earlier line (SeenValues).
 */
export const stagingTable = (jobId: string) => `import_line_${jobId}`;

export function createStagingTable(tx: TransactionSql, jobId: string) {
  return tx`create unlogged table ${tx(stagingTable(jobId))} (lane smallint not null, line bigint not null, value text collate "C" not null, problem text, seen boolean not null)`;
}

/**
 * The first step of ending a job (finishJob): takes its staging table, if it has one, before the
 * job row, in the order a batch takes them: a batch still running finishes before the job ends.
 */
export async function lockStagingTable(tx: TransactionSql, jobId: string): Promise<boolean> {
  const [row] = await tx<{ staged: boolean }[]>`select to_regclass(${stagingTable(jobId)}) is not null as staged`;
  if (row!.staged) await tx`lock table ${tx(stagingTable(jobId))} in access exclusive mode`;
  return row!.staged;
}

/** The last step of ending a job: its staged lines and its lanes' positions go. */
export async function dropStaging(tx: TransactionSql, jobId: string): Promise<void> {
  await tx`drop table if exists ${tx(stagingTable(jobId))}`;
  await tx`delete from import_lane where job_id = ${jobId}`;
}

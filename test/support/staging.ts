import type { Sql } from '../../src/db/client.js';

/** Import staging tables (`import_line_<job id>`) in the database: uploads staged whose job has not ended. */
export async function stagingTables(sql: Sql): Promise<string[]> {
  const rows = await sql<{ relname: string }[]>`select relname from pg_class where relkind = 'r' and relname like 'import\\_line\\_%' order by relname`;
  return rows.map((row) => row.relname);
}

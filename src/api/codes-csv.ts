import type { Context } from 'hono';
import type { Sql } from '../db/client.js';
import { allCodes, type CodeStatus } from '../db/codes.js';
import { csvDownload } from './csv.js';

/** The CSV export of a group's codes (of one status, if given): the API's and the operator pages' download. */
export function codesCsv(c: Context, sql: Sql, groupId: string, status: CodeStatus | undefined): Promise<Response> {
  return csvDownload(c, `group-${groupId}-codes.csv`, ['code', 'status', 'customerId', 'issuedAt'], allCodes(sql, groupId, status), (code) => [
    code.code,
    code.status,
    code.customerId,
    code.issuedAt,
  ]);
}

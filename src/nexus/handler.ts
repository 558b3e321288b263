import * as nexus from 'nexus-rpc';
import { promoCodesService } from '../client/service.js';
import type { Sql } from '../db/client.js';
import { IssueBatcher } from '../db/issue-batcher.js';
import { issuanceOperations } from './issuance-operations.js';
import { startMailingOperation } from './start-mailing-operation.js';

/** The Nexus service `promo-codes`, as the worker serves it. */
export function promoCodesHandler(deps: { sql: Sql; issueBatchSize: number }) {
  return nexus.serviceHandler(promoCodesService, {
    ...issuanceOperations(deps.sql, new IssueBatcher(deps.sql, deps.issueBatchSize)),
    startMailing: startMailingOperation(),
  });
}

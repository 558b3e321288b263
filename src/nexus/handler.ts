import * as nexus from 'nexus-rpc';
import { promoCodesService } from '../client/service.js';
import type { Sql } from '../db/client.js';
import { issuanceOperations } from './issuance-operations.js';
import { startMailingOperation } from './start-mailing-operation.js';

/** The Nexus service `promo-codes`, as the worker serves it. */
export function promoCodesHandler(deps: { sql: Sql }) {
  return nexus.serviceHandler(promoCodesService, {
    ...issuanceOperations(deps.sql),
    startMailing: startMailingOperation(),
  });
}

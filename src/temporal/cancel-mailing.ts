import type { Client } from '@temporalio/client';
import type { Sql } from '../db/client.js';
import { cancelDraft, getMailingRecord } from '../db/mailings.js';
import { ConflictError } from '../domain/errors.js';

/**
 * Stops a mailing: a draft ends at once; a running one has its workflow cancelled, which
 * releases every code still blocked by it. A mailing that ended already is a ConflictError.
 */
export async function cancelMailing(deps: { sql: Sql; temporal: Client }, publicId: string): Promise<void> {
  const mailing = await getMailingRecord(deps.sql, publicId);
  if (mailing.status === 'draft') await cancelDraft(deps.sql, mailing.publicId);
  else if (mailing.status === 'reserving' || mailing.status === 'sending') await deps.temporal.workflow.getHandle(mailing.workflowId).cancel();
  else throw new ConflictError(`Mailing ${mailing.publicId} is ${mailing.status} already.`);
}

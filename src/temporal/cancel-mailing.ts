import type { Client } from '@temporalio/client';
import type { Sql } from '../db/client.js';
import { finishMailing } from '../db/mailing-delivery.js';
import { cancelDraft, getMailingRecord } from '../db/mailings.js';
import { ConflictError } from '../domain/errors.js';
import { requestCancel } from './cancel-workflow.js';

/**
 * Stops a mailing: a draft ends at once; a running one has its workflow cancelled, which
 * releases every code still blocked by it. A mailing that ended already is a ConflictError.
 * Without a running workflow (never started, or closed without ending the mailing) it is ended
 * cancelled here, settled by its recipients' states; one its workflow ended meanwhile is a
 * ConflictError, unless it ended cancelled.
 */
export async function cancelMailing(deps: { sql: Sql; temporal: Client }, publicId: string): Promise<void> {
  const mailing = await getMailingRecord(deps.sql, publicId);
  if (mailing.status === 'draft') await cancelDraft(deps.sql, mailing.publicId);
  else if (mailing.status === 'reserving' || mailing.status === 'sending') {
    if (await requestCancel(deps.temporal, mailing.workflowId)) return;
    const current = await getMailingRecord(deps.sql, mailing.publicId);
    if (current.status === 'reserving' || current.status === 'sending') await finishMailing(deps.sql, mailing.publicId, 'cancelled');
    const ended = await getMailingRecord(deps.sql, mailing.publicId);
    if (ended.status !== 'cancelled') throw new ConflictError(`Mailing ${ended.publicId} is ${ended.status} already.`);
  } else throw new ConflictError(`Mailing ${mailing.publicId} is ${mailing.status} already.`);
}

import { type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import type { Sql } from '../db/client.js';
import { mailingGroupTags } from '../db/mailing-tags.js';
import { ACTIVE_MAILING_STATUSES, type MailingRecord } from '../db/mailings.js';
import type { MailingPromoWorkflow } from '../workflows/mailing-promo.js';
import { PromoGroup, PromoMailingId } from './search-attributes.js';

/**
 * Makes sure a started mailing has its workflow; harmless to repeat: a running workflow is
 * reused, and a finished one is never run again.
 */
export async function ensureMailingWorkflow(deps: { sql: Sql; temporal: Client; taskQueue: string }, mailing: MailingRecord): Promise<void> {
  if (!ACTIVE_MAILING_STATUSES.includes(mailing.status)) return;
  try {
    await deps.temporal.workflow.start<typeof MailingPromoWorkflow>('MailingPromoWorkflow', {
      workflowId: mailing.workflowId,
      taskQueue: deps.taskQueue,
      args: [{ mailingId: mailing.publicId }],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      typedSearchAttributes: [
        { key: PromoMailingId, value: mailing.publicId },
        { key: PromoGroup, value: await mailingGroupTags(deps.sql, mailing.template) },
      ],
      staticSummary: `Mailing "${mailing.name}" (${mailing.publicId}) over ${mailing.channel.type}`,
      staticDetails: `Progress: query \`progress\`, or GET /api/mailings/${mailing.publicId}.`,
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
}

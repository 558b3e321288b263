import { addressPolicy, parseAllowList } from '../channels/address-policy.js';
import { finishMailing, type Tally } from '../db/mailing-delivery.js';
import { reserveMailingCodes } from '../db/mailing-reservation.js';
import { getMailing, type Mailing, type MailingRefusal } from '../db/mailings.js';
import type { ActivityDeps } from './deps.js';
import { failPermanently } from './failures.js';
import { whileHeartbeating } from './heartbeat.js';
import { recordMailing } from './record-mailing.js';
import { sendBatch } from './send-batch.js';

export interface MailingPlan {
  ok: boolean;
  error?: MailingRefusal;
  lastSeq: number;
  batchSize: number;
  parallelism: number;
  /** how long a send batch may go without a heartbeat before the server retries it elsewhere */
  heartbeatTimeoutSeconds?: number;
}

export type BatchTally = Tally;

export function mailingActivities(deps: ActivityDeps) {
  const { sql, config } = deps;
  // what the API's checks of a request need, from the worker's configuration
  const requestDeps = {
    ...deps,
    smtpConfigured: config.SMTP_URL !== undefined,
    webhookPolicy: addressPolicy(parseAllowList(config.PROMO_WEBHOOK_ALLOW).entries),
  };
  return {
    /**
     * Records the mailing of a workflow started with a request (see recordMailing); a bad
     * request fails it for good. Answers the group tags its workflow is searched by.
     */
    async recordMailing(mailingId: string, request: unknown): Promise<string[]> {
      return whileHeartbeating((context) =>
        failPermanently(() => recordMailing(requestDeps, context.info.workflowExecution?.workflowId ?? '', mailingId, request)),
      );
    },

    /** Blocks every code the mailing needs, all or nothing; says how to send the rest. */
    async reserveMailingCodes(mailingId: string): Promise<MailingPlan> {
      const reservation = await whileHeartbeating(() => reserveMailingCodes(sql, mailingId));
      return {
        ok: reservation.ok,
        ...(!reservation.ok && { error: reservation.error }),
        lastSeq: reservation.ok ? reservation.lastSeq : 0,
        batchSize: config.PROMO_MAILING_BATCH_SIZE,
        parallelism: config.PROMO_MAILING_PARALLELISM,
        heartbeatTimeoutSeconds: config.PROMO_MAILING_HEARTBEAT_SECONDS,
      };
    },

    /** Renders, delivers and records the unsettled recipients of seq range [fromSeq, toSeq], heartbeating all along. */
    async sendMailingBatch(mailingId: string, fromSeq: number, toSeq: number): Promise<BatchTally> {
      return whileHeartbeating((context) => sendBatch(deps, context, mailingId, fromSeq, toSeq));
    },

    /** What GET /api/mailings/{id} answers: the workflow's result. */
    async mailingSummary(mailingId: string): Promise<Mailing> {
      return getMailing(sql, mailingId);
    },

    async finishMailing(mailingId: string, status: 'completed' | 'failed' | 'cancelled', error?: { code: string; detail: string }): Promise<void> {
      await whileHeartbeating(() => finishMailing(sql, mailingId, status, error));
    },
  };
}

import { Context } from '@temporalio/activity';
import type { DeliveryResult, OutgoingMessage } from '../channels/channel.js';
import { openChannel } from '../channels/index.js';
import {
  type Delivery,
  finishMailing,
  type MailingGroup,
  type MailingRefusal,
  type PendingRecipient,
  recordDeliveries,
  reserveMailingCodes,
  loadPendingRecipients,
} from '../db/mailing-delivery.js';
import type { MailingRecord } from '../db/mailings.js';
import { type CompiledTemplate, compileTemplate, groupKey, TemplateRenderError } from '../domain/template.js';
import type { ActivityDeps } from './index.js';

export interface MailingPlan {
  ok: boolean;
  error?: MailingRefusal;
  lastSeq: number;
  batchSize: number;
  parallelism: number;
}

export interface BatchTally {
  sent: number;
  failed: number;
}

const HEARTBEAT_MS = 2000;

export function mailingActivities({ sql, config }: ActivityDeps) {
  const templates = new TemplateCache();
  return {
    /** Blocks every code the mailing needs, all or nothing; says how to send the rest. */
    async reserveMailingCodes(mailingId: string): Promise<MailingPlan> {
      const reservation = await reserveMailingCodes(sql, mailingId);
      return {
        ok: reservation.ok,
        ...(!reservation.ok && { error: reservation.error }),
        lastSeq: reservation.ok ? reservation.lastSeq : 0,
        batchSize: config.PROMO_MAILING_BATCH_SIZE,
        parallelism: config.PROMO_MAILING_PARALLELISM,
      };
    },

    /** Renders and delivers the pending recipients of seq range [fromSeq, toSeq], then records the outcome. */
    async sendMailingBatch(mailingId: string, fromSeq: number, toSeq: number): Promise<BatchTally> {
      const context = Context.current();
      const { mailing, recipients } = await loadPendingRecipients(sql, mailingId, fromSeq, toSeq);
      if (recipients.length === 0) return { sent: 0, failed: 0 };
      const template = templates.get(mailing);
      const rendered = recipients.map((recipient) => render(template, mailing, recipient));
      const messages = rendered.flatMap((r) => (r.message ? [r.message] : []));
      const beat = setInterval(() => context.heartbeat(), HEARTBEAT_MS);
      let results: DeliveryResult[];
      try {
        results = await openChannel(mailing.channel, { dataDir: config.dataDir, smtpUrl: config.SMTP_URL }).deliver(messages, context.cancellationSignal);
      } finally {
        clearInterval(beat);
      }
      const outcomes = new Map(messages.map((message, i) => [message.customerId, results[i]!]));
      // messages delivered before a cancellation are recorded too: their codes are out in the world
      const deliveries = rendered.flatMap((r): Delivery[] => {
        const result = r.message ? outcomes.get(r.message.customerId)! : { delivered: false as const, error: r.error! };
        if ('skipped' in result) return [];
        return [{ ...r.delivery, delivered: result.delivered, error: result.delivered ? undefined : result.error }];
      });
      await recordDeliveries(sql, mailing, deliveries);
      const sent = deliveries.filter((d) => d.delivered).length;
      return { sent, failed: deliveries.length - sent };
    },

    async finishMailing(mailingId: string, status: 'completed' | 'failed' | 'cancelled', error?: { code: string; detail: string }): Promise<void> {
      await finishMailing(sql, mailingId, status, error);
    },
  };
}

interface Rendered {
  message?: OutgoingMessage;
  error?: string;
  delivery: Omit<Delivery, 'delivered' | 'error'>;
}

function render(template: CompiledTemplate, mailing: MailingRecord & { groups: MailingGroup[] }, recipient: PendingRecipient): Rendered {
  const names = (id: string, kind: MailingGroup['kind']) => mailing.groups.filter((g) => g.id === id && g.kind === kind).map((g) => g.name);
  const initial = new Map(recipient.reserved.flatMap((code) => names(code.groupId, 'initial').map((name) => [groupKey(name), code] as const)));
  const repeat = new Map(recipient.last.flatMap((code) => names(code.groupId, 'repeat').map((name) => [groupKey(name), code] as const)));
  const base = { seq: recipient.seq, customerId: recipient.customerId };
  try {
    const message = template.render(
      { id: recipient.customerId, attributes: recipient.attributes },
      {
        initial: new Map([...initial].map(([key, code]) => [key, code.code])),
        repeat: new Map([...repeat].map(([key, code]) => [key, code.code])),
      },
    );
    return {
      message: {
        mailingId: mailing.publicId,
        customerId: recipient.customerId,
        ...(recipient.email !== null && { email: recipient.email }),
        ...(recipient.phone !== null && { phone: recipient.phone }),
        ...(message.subject !== undefined && { subject: message.subject }),
        body: message.body,
        idempotencyKey: `${mailing.publicId}:${recipient.customerId}`,
      },
      delivery: {
        ...base,
        used: message.used.initial.map((name) => initial.get(groupKey(name))!.codeId),
        repeated: message.used.repeat.map((name) => repeat.get(groupKey(name))!),
      },
    };
  } catch (error) {
    if (!(error instanceof TemplateRenderError)) throw error;
    return { error: `the template failed for this recipient: ${error.message}`, delivery: { ...base, used: [], repeated: [] } };
  }
}

/** Compiled templates of the mailings this worker sends, a few at a time. */
class TemplateCache {
  private readonly compiled = new Map<string, CompiledTemplate>();

  get(mailing: MailingRecord): CompiledTemplate {
    let template = this.compiled.get(mailing.publicId);
    if (!template) {
      if (this.compiled.size >= 32) this.compiled.delete(this.compiled.keys().next().value!);
      template = compileTemplate(mailing.template);
      this.compiled.set(mailing.publicId, template);
    }
    return template;
  }
}

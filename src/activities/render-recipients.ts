import type { OutgoingMessage } from '../channels/channel.js';
import type { HeldCode, SendContext, UnsettledRecipient } from '../db/mailing-delivery.js';
import type { MailingGroup } from '../db/mailings.js';
import { groupKey } from '../domain/template.js';
import type { RenderPool } from '../render/render-pool.js';

/** A recipient's message, or why there is none, with the codes it carries. */
export interface Rendered {
  recipient: UnsettledRecipient;
  message?: OutgoingMessage;
  error?: string;
  /** ids of the reserved codes the message carries */
  used: string[];
  /** repeat codes the message carries */
  repeated: HeldCode[];
}

/** Renders every recipient's message off the event loop, within the template's render budget. */
export async function renderRecipients(pool: RenderPool, { mailing, recipients }: SendContext): Promise<Rendered[]> {
  const codesOf = recipients.map((recipient) => ({
    initial: byGroupName(mailing.groups, 'initial', recipient.reserved),
    repeat: byGroupName(mailing.groups, 'repeat', recipient.last),
  }));
  const outcomes = await pool.render(
    mailing.template,
    recipients.map((recipient, i) => ({
      client: { id: recipient.customerId, attributes: recipient.attributes },
      codes: {
        initial: new Map([...codesOf[i]!.initial].map(([key, code]) => [key, code.code])),
        repeat: new Map([...codesOf[i]!.repeat].map(([key, code]) => [key, code.code])),
      },
    })),
  );
  return recipients.map((recipient, i): Rendered => {
    const outcome = outcomes[i]!;
    if (!outcome.ok) return { recipient, error: outcome.error, used: [], repeated: [] };
    const { subject, body, used } = outcome.message;
    return {
      recipient,
      message: {
        mailingId: mailing.publicId,
        customerId: recipient.customerId,
        ...(recipient.email !== null && { email: recipient.email }),
        ...(recipient.phone !== null && { phone: recipient.phone }),
        ...(subject !== undefined && { subject }),
        body,
        idempotencyKey: `${mailing.publicId}:${recipient.customerId}`,
      },
      used: used.initial.map((name) => codesOf[i]!.initial.get(groupKey(name))!.codeId),
      repeated: used.repeat.map((name) => codesOf[i]!.repeat.get(groupKey(name))!),
    };
  });
}

/** The recipient's codes keyed by groupKey of every name the template gives their group. */
function byGroupName(groups: readonly MailingGroup[], kind: MailingGroup['kind'], codes: readonly HeldCode[]): Map<string, HeldCode> {
  return new Map(
    codes.flatMap((code) => groups.filter((g) => g.id === code.groupId && g.kind === kind).map((g) => [groupKey(g.name), code] as const)),
  );
}

import type { OutgoingMessage } from '../channels/channel.js';
import type { HeldCode, SendContext, UnsettledRecipient } from '../db/mailing-delivery.js';
import type { MailingGroup } from '../db/mailings.js';
import { groupBy } from '../domain/group-by.js';
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
  const keysOf = { initial: groupKeysById(mailing.groups, 'initial'), repeat: groupKeysById(mailing.groups, 'repeat') };
  const codesOf = recipients.map((recipient) => ({
    initial: byGroupKey(keysOf.initial, recipient.reserved),
    repeat: byGroupKey(keysOf.repeat, recipient.last),
  }));
  const outcomes = await pool.render(
    mailing.template,
    recipients.map((recipient, i) => ({
      client: { id: recipient.customerId, attributes: recipient.attributes },
      codes: { initial: codeTexts(codesOf[i]!.initial), repeat: codeTexts(codesOf[i]!.repeat) },
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

/** For each group of the mailing of this kind, the groupKey of every name the template gives it. */
function groupKeysById(groups: readonly MailingGroup[], kind: MailingGroup['kind']): Map<string, string[]> {
  return groupBy(groups.filter((group) => group.kind === kind), (group) => group.id, (group) => groupKey(group.name));
}

/** The recipient's codes keyed by groupKey of every name the template gives their group. */
function byGroupKey(keysById: ReadonlyMap<string, string[]>, codes: readonly HeldCode[]): Map<string, HeldCode> {
  const byKey = new Map<string, HeldCode>();
  for (const code of codes) for (const key of keysById.get(code.groupId) ?? []) byKey.set(key, code);
  return byKey;
}

function codeTexts(codes: ReadonlyMap<string, HeldCode>): Map<string, string> {
  const texts = new Map<string, string>();
  for (const [key, code] of codes) texts.set(key, code.code);
  return texts;
}

import { z } from '@hono/zod-openapi';
import { SegmentFilterNodeSchema, SegmentFilterSchema } from '../../domain/segment.js';
import { trimmedText } from '../../domain/trimmed-text.js';
import { AttributesSchema, ContactFields, MAILING_ID, PageQuery } from './common.js';

export const MAX_INLINE_RECIPIENTS = 100_000;

const AUDIENCE_DESCRIPTION =
  'In place of `recipients`: the customers matching the segment filter (the language of `POST /api/segments/query`) when the mailing starts, with their stored attributes, email and phone. An unknown group is a 400 at its `group` field, e.g. `audience.segment.or[0].issuedFromGroup.group`.';

export const AudienceSchema = z.object({ segment: SegmentFilterSchema }).strict().openapi('Audience', { description: AUDIENCE_DESCRIPTION });

const ChannelSchema = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('log') }).strict(),
    z
      .object({ type: z.literal('webhook'), url: z.url({ protocol: /^https?$/, error: 'must be an http or https URL' }) })
      .strict()
      .openapi({
        description:
          'Each message is POSTed as JSON with its `idempotencyKey` (`mailingId:customerId`) in the body and in the `Idempotency-Key` header. The header carries the key with every character outside visible ASCII (and `%`) percent-encoded as UTF-8, so `decodeURIComponent(header)` always equals the body\'s key. The URL\'s host must not be, or resolve to, a non-public address (loopback, private, link-local, …) unless PROMO_WEBHOOK_ALLOW allows it.',
      }),
    z.object({ type: z.literal('smtp'), from: z.email() }).strict(),
  ])
  .openapi('Channel');

export const RecipientSchema = z
  .object({
    customerId: trimmedText(200),
    email: ContactFields.email.optional(),
    phone: ContactFields.phone.optional(),
    attributes: AttributesSchema.optional(),
  })
  .strict()
  .openapi('Recipient');

export const TemplateSchema = z
  .object({ subject: z.string().max(2000).optional(), body: z.string().min(1).max(200_000) })
  .strict()
  .openapi('Template');

export const MailingRequestSchema = z
  .object({
    id: z
      .string()
      .regex(MAILING_ID, 'must be 1–100 letters, digits, or . _ : -, not starting with a dot (it is a path segment)')
      .optional()
      .openapi({ description: 'client-chosen; the same id again returns the same mailing and starts nothing new' }),
    name: trimmedText(200),
    channel: ChannelSchema,
    template: TemplateSchema,
    recipients: z.array(RecipientSchema).max(MAX_INLINE_RECIPIENTS).optional(),
    audience: AudienceSchema.optional(),
  })
  .strict()
  .superRefine((request, ctx) => {
    if (request.recipients !== undefined && request.audience !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['audience'], message: 'give either recipients or an audience, not both' });
    }
  })
  .openapi('MailingRequest', {
    description: 'With `recipients` or an `audience` the mailing starts at once; with neither it is a draft. Never both.',
    not: { required: ['recipients', 'audience'] },
  });

/** A mailing as a client asks for it: the body of `POST /api/mailings`, the `request` of a MailingPromoWorkflow started directly. */
export type MailingRequest = z.infer<typeof MailingRequestSchema>;

export const MailingSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    status: z.enum(['draft', 'reserving', 'sending', 'completed', 'failed', 'cancelled']),
    audience: z
      .object({ segment: SegmentFilterNodeSchema })
      .optional()
      .openapi({ description: 'the audience as sent; absent when the recipients were given' }),
    recipients: z.number().int(),
    sent: z.number().int(),
    failed: z.number().int(),
    unknown: z.number().int().openapi({ description: 'recipients whose delivery outcome is unknown (a timeout, a connection lost after sending, an interrupted attempt): the message may have arrived, so their codes count as issued' }),
    pending: z.number().int().openapi({ description: 'recipients not settled yet, those being sent included; `recipients = sent + failed + unknown + pending`' }),
    codes: z.array(z.object({ group: z.string(), reserved: z.number().int(), issued: z.number().int(), released: z.number().int() })),
    error: z.object({ code: z.string(), detail: z.string() }).optional(),
    workflowId: z.string(),
    createdAt: z.string().openapi({ format: 'date-time' }),
    finishedAt: z.string().openapi({ format: 'date-time' }).nullable(),
  })
  .openapi('Mailing');

export const RecipientsReportSchema = z
  .object({
    added: z.number().int(),
    duplicates: z.number().int(),
    invalid: z.array(z.object({ line: z.number().int(), value: z.string(), reason: z.string() })),
  })
  .openapi('RecipientsReport');

const RecipientStatusSchema = z.enum(['pending', 'sending', 'sent', 'failed', 'unknown']).openapi({
  description: '`sending`: handed to the channel by a batch that has not recorded the outcome yet; `unknown`: the message may have arrived (its codes are issued)',
});

export const RecipientQuery = PageQuery.extend({ status: RecipientStatusSchema.optional() });

export const RecipientOutcomeSchema = z
  .object({
    customerId: z.string(),
    status: RecipientStatusSchema,
    error: z.string().optional(),
    codes: z.array(z.object({ group: z.string(), code: z.string(), kind: z.enum(['initial', 'repeat']) })),
  })
  .openapi('RecipientOutcome');

export const TemplateCheckBody = z.object({ template: TemplateSchema }).strict().openapi('TemplateCheck');

export const TemplateCheckSchema = z
  .object({
    valid: z.boolean(),
    error: z
      .object({ field: z.enum(['subject', 'body']), line: z.number().int(), column: z.number().int(), message: z.string() })
      .optional(),
    groups: z.object({ initial: z.array(z.string()), repeat: z.array(z.string()) }),
  })
  .openapi('TemplateCheckResult');

import { z } from '@hono/zod-openapi';
import { CODE_STATUSES } from '../../db/codes.js';
import { MAX_GENERATION } from '../../db/generation.js';
import { trimmedText } from '../../domain/trimmed-text.js';
import { FormatSchema, PageQuery } from './common.js';

export const GroupSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string(),
    format: z.string().nullable(),
    total: z.number().int(),
    active: z.number().int(),
    blocked: z.number().int(),
    issued: z.number().int(),
    redeemed: z.number().int().openapi({ description: 'issued, then redeemed (used in an order)' }),
    expired: z.number().int().openapi({ description: 'can no longer be issued or redeemed' }),
    expiresAt: z.string().openapi({ format: 'date-time', description: 'after it, no code of the group is issued or redeemed' }).nullable(),
    validForDays: z.number().int().nullable().openapi({ description: 'an issued code expires this many days after its issue' }),
    lowStockThreshold: z.number().int().nullable(),
    autoRefill: z.object({ below: z.number().int(), upTo: z.number().int() }).nullable().openapi({ description: 'when `active` drops below `below`, a generation (reason `autoRefill`) tops the group up to `upTo`' }),
    lowStock: z.boolean().openapi({ description: '`active < lowStockThreshold`' }),
    createdAt: z.string().openapi({ format: 'date-time' }),
    updatedAt: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('Group');

const name = trimmedText(200);
const description = z.string().max(2000, 'must be at most 2000 characters');
const format = FormatSchema.nullable();

/** Settable on create and PATCH: `null` turns a setting off, leaving it out keeps it. */
const settings = {
  expiresAt: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time with a time zone, e.g. 2026-12-31T23:59:59Z' }).nullable().optional()
    .openapi({ description: 'after it, no code of the group is issued or redeemed; housekeeping expires its active and issued codes' }),
  validForDays: z.number().int().min(1).max(36_500).nullable().optional().openapi({ description: 'an issued code expires this many days after its issue' }),
  lowStockThreshold: z.number().int().min(1).max(MAX_GENERATION).nullable().optional()
    .openapi({ description: 'when `active` falls below it, one low-stock alert (per crossing), and the group is `lowStock`' }),
  autoRefill: z
    .object({ below: z.number().int().min(1).max(MAX_GENERATION), upTo: z.number().int().min(1).max(MAX_GENERATION) })
    .strict()
    .refine((refill) => refill.upTo >= refill.below, { message: 'must be at least `below`', path: ['upTo'] })
    .nullable()
    .optional()
    .openapi({ description: 'needs a format: when `active` drops below `below`, a generation job (reason `autoRefill`, one at a time) tops the group up to `upTo`' }),
};

export const CreateGroupBody = z
  .object({ name, description: description.optional(), format: format.optional(), ...settings })
  .strict()
  .openapi('CreateGroup');

export const UpdateGroupBody = z
  .object({ name: name.optional(), description: description.optional(), format: format.optional(), ...settings })
  .strict()
  .openapi('UpdateGroup');

export const GroupListQuery = PageQuery.extend({
  lowStock: z.enum(['true', 'false']).optional().transform((value) => value === undefined ? undefined : value === 'true')
    .openapi({ description: '`true`: only the groups whose `active` is below their `lowStockThreshold`' }),
});

export const UploadCodesBody = z.object({ codes: z.array(z.string()) }).strict().openapi('UploadCodes');

export const UploadReportSchema = z
  .object({
    added: z.number().int(),
    duplicates: z.number().int(),
    invalid: z.array(z.object({ line: z.number().int(), value: z.string(), reason: z.string() })),
  })
  .openapi('UploadReport');

export const CodeStatusQuery = PageQuery.extend({ status: z.enum(CODE_STATUSES).optional() });

export const CodeSchema = z
  .object({
    code: z.string(),
    status: z.enum(CODE_STATUSES),
    customerId: z.string().optional(),
    issuedAt: z.string().openapi({ format: 'date-time' }).optional(),
  })
  .openapi('Code');

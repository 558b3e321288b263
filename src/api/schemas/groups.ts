import { z } from '@hono/zod-openapi';
import { CODE_STATUSES } from '../../db/codes.js';
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
    createdAt: z.string().openapi({ format: 'date-time' }),
    updatedAt: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('Group');

const name = trimmedText(200);
const description = z.string().max(2000, 'must be at most 2000 characters');
const format = FormatSchema.nullable();

export const CreateGroupBody = z
  .object({ name, description: description.optional(), format: format.optional() })
  .strict()
  .openapi('CreateGroup');

export const UpdateGroupBody = z
  .object({ name: name.optional(), description: description.optional(), format: format.optional() })
  .strict()
  .openapi('UpdateGroup');

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

import { z } from '@hono/zod-openapi';
import { MAX_GENERATION } from '../../db/generation.js';
import { FormatSchema, PageQuery } from './common.js';

export const JobSchema = z
  .object({
    id: z.string(),
    kind: z.enum(['generate', 'import']),
    groupId: z.string(),
    status: z.enum(['running', 'completed', 'failed', 'cancelled']),
    reason: z.enum(['request', 'autoRefill']).openapi({ description: '`autoRefill`: started by housekeeping to top the group up to its `autoRefill.upTo`' }),
    requested: z.number().int(),
    processed: z.number().int(),
    added: z.number().int(),
    duplicates: z.number().int(),
    invalid: z.number().int(),
    errors: z.array(z.object({ line: z.number().int().optional(), value: z.string().optional(), reason: z.string() })),
    workflowId: z.string(),
    createdAt: z.string().openapi({ format: 'date-time' }),
    finishedAt: z.string().openapi({ format: 'date-time' }).nullable(),
  })
  .openapi('Job');

export const JobListQuery = PageQuery.extend({ groupId: z.string().optional() });

export const GenerationBody = z
  .object({
    quantity: z.number().int().min(1).max(MAX_GENERATION),
    format: FormatSchema.optional(),
  })
  .strict()
  .openapi('Generation');

export const FormatCheckBody = z
  .object({ format: FormatSchema, quantity: z.number().int().min(1).max(MAX_GENERATION).optional() })
  .strict()
  .openapi('FormatCheck');

export const FormatCheckSchema = z
  .object({
    valid: z.boolean(),
    error: z.object({ message: z.string(), position: z.number().int().optional() }).optional(),
    length: z.number().int(),
    keyspace: z.string().openapi({ description: 'how many distinct codes the format can produce, exactly (a decimal string)' }),
    entropyBits: z.number(),
    examples: z.array(z.string()),
    maxQuantity: z.number().int().openapi({ description: 'how many codes one generation may still ask of this format; when `maxQuantityIsEstimate`, at least this many (a lower bound)' }),
    maxQuantityIsEstimate: z.boolean().openapi({ description: 'true when the check looked at only part of the stored codes (it examines at most 50,000 of them, so that it stays fast on every keystroke): `maxQuantity` is then a lower bound, and a quantity above it is refused only if it certainly exceeds what is free; the generation itself counts exactly when it starts' }),
  })
  .openapi('FormatCheckResult');

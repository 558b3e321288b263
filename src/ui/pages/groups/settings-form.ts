import { z } from 'zod';
import { UpdateGroupBody } from '../../../api/schemas/groups.js';
import type { Group } from '../../../db/groups.js';
import type { FormValues } from '../../form.js';
import { formatNumber } from '../../format.js';

const api = UpdateGroupBody.shape;
const refill = api.autoRefill.unwrap().unwrap().shape;

/** An empty field turns its setting off; a field not sent at all leaves it as it is. */
const emptyIsNull = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? null : value);

/** A whole number within the bounds of the API's `schema`, or empty (null). */
function count(schema: z.ZodNumber) {
  const [min, max] = [schema.minValue ?? 1, schema.maxValue ?? Number.MAX_SAFE_INTEGER];
  const message = `Enter a whole number from ${formatNumber(min)} to ${formatNumber(max)}, or leave it empty.`;
  return z.preprocess(emptyIsNull, z.coerce.number({ error: message }).int(message).min(min, message).max(max, message).nullable()).optional();
}

/** `local` (a datetime-local value) read as UTC; undefined for a day that does not exist, which Date would roll over (31 February → 3 March). */
function utc(local: string): Date | undefined {
  const date = new Date(`${local}Z`);
  return Number.isNaN(date.getTime()) || !date.toISOString().startsWith(local) ? undefined : date;
}

/** A datetime-local value, read as UTC like every time on the pages, as the ISO instant the API takes. */
const utcInstant = z.preprocess(
  emptyIsNull,
  z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/, 'Enter a date and time, e.g. 2026-12-31T23:59.')
    .refine((local) => utc(local) !== undefined, 'There is no such date.')
    .transform((local) => utc(local)!.toISOString())
    .pipe(api.expiresAt.unwrap().unwrap())
    .nullable(),
).optional();

/** The expiry, validity and stock settings of a group's Settings form, as updateGroup takes them (errors by field name). */
export const ExpiryAndStockForm = z
  .object({
    expiresAt: utcInstant,
    validForDays: count(api.validForDays.unwrap().unwrap()),
    lowStockThreshold: count(api.lowStockThreshold.unwrap().unwrap()),
    autoRefillBelow: count(refill.below),
    autoRefillUpTo: count(refill.upTo),
  })
  .transform(({ autoRefillBelow: below, autoRefillUpTo: upTo, ...settings }, ctx) => {
    if (below === undefined && upTo === undefined) return settings;
    if (below == null && upTo == null) return { ...settings, autoRefill: null };
    if (below == null || upTo == null) {
      const path = below == null ? 'autoRefillBelow' : 'autoRefillUpTo';
      ctx.addIssue({ code: 'custom', path: [path], message: 'Enter both numbers, or leave both empty to turn auto-refill off.' });
      return z.NEVER;
    }
    if (upTo < below) {
      ctx.addIssue({ code: 'custom', path: ['autoRefillUpTo'], message: `Must be at least ${formatNumber(below)}, the number it refills below.` });
      return z.NEVER;
    }
    return { ...settings, autoRefill: { below, upTo } };
  });

/** The form's fields filled in from the group's settings. */
export function settingValues(group: Group): FormValues {
  const text = (value: number | null | undefined) => (value == null ? '' : String(value));
  return {
    expiresAt: group.expiresAt === null ? '' : utcInputValue(group.expiresAt),
    validForDays: text(group.validForDays),
    lowStockThreshold: text(group.lowStockThreshold),
    autoRefillBelow: text(group.autoRefill?.below),
    autoRefillUpTo: text(group.autoRefill?.upTo),
  };
}

/** An ISO instant as a datetime-local value in UTC, to the minute unless it has seconds or milliseconds (kept, so a save does not move it). */
function utcInputValue(iso: string): string {
  const precise = iso.endsWith(':00.000Z') ? 16 : iso.endsWith('.000Z') ? 19 : 23;
  return iso.slice(0, precise);
}

/** The datetime-local step that lets `value` be sent back as it is: a minute, a second or a millisecond. */
export const stepOf = (value: string | undefined): string | undefined => (!value || value.length <= 16 ? undefined : value.length <= 19 ? '1' : '0.001');

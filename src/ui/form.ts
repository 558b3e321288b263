import type { Context } from 'hono';
import type { z } from 'zod';

/** Field name → its first problem, shown beside the field. */
export type FieldErrors = Partial<Record<string, string>>;

export type FormResult<T> =
  | { ok: true; data: T }
  /** `values`: what was typed, to fill the form in again */
  | { ok: false; errors: FieldErrors; values: Partial<Record<string, string>> };

/** The submitted form (urlencoded or multipart) checked against `schema`. */
export async function readForm<T extends z.ZodType>(c: Context, schema: T): Promise<FormResult<z.output<T>>> {
  const body = await c.req.parseBody();
  const parsed = schema.safeParse(body);
  if (parsed.success) return { ok: true, data: parsed.data };
  const errors: FieldErrors = {};
  for (const issue of parsed.error.issues) errors[issue.path.join('.') || '(form)'] ??= issue.message;
  const values = Object.fromEntries(Object.entries(body).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
  return { ok: false, errors, values };
}

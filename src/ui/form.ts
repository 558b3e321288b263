import type { Context } from 'hono';
import type { z } from 'zod';
import { unstorableText } from '../api/text-guard.js';
import type { ValidationError } from '../domain/errors.js';

/** Field name → its first problem, shown beside the field. */
export type FieldErrors = Partial<Record<string, string>>;

/** What was typed (text fields only), to fill a form in again. */
export type FormValues = Partial<Record<string, string>>;

export type FormResult<T> =
  | { ok: true; data: T; values: FormValues }
  | { ok: false; errors: FieldErrors; values: FormValues };

/** The submitted form (urlencoded or multipart) checked against `schema`. */
export async function readForm<T extends z.ZodType>(c: Context, schema: T): Promise<FormResult<z.output<T>>> {
  const body = await c.req.parseBody();
  const values = Object.fromEntries(Object.entries(body).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
  const errors: FieldErrors = {};
  // text PostgreSQL cannot store is refused beside its field, before anything reads it
  for (const [name, value] of Object.entries(values)) {
    const problem = unstorableText(value);
    if (problem) errors[name] = problem;
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors, values };
  const parsed = schema.safeParse(body);
  if (parsed.success) return { ok: true, data: parsed.data, values };
  for (const issue of parsed.error.issues) errors[issue.path.join('.') || '(form)'] ??= issue.message;
  return { ok: false, errors, values };
}

/** The field errors a ValidationError names (by path), to show beside the fields. */
export function fieldErrorsOf(error: ValidationError): FieldErrors {
  const errors: FieldErrors = {};
  for (const { path, message } of error.errors) errors[path] ??= message;
  if (error.errors.length === 0) errors['(form)'] = error.message;
  return errors;
}

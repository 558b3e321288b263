import { z } from 'zod';
import { GenerationBody } from '../../../api/schemas/jobs.js';
import type { AppDeps } from '../../../api/router.js';
import { addPaste, type UploadReport } from '../../../db/codes.js';
import type { Group } from '../../../db/groups.js';
import type { JobRecord } from '../../../db/jobs.js';
import { type SortedLines, sortPaste, splitLines } from '../../../domain/code.js';
import type { ParsedFormat } from '../../../domain/format.js';
import { importFormatOf } from '../../../domain/import-file.js';
import { checkGeneration, startGeneration, startImport } from '../../../temporal/start-job.js';

/** The fill part of a form: the chosen way and its field(s), checked with the API's schemas. */
export const FillForm = z.discriminatedUnion(
  'method',
  [
    z.object({ method: z.literal('upload'), codes: z.string() }),
    z.object({ method: z.literal('import'), file: z.instanceof(File, { message: 'Choose a file.' }).refine((file) => file.name !== '', 'Choose a file.') }),
    z.object({
      method: z.literal('generate'),
      quantity: z.coerce.number({ error: 'Enter a whole number.' }).pipe(GenerationBody.shape.quantity),
      format: GenerationBody.shape.format,
    }),
  ],
  { error: 'Choose how to add codes.' },
);
export type Fill = z.output<typeof FillForm>;

type CheckedFill = { method: 'upload'; paste: SortedLines } | { method: 'import'; file: File } | { method: 'generate'; format: ParsedFormat; quantity: number };

/**
 * The fill checked as the API checks it, before anything is written (a ValidationError on the
 * field at fault otherwise). A generation without a format of its own uses `groupFormat`.
 */
export async function checkFill(sql: AppDeps['sql'], fill: Fill, groupFormat: string | null): Promise<CheckedFill> {
  switch (fill.method) {
    case 'upload':
      return { method: 'upload', paste: sortPaste(splitLines(fill.codes)) };
    case 'import':
      return fill;
    case 'generate':
      return { method: 'generate', quantity: fill.quantity, format: await checkGeneration(sql, fill.format ?? groupFormat, fill.quantity) };
  }
}

/** A paste's report, or the job that was started. An import may still be refused here (a CSV without a `code` column). */
export type FillOutcome = { report: UploadReport } | { job: JobRecord };

export async function runFill(deps: AppDeps, group: Group, fill: CheckedFill): Promise<FillOutcome> {
  switch (fill.method) {
    case 'upload':
      return { report: await addPaste(deps.sql, group.id, fill.paste) };
    case 'import':
      return { job: await startImport(deps, group, importFormatOf(fill.file.type, fill.file.name), fill.file.stream()) };
    case 'generate':
      return { job: await startGeneration(deps, group, fill.format, fill.quantity) };
  }
}

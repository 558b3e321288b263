// A template's check before anything is sent: besides its syntax (checkTemplate), one render with
// no recipient data and a stand-in code for every group. A template that exceeds its render
// budget even then (`{% set a = a + a %}` thirty times) would fail every recipient, so it is
// invalid; errors that depend on the data, like a missing attribute, are not reported.

import { checkTemplate, groupKey, type TemplateCheck, type TemplateSource } from '../domain/template.js';
import type { JobResult, RenderJob } from './render-protocol.js';

type Run = (template: TemplateSource, jobs: readonly RenderJob[]) => Promise<JobResult[]>;

const STAND_IN_CODE = 'PROMO-CODE';

export async function dryRun(run: Run, template: TemplateSource): Promise<TemplateCheck> {
  const check = checkTemplate(template);
  if (!check.valid) return check;
  const codes = (names: string[]) => new Map(names.map((name) => [groupKey(name), STAND_IN_CODE]));
  const job: RenderJob = { client: { id: 'check', attributes: {} }, codes: { initial: codes(check.groups.initial), repeat: codes(check.groups.repeat) } };
  const overLimit = async (source: TemplateSource) => {
    const [result] = await run(source, [job]);
    return result?.ok === false && result.failure.kind === 'limit' ? result.failure : undefined;
  };
  const failure = await overLimit(template);
  if (!failure) return check;
  // a thread that ran out of memory or time cannot say which field it was on
  const field = failure.field ?? (template.subject !== undefined && (await overLimit({ body: template.subject })) ? 'subject' : 'body');
  return { valid: false, error: { field: field === 'subject' ? 'subject' : 'body', line: 1, column: 1, message: failure.reason }, groups: check.groups };
}

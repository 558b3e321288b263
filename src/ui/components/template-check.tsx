/**
 * Where the live check of a mailing template (its subject and body fields) shows as it is typed:
 * valid with the groups it issues and repeats codes from, or the first error with its line and
 * column. Filled by template-check.js.
 */
export function TemplateCheck({ subjectField, bodyField }: { subjectField: string; bodyField: string }) {
  return <div class="template-check" aria-live="polite" data-template-check data-subject-field={subjectField} data-body-field={bodyField} />;
}

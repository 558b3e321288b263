import type { Child } from 'hono/jsx';
import { MAX_GENERATION } from '../../../db/generation.js';
import { MAX_PASTE_LINES } from '../../../domain/code.js';
import { Field } from '../../components/field.js';
import { TextArea } from '../../components/text-area.js';
import type { FieldErrors, FormValues } from '../../form.js';
import { formatNumber } from '../../format.js';

const FILL_METHODS = ['upload', 'import', 'generate'] as const;
type FillMethod = (typeof FILL_METHODS)[number];

const METHOD_LABELS: Record<FillMethod, string> = {
  upload: 'Upload promo codes',
  import: 'Import from a file',
  generate: 'Generate promo codes',
};

/**
 * The three ways to add codes, one panel each; only the chosen one shows (CSS, no script
 * needed). `generate` is the generation panel: the dialog's has a format editor, a group's uses
 * the group's format.
 */
export function FillFields({ values, errors, generate }: { values: FormValues; errors: FieldErrors; generate: Child }) {
  const chosen = values.method ?? 'upload';
  return (
    <fieldset class="fill">
      <legend>Promo codes</legend>
      <div class="methods">
        {FILL_METHODS.map((method) => (
          <label class="choice">
            <input type="radio" name="method" value={method} checked={method === chosen} />
            {METHOD_LABELS[method]}
          </label>
        ))}
      </div>
      {errors.method && <p class="field-error">{errors.method}</p>}
      <div class="fill-panel" data-method="upload">
        <TextArea name="codes" label="Promo codes, one a line" rows={8} value={values.codes} error={errors.codes} spellcheck={false} autocomplete="off" />
        <p class="hint">
          At most {formatNumber(MAX_PASTE_LINES)} lines; import larger lists as a file. A code stored already, in any group, is skipped.
        </p>
      </div>
      <div class="fill-panel" data-method="import">
        <Field name="file" label="File" type="file" accept=".txt,.csv,text/plain,text/csv" error={errors.file} />
        <p class="hint">
          A text file with one code a line, or a CSV file with a <code>code</code> column. Any size: it streams into the database.
        </p>
        <p class="hint" role="status" data-import-status />
      </div>
      <div class="fill-panel" data-method="generate">
        {generate}
      </div>
    </fieldset>
  );
}

export function QuantityField({ value, error }: { value: string | undefined; error: string | undefined }) {
  return <Field name="quantity" label="How many codes" type="number" min="1" max={String(MAX_GENERATION)} inputmode="numeric" value={value} error={error} />;
}

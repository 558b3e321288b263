import { Field } from '../../components/field.js';

/** The ready-made random parts of the builder: the character list the format gets, and its name. */
const PART_KINDS = [
  { chars: 'A-HJ-NP-Za-km-z2-9', label: 'Letters and digits without look-alikes (no 0 O 1 I l)' },
  { chars: '0-9', label: 'Digits (0-9)' },
  { chars: 'a-z', label: 'Lower-case letters (a-z)' },
  { chars: 'A-Z', label: 'Upper-case letters (A-Z)' },
  { chars: 'a-Z', label: 'All letters (a-Z)' },
  { chars: 'a-Z0-9', label: 'Letters and digits (a-Z0-9)' },
] as const;

/** What the create dialog offers: ten characters that cannot be misread. */
export const DEFAULT_FORMAT = `{string('${PART_KINDS[0].chars}', 10)}`;

/**
 * The `format` field with, once its script runs, a builder that writes it from a prefix, random
 * parts and a suffix, and a live check. The field stays editable: text the builder cannot show
 * just disables it. Without the script it is a plain text field, checked when the form is sent.
 */
export function FormatEditor({ value, error, quantityField }: { value: string | undefined; error: string | undefined; quantityField?: string }) {
  return (
    <div class="format-editor" data-format-editor>
      <fieldset class="format-builder" data-format-builder hidden>
        <legend>Build the format</legend>
        <div class="field">
          <label for="format-prefix">Prefix</label>
          <input id="format-prefix" data-prefix autocomplete="off" spellcheck={false} />
        </div>
        <ol class="format-parts" data-parts />
        <button type="button" class="secondary" data-add-part>
          Add a random part
        </button>
        <div class="field">
          <label for="format-suffix">Suffix</label>
          <input id="format-suffix" data-suffix autocomplete="off" spellcheck={false} />
        </div>
        <template>
          <li class="format-part">
            <select data-part-chars>
              {PART_KINDS.map((kind) => (
                <option value={kind.chars}>{kind.label}</option>
              ))}
            </select>
            <input type="number" min="1" max="64" value="4" inputmode="numeric" data-part-length />
            <span class="part-buttons">
              <button type="button" class="secondary" data-move="-1">
                ↑
              </button>
              <button type="button" class="secondary" data-move="1">
                ↓
              </button>
              <button type="button" class="secondary" data-remove>
                Remove
              </button>
            </span>
          </li>
        </template>
      </fieldset>
      <p class="hint" data-builder-note hidden>
        The format was edited by hand; the builder cannot show it.{' '}
        <button type="button" class="link" data-rebuild>
          Build it again
        </button>
      </p>
      <Field name="format" label="Format" value={value} error={error} class="mono" autocomplete="off" spellcheck={false} />
      <p class="hint">
        Literal text and random parts <code>{"{string('<characters>', <length>)}"}</code>, e.g.{' '}
        <code>{"SUMMER-{string('0-9', 4)}{string('a-Z', 10)}"}</code>.
      </p>
      <FormatCheck formatField="field-format" quantityField={quantityField} />
    </div>
  );
}

/**
 * Where the live check of a format (the field's, or a fixed one) and a quantity shows: valid or
 * the error at its position, examples, keyspace, how many codes are left. Filled by format-check.js.
 */
export function FormatCheck(props: { formatField?: string | undefined; format?: string | undefined; quantityField?: string | undefined }) {
  return (
    <div
      class="format-check"
      aria-live="polite"
      data-format-check
      data-format-field={props.formatField}
      data-format={props.format}
      data-quantity-field={props.quantityField}
    />
  );
}

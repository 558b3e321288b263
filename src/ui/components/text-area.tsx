import type { JSX } from 'hono/jsx';

type TextAreaProps = { name: string; label: string; error?: string | undefined; value?: string | undefined } & Omit<
  JSX.IntrinsicElements['textarea'],
  'id' | 'name' | 'value'
>;

/** A labelled textarea with its error beside it, as Field is for an input. */
export function TextArea({ name, label, error, value, ...textarea }: TextAreaProps) {
  const id = `field-${name}`;
  const errorId = `${id}-error`;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <textarea id={id} name={name} aria-invalid={error ? 'true' : undefined} aria-describedby={error ? errorId : undefined} {...textarea}>
        {value}
      </textarea>
      {error && (
        <p class="field-error" id={errorId}>
          {error}
        </p>
      )}
    </div>
  );
}

import type { JSX } from 'hono/jsx';

type FieldProps = { name: string; label: string; error?: string | undefined } & Omit<JSX.IntrinsicElements['input'], 'id' | 'name'>;

/** A labelled input with its error beside it (announced through aria-describedby). */
export function Field({ name, label, error, ...input }: FieldProps) {
  const id = `field-${name}`;
  const errorId = `${id}-error`;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input id={id} name={name} aria-invalid={error ? 'true' : undefined} aria-describedby={error ? errorId : undefined} {...input} />
      {error && (
        <p class="field-error" id={errorId}>
          {error}
        </p>
      )}
    </div>
  );
}

import type { Group } from '../../../db/groups.js';
import { Field } from '../../components/field.js';
import type { FieldErrors, FormValues } from '../../form.js';
import { stepOf } from './settings-form.js';

/** The expiry, validity and stock fields of the group's Settings form; an empty field turns its setting off. */
export function ExpiryAndStockFields({ group, values, errors }: { group: Group; values: FormValues; errors: FieldErrors }) {
  const number = { type: 'number', min: '1', inputmode: 'numeric' } as const;
  return (
    <>
      <fieldset class="group-settings">
        <legend>Expiry and stock</legend>
        <Field name="expiresAt" label="Expires at (UTC)" type="datetime-local" step={stepOf(values.expiresAt)} value={values.expiresAt} error={errors.expiresAt} />
        <p class="hint">After it no code of the group is issued or redeemed. Empty: never.</p>
        <Field name="validForDays" label="Codes valid for (days after issue)" {...number} value={values.validForDays} error={errors.validForDays} />
        <Field name="lowStockThreshold" label="Low-stock alert below (active codes)" {...number} value={values.lowStockThreshold} error={errors.lowStockThreshold} />
      </fieldset>
      <fieldset class="group-settings">
        <legend>Auto-refill</legend>
        <p class="hint">
          When the active codes drop below the first number, codes are generated from the group's format up to the second. It needs a format
          {group.format === null && ': this group has none yet'}. Leave both empty for none.
        </p>
        <div class="field-pair">
          <Field name="autoRefillBelow" label="Refill below" {...number} value={values.autoRefillBelow} error={errors.autoRefillBelow ?? errors.autoRefill} />
          <Field name="autoRefillUpTo" label="Refill up to" {...number} value={values.autoRefillUpTo} error={errors.autoRefillUpTo} />
        </div>
      </fieldset>
    </>
  );
}

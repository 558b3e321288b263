import type { Child } from 'hono/jsx';
import { z } from 'zod';
import { CreateGroupBody } from '../../../api/schemas/groups.js';
import { Field } from '../../components/field.js';
import { TextArea } from '../../components/text-area.js';
import { CsrfField } from '../../csrf.js';
import type { FieldErrors, FormValues } from '../../form.js';
import { FillFields, QuantityField } from './fill-fields.js';
import { FillForm } from './fill.js';
import { DEFAULT_FORMAT, FormatEditor } from './format-editor.js';

/** The group's own fields, as the API takes them. */
export const GroupFields = z.object({ name: CreateGroupBody.shape.name, description: CreateGroupBody.shape.description });

export const NewGroupForm = GroupFields.and(FillForm);

interface FormState {
  values?: FormValues;
  errors?: FieldErrors;
}

/**
 * Name, description and the first fill. Sent as a form it is checked and done by the server
 * (POST /groups/new); an import, once the script runs, goes to the API instead (group-import.js),
 * so the file streams rather than being buffered with the form.
 */
export function CreateGroupForm({ values = {}, errors = {}, cancel }: FormState & { cancel: Child }) {
  return (
    <form method="post" action="/groups/new" enctype="multipart/form-data" class="create-group" data-import-form="create">
      <CsrfField />
      {errors['(form)'] && (
        <p class="error" role="alert">
          {errors['(form)']}
        </p>
      )}
      <Field name="name" label="Name" value={values.name} error={errors.name} required maxlength={200} autocomplete="off" autofocus />
      <TextArea name="description" label="Description" rows={2} value={values.description} error={errors.description} maxlength={2000} />
      <FillFields
        values={values}
        errors={errors}
        generate={
          <>
            <FormatEditor value={values.format ?? DEFAULT_FORMAT} error={errors.format} quantityField="field-quantity" />
            <QuantityField value={values.quantity} error={errors.quantity} />
          </>
        }
      />
      <div class="actions">
        <button type="submit">Save</button>
        {cancel}
      </div>
    </form>
  );
}

/** The form in a dialog on the list, opened by Create new group (group-dialogs.js); /groups/new without the script. */
export function CreateDialog() {
  return (
    <dialog id="create-group" aria-labelledby="create-group-title" class="wide">
      <h2 id="create-group-title">Create new group</h2>
      <CreateGroupForm
        cancel={
          <button type="submit" formmethod="dialog" formnovalidate class="secondary">
            Cancel
          </button>
        }
      />
    </dialog>
  );
}

import type { Child } from 'hono/jsx';
import type { Group } from '../../../db/groups.js';
import { CsrfField } from '../../csrf.js';

function DeleteQuestion({ name }: { name: Child }) {
  return (
    <p>
      Delete the group <strong>{name}</strong>? Its active codes are deleted with it; issued codes stay in customers' history. A group
      cannot be deleted while a mailing holds some of its codes blocked.
    </p>
  );
}

/** /groups/{id}/delete: the question, and the refusal when there was one. */
export function DeletePage({ group, error }: { group: Group; error?: string | undefined }) {
  return (
    <>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <DeleteQuestion name={group.name} />
      <form method="post" action={`/groups/${group.id}/delete`} class="actions">
        <CsrfField />
        <button type="submit" class="danger">
          Delete
        </button>
        <a href={`/groups/${group.id}`}>Cancel</a>
      </form>
    </>
  );
}

/** The same question in a dialog on the list; its script fills in the name and the form's target from the Delete link. */
export function DeleteDialog() {
  return (
    <dialog id="delete-group" aria-labelledby="delete-group-title">
      <h2 id="delete-group-title">Delete group</h2>
      <DeleteQuestion name={<span data-slot="name" />} />
      <form method="post" class="actions" data-action-from-link>
        <CsrfField />
        <button type="submit" class="danger">
          Delete
        </button>
        <button type="submit" formmethod="dialog" formnovalidate class="secondary" autofocus>
          Cancel
        </button>
      </form>
    </dialog>
  );
}

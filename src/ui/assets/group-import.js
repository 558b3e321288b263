// Sends the file of "Import from a file" to the API (POST /api/groups/{id}/imports, streamed, any size)
// instead of with the form, then opens the group's page, where the job's progress shows. In the create
// form (data-import-form="create") the group is created first through the API, and deleted again if
// the file is refused, so a refused Save leaves nothing behind.
'use strict';
{
  for (const form of document.querySelectorAll('form[data-import-form]')) {
    form.addEventListener('submit', (event) => {
      if (form.elements.method.value !== 'import' || event.submitter?.getAttribute('formmethod') === 'dialog') return;
      event.preventDefault();
      void send(form);
    });
  }

  async function send(form) {
    const { file } = form.elements;
    const status = form.querySelector('[data-import-status]');
    const save = form.querySelector('button[type="submit"]:not([formmethod])');
    for (const error of form.querySelectorAll('.field-error')) clearError(error);
    if (file.files.length === 0) return showError(file, 'Choose a file.');
    save.disabled = true;
    try {
      const creating = form.dataset.importForm === 'create';
      const groupId = creating ? await createGroup(form) : form.dataset.importForm;
      if (groupId === undefined) return;
      status.textContent = `Sending ${file.files[0].name}…`;
      const body = new FormData();
      body.append('file', file.files[0]);
      const answer = await csrfFetch(`/api/groups/${groupId}/imports`, { method: 'POST', body });
      if (!answer.ok) {
        if (creating) await csrfFetch(`/api/groups/${groupId}`, { method: 'DELETE' });
        status.textContent = '';
        return showError(file, (await answer.json()).detail);
      }
      location.assign(`/groups/${groupId}?notice=${creating ? 'created' : 'job'}`);
    } catch {
      status.textContent = 'The service did not answer; try again.';
    } finally {
      save.disabled = false;
    }
  }

  // the new group's id, or undefined when the API refused it (its errors shown beside the fields)
  async function createGroup(form) {
    const { name, description } = form.elements;
    const answer = await csrfFetch('/api/groups', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: name.value, description: description.value }),
    });
    const body = await answer.json();
    if (answer.ok) return body.id;
    const errors = body.errors ?? [{ path: 'name', message: body.detail }];
    for (const { path, message } of errors) showError(form.elements[path] ?? name, message);
    return undefined;
  }

  // as the server renders a field's error: beside it, announced through aria-describedby
  function showError(field, message) {
    const id = `${field.id}-error`;
    let error = document.getElementById(id);
    if (!error) {
      error = document.createElement('p');
      error.className = 'field-error';
      error.id = id;
      field.after(error);
    }
    error.textContent = message;
    field.setAttribute('aria-invalid', 'true');
    field.setAttribute('aria-describedby', id);
    field.focus();
  }

  function clearError(error) {
    const field = document.getElementById(error.id.replace(/-error$/, ''));
    field?.removeAttribute('aria-invalid');
    field?.removeAttribute('aria-describedby');
    error.remove();
  }
}

// The fields of a mailing (src/ui/components/mailing-fields.tsx): the fields of the chosen channel
// type only, the request they make, and the API's errors beside the field each names. Used by the
// page's own script through `window.mailingFields`.
'use strict';
{
  const value = (form, name) => form.elements.namedItem(name).value;

  function showChannelFields(form) {
    const type = value(form, 'channel.type');
    for (const panel of form.querySelectorAll('[data-channel-fields]')) panel.hidden = panel.dataset.channelFields !== type;
  }

  for (const select of document.querySelectorAll('select[name="channel.type"]')) {
    select.addEventListener('change', () => showChannelFields(select.form));
    showChannelFields(select.form);
  }

  /** The mailing the fields describe, as POST /api/mailings takes it (without recipients or audience). */
  function read(form) {
    const channel = { type: value(form, 'channel.type') };
    if (channel.type === 'webhook') channel.url = value(form, 'channel.url');
    if (channel.type === 'smtp') channel.from = value(form, 'channel.from');
    const subject = value(form, 'template.subject');
    return { name: value(form, 'name'), channel, template: { ...(subject !== '' && { subject }), body: value(form, 'template.body') } };
  }

  function clear(form) {
    for (const error of form.querySelectorAll('.field .field-error')) error.remove();
    for (const input of form.querySelectorAll('[aria-invalid]')) {
      input.removeAttribute('aria-invalid');
      input.removeAttribute('aria-describedby');
    }
  }

  /** Shows each error beside the field its path names (the nearest field above it); answers those no field takes. */
  function showErrors(form, errors) {
    return errors.filter(({ path, message }) => {
      let key = path;
      while (key !== '' && !(form.elements.namedItem(key) instanceof HTMLElement)) key = key.replace(/\.?[^.]*$/, '');
      const input = key === '' ? null : form.elements.namedItem(key);
      if (!input) return true;
      let error = document.getElementById(`${input.id}-error`);
      if (!error) {
        error = document.createElement('p');
        error.className = 'field-error';
        error.id = `${input.id}-error`;
        input.after(error);
      }
      error.textContent = error.textContent ? `${error.textContent}; ${message}` : message;
      input.setAttribute('aria-invalid', 'true');
      input.setAttribute('aria-describedby', error.id);
      return false;
    });
  }

  window.mailingFields = { read, clear, showErrors };
}

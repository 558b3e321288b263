// "Send a mailing to this segment" (/segments): the builder's filter as the audience of a mailing
// sent through POST /api/mailings, then the mailing's page. The API's errors go beside the field
// they name: the filter's (`audience.segment…`) beside the builder's conditions.
'use strict';
{
  const form = document.getElementById('segment-mailing');
  const formError = form.querySelector('[data-mailing-error]');
  const submit = form.querySelector('button[type="submit"]');
  const { segmentBuilder, mailingFields } = window;

  function showFormError(message) {
    formError.textContent = formError.textContent ? `${formError.textContent}; ${message}` : message;
    formError.hidden = false;
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const { filter, targets } = segmentBuilder.currentFilter();
    submit.disabled = true;
    form.setAttribute('aria-busy', 'true');
    const answer = await csrfFetch('/api/mailings', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...mailingFields.read(form), audience: { segment: filter } }),
    }).catch(() => undefined);
    const result = await answer?.json().catch(() => undefined);
    if (answer?.ok) return location.assign(`/mailings/${encodeURIComponent(result.id)}`);
    submit.disabled = false;
    form.removeAttribute('aria-busy');
    mailingFields.clear(form);
    segmentBuilder.clearErrors();
    formError.hidden = true;
    formError.textContent = '';
    const errors = result?.errors ?? [{ path: '', message: result?.detail ?? 'The service did not answer; try again.' }];
    const inFilter = errors.filter((error) => /^audience\.segment\b/.test(error.path));
    for (const error of inFilter) segmentBuilder.showError({ ...error, path: error.path.replace(/^audience\.segment/, 'filter') }, targets);
    if (inFilter.length > 0) showFormError('The filter has problems, shown beside the conditions they concern.');
    for (const { path, message } of mailingFields.showErrors(form, errors.filter((error) => !inFilter.includes(error)))) {
      showFormError(path && path !== '(body)' ? `${path}: ${message}` : message);
    }
  });
}

// The live check of a mailing template as it is typed, from POST /api/templates/check: valid with
// the groups it issues and repeats codes from, or the first error with its field, line and column.
// The server checks the template again when the mailing is sent.
'use strict';
{
  const DELAY_MS = 300;

  for (const panel of document.querySelectorAll('[data-template-check]')) setUp(panel);

  function setUp(panel) {
    const subject = document.getElementById(panel.dataset.subjectField);
    const body = document.getElementById(panel.dataset.bodyField);
    let timer;
    let latest = 0;

    async function check() {
      const run = ++latest;
      if (body.value === '') return panel.replaceChildren();
      const template = { body: body.value, ...(subject.value !== '' && { subject: subject.value }) };
      panel.setAttribute('aria-busy', 'true');
      try {
        const answer = await csrfFetch('/api/templates/check', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ template }),
        });
        const result = await answer.json();
        if (run !== latest) return;
        if (!answer.ok) return panel.replaceChildren(line('check-error', `✗ ${result.detail}`));
        const { error, groups } = result;
        panel.replaceChildren(
          result.valid
            ? line('check-ok', '✓ Valid.')
            : line('check-error', `✗ ${error.field}, line ${error.line}, column ${error.column}: ${error.message}`),
          line('check-label', groupsText(groups)),
        );
      } catch {
        if (run === latest) panel.replaceChildren(line('check-error', 'The template could not be checked: the service did not answer.'));
      } finally {
        if (run === latest) panel.removeAttribute('aria-busy');
      }
    }

    const schedule = () => {
      clearTimeout(timer);
      timer = setTimeout(check, DELAY_MS);
    };
    subject.addEventListener('input', schedule);
    body.addEventListener('input', schedule);
    check();
  }

  function groupsText({ initial, repeat }) {
    const names = (list) => list.map((name) => `“${name}”`).join(', ');
    if (initial.length === 0 && repeat.length === 0) return 'It issues no promo codes.';
    return [initial.length > 0 && `Issues a new code from ${names(initial)}.`, repeat.length > 0 && `Repeats the last code from ${names(repeat)}.`]
      .filter(Boolean)
      .join(' ');
  }

  function line(className, text) {
    const p = document.createElement('p');
    p.className = className;
    p.textContent = text;
    return p;
  }
}

// The format builder: prefix, random parts (characters and length; add, remove, reorder) and suffix
// write the format field. Text typed into the field shows in the builder when the builder could have
// written it; otherwise the builder is disabled until "Build it again".
'use strict';
{
  const MACRO = /\{string\('([^']*)', (\d+)\)\}/g;

  for (const editor of document.querySelectorAll('[data-format-editor]')) setUp(editor);

  function setUp(editor) {
    const builder = editor.querySelector('[data-format-builder]');
    const field = editor.querySelector('input[name="format"]');
    const parts = builder.querySelector('[data-parts]');
    const prefix = builder.querySelector('[data-prefix]');
    const suffix = builder.querySelector('[data-suffix]');
    const template = builder.querySelector('template').content.firstElementChild;
    const note = editor.querySelector('[data-builder-note]');
    const kinds = [...template.querySelector('select').options].map((option) => option.value);

    const compose = () =>
      prefix.value +
      [...parts.children].map((row) => `{string('${row.querySelector('select').value}', ${row.querySelector('input').value})}`).join('') +
      suffix.value;

    // the builder's state for a text it could have written, else null
    function parse(text) {
      const found = [];
      let start = -1;
      let end = -1;
      for (const match of text.matchAll(MACRO)) {
        if ((end !== -1 && match.index !== end) || !kinds.includes(match[1])) return null;
        if (start === -1) start = match.index;
        found.push({ chars: match[1], length: match[2] });
        end = match.index + match[0].length;
      }
      const before = start === -1 ? text : text.slice(0, start);
      const after = end === -1 ? '' : text.slice(end);
      return /[{}]/.test(before + after) ? null : { prefix: before, parts: found, suffix: after };
    }

    function partRow({ chars, length }) {
      const row = template.cloneNode(true);
      row.querySelector('select').value = chars;
      row.querySelector('input').value = length;
      return row;
    }

    function label() {
      const rows = [...parts.children];
      rows.forEach((row, index) => {
        const n = index + 1;
        row.querySelector('select').setAttribute('aria-label', `Part ${n}: characters`);
        row.querySelector('input').setAttribute('aria-label', `Part ${n}: length`);
        const [up, down] = row.querySelectorAll('[data-move]');
        up.setAttribute('aria-label', `Move part ${n} up`);
        down.setAttribute('aria-label', `Move part ${n} down`);
        up.disabled = index === 0;
        down.disabled = index === rows.length - 1;
        row.querySelector('[data-remove]').setAttribute('aria-label', `Remove part ${n}`);
      });
    }

    function show(text) {
      const state = parse(text);
      builder.disabled = state === null;
      note.hidden = state !== null;
      if (state === null) return;
      prefix.value = state.prefix;
      suffix.value = state.suffix;
      parts.replaceChildren(...state.parts.map(partRow));
      label();
    }

    function write() {
      label();
      field.value = compose();
      field.dispatchEvent(new Event('input', { bubbles: true }));
    }

    field.addEventListener('input', () => {
      if (field.value !== compose()) show(field.value);
    });
    builder.addEventListener('input', write);
    builder.addEventListener('click', (event) => {
      const button = event.target.closest('button');
      if (!button) return;
      const row = button.closest('li');
      if (button.matches('[data-add-part]')) {
        const added = partRow({ chars: kinds[0], length: '4' });
        parts.append(added);
        write();
        added.querySelector('select').focus();
      } else if (button.matches('[data-remove]')) {
        row.remove();
        write();
        builder.querySelector('[data-add-part]').focus();
      } else if (button.matches('[data-move]')) {
        const other = button.dataset.move === '-1' ? row.previousElementSibling : row.nextElementSibling?.nextElementSibling ?? null;
        parts.insertBefore(row, other);
        write();
        (button.disabled ? row.querySelector('select') : button).focus();
      }
    });
    note.querySelector('[data-rebuild]').addEventListener('click', () => {
      builder.disabled = false;
      note.hidden = true;
      write();
      prefix.focus();
    });

    builder.hidden = false;
    show(field.value);
  }
}

// The live check of a format (and a quantity) as it is typed, from POST /api/formats/check: valid or the
// error with its character marked, examples, keyspace, and how many codes are left. A form whose shown
// check failed for exactly what it holds is not sent; the server checks everything again anyway.
'use strict';
{
  const DELAY_MS = 300;
  const numbers = new Intl.NumberFormat('en-US');

  for (const panel of document.querySelectorAll('[data-format-check]')) setUp(panel);

  function setUp(panel) {
    const formatField = panel.dataset.formatField ? document.getElementById(panel.dataset.formatField) : null;
    const quantityField = panel.dataset.quantityField ? document.getElementById(panel.dataset.quantityField) : null;
    let timer;
    let latest = 0;

    function request() {
      const body = { format: formatField ? formatField.value : panel.dataset.format };
      const quantity = Number(quantityField?.value);
      if (Number.isInteger(quantity) && quantity >= 1 && quantity <= Number(quantityField.max)) body.quantity = quantity;
      return JSON.stringify(body);
    }

    async function check() {
      const body = request();
      const run = ++latest;
      delete panel.dataset.valid;
      if (JSON.parse(body).format === '') return panel.replaceChildren();
      panel.setAttribute('aria-busy', 'true');
      try {
        const answer = await csrfFetch('/api/formats/check', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        const result = await answer.json();
        if (run !== latest) return;
        if (!answer.ok) return panel.replaceChildren(line('check-error', `✗ ${result.detail}`));
        panel.dataset.checked = body;
        panel.dataset.valid = String(result.valid);
        show(JSON.parse(body).format, result);
      } catch {
        if (run === latest) panel.replaceChildren(line('check-error', 'The format could not be checked: the service did not answer.'));
      } finally {
        if (run === latest) panel.removeAttribute('aria-busy');
      }
    }

    function show(format, result) {
      const { error } = result;
      panel.dataset.fault = error?.position === undefined ? 'quantity' : 'format';
      const nodes = [
        result.valid
          ? line('check-ok', `✓ Valid: codes of ${result.length} characters.`)
          : line('check-error', `✗ ${error.position === undefined ? '' : `position ${error.position}: `}${error.message}`),
      ];
      if (error?.position !== undefined) nodes.push(pointer(format, error.position));
      if (result.examples.length > 0) {
        nodes.push(
          facts([
            ['Keyspace', `${BigInt(result.keyspace).toLocaleString('en-US')} codes (${result.entropyBits} bits)`],
            ['Can still generate', `${result.maxQuantityIsEstimate ? 'at least ' : ''}${numbers.format(result.maxQuantity)}`],
          ]),
          line('check-label', 'Examples'),
          list(result.examples),
        );
      }
      panel.replaceChildren(...nodes);
    }

    const schedule = () => {
      clearTimeout(timer);
      timer = setTimeout(check, DELAY_MS);
    };
    formatField?.addEventListener('input', schedule);
    quantityField?.addEventListener('input', schedule);

    (formatField ?? quantityField).form.addEventListener('submit', (event) => {
      const hidden = panel.getClientRects().length === 0; // another way of adding codes is chosen
      if (hidden || event.submitter?.getAttribute('formmethod') === 'dialog') return;
      if (panel.dataset.valid === 'false' && panel.dataset.checked === request()) {
        event.preventDefault();
        ((panel.dataset.fault === 'quantity' ? quantityField : formatField) ?? quantityField).focus();
      }
    });
    check();
  }

  function line(className, text) {
    const p = document.createElement('p');
    p.className = className;
    p.textContent = text;
    return p;
  }

  // the format with the character at `position` marked (past the end: an empty mark)
  function pointer(format, position) {
    const code = document.createElement('code');
    const mark = document.createElement('mark');
    mark.textContent = format.slice(position, position + 1) || ' ';
    mark.title = `position ${position}`;
    code.append(format.slice(0, position), mark, format.slice(position + 1));
    const p = document.createElement('p');
    p.className = 'check-source';
    p.append(code);
    return p;
  }

  function facts(pairs) {
    const dl = document.createElement('dl');
    for (const [term, value] of pairs) {
      const dt = document.createElement('dt');
      dt.textContent = term;
      const dd = document.createElement('dd');
      dd.textContent = value;
      dl.append(dt, dd);
    }
    return dl;
  }

  function list(examples) {
    const ul = document.createElement('ul');
    ul.className = 'check-examples';
    for (const example of examples) {
      const li = document.createElement('li');
      const code = document.createElement('code');
      code.textContent = example;
      li.append(code);
      ul.append(li);
    }
    return ul;
  }
}

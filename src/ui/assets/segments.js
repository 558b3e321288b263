// The segment builder (/segments): the filter is read from the builder's markup (see
// src/ui/components/segment-nodes.tsx), shown as JSON, and sent to POST /api/segments/query;
// the API's field errors go beside the condition and input they name.
const form = document.getElementById('segment-builder');
const jsonView = document.getElementById('segment-json');
const result = document.getElementById('segment-result');
const requestError = form.querySelector('[data-request-error]');
const numbers = new Intl.NumberFormat('en-US');

// a node's own inputs sit in its div children; its sub-nodes in its list
const ownFields = (node) => node.querySelectorAll(':scope > div [data-field]');
const field = (node, name) => node.querySelector(`:scope > div [data-field="${name}"]`);
const children = (group) => group.querySelectorAll(':scope > .seg-items > li > .seg-node');

/** An input's value as the filter wants it; undefined leaves the field out. */
function valueOf(input) {
  if ('omit' in input.dataset && input.value === input.dataset.omit) return undefined;
  if (input.dataset.type === 'number') return input.value === '' ? null : Number(input.value);
  if (input.dataset.type === 'boolean') return input.value === 'true';
  if (input.dataset.type === 'instant') {
    const instant = new Date(input.value); // datetime-local: the browser's time zone
    return Number.isNaN(instant.getTime()) ? input.value : instant.toISOString();
  }
  return input.value;
}

/**
 * The filter of a node; `targets` learns which element each path of it belongs to
 * (`filter.and[1]` → the node, `filter.and[1].not.issuedCount.op` → its operator input).
 */
function filterOf(node, path, targets) {
  targets.set(path, node);
  const negated = field(node, 'not').checked;
  const at = negated ? `${path}.not` : path;
  let filter;
  if (node.dataset.node === 'group') {
    const combine = field(node, 'combine').value;
    filter = { [combine]: [...children(node)].map((child, i) => filterOf(child, `${at}.${combine}[${i}]`, targets)) };
  } else {
    const leaf = {};
    for (const input of ownFields(node)) {
      const name = input.dataset.field;
      if (name === 'not') continue;
      targets.set(`${at}.${node.dataset.node}.${name}`, input);
      const value = valueOf(input);
      if (value !== undefined) leaf[name] = value;
    }
    filter = { [node.dataset.node]: leaf };
  }
  return negated ? { not: filter } : filter;
}

function currentFilter() {
  const targets = new Map();
  const filter = filterOf(form.querySelector('.seg-node'), 'filter', targets);
  jsonView.textContent = JSON.stringify(filter, null, 2);
  return { filter, targets };
}

let errorIds = 0;

function clearErrors() {
  for (const error of form.querySelectorAll('.field-error')) {
    error.hidden = true;
    error.textContent = '';
  }
  for (const input of form.querySelectorAll('[aria-invalid]')) {
    input.removeAttribute('aria-invalid');
    input.removeAttribute('aria-describedby');
  }
}

/** Shows an API error beside the element its path names, or its nearest named ancestor (the whole request as a last resort). */
function showError({ path, message }, targets) {
  let key = path;
  while (!targets.has(key) && /(\.[^.[\]]+|\[\d+\])$/.test(key)) key = key.replace(/(\.[^.[\]]+|\[\d+\])$/, '');
  const target = targets.get(key);
  let error = requestError;
  if (target?.classList.contains('seg-node')) error = target.querySelector(':scope > [data-node-error]');
  else if (target) {
    error = target.closest('.seg-field').querySelector('.field-error');
    error.id ||= `segment-error-${(errorIds += 1)}`;
    target.setAttribute('aria-invalid', 'true');
    target.setAttribute('aria-describedby', error.id);
  }
  error.textContent = error.textContent ? `${error.textContent}; ${message}` : message;
  error.hidden = false;
}

function showCustomers({ count, customerIds }) {
  const summary = document.createElement('p');
  const strong = document.createElement('strong');
  strong.dataset.segmentCount = '';
  strong.textContent = numbers.format(count);
  summary.append(strong, count === 1 ? ' customer matches' : ' customers match');
  if (count > customerIds.length) summary.append(`; the first ${numbers.format(customerIds.length)}:`);
  const list = document.createElement('ol');
  list.className = 'segment-customers';
  for (const id of customerIds) {
    const link = document.createElement('a');
    link.href = `/customers/${encodeURIComponent(id)}`;
    link.textContent = id;
    const item = document.createElement('li');
    item.append(link);
    list.append(item);
  }
  result.replaceChildren(summary, ...(customerIds.length > 0 ? [list] : []));
}

let latestQuery = 0;

async function query() {
  const { filter, targets } = currentFilter();
  const mine = (latestQuery += 1);
  form.setAttribute('aria-busy', 'true');
  const answer = await csrfFetch('/api/segments/query', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ filter, limit: Number(form.dataset.limit) }),
  }).catch(() => undefined);
  const body = await answer?.json().catch(() => undefined);
  if (mine !== latestQuery) return; // a newer query's answer is the one to show
  form.removeAttribute('aria-busy');
  clearErrors();
  if (answer?.ok) return showCustomers(body);
  const errors = body?.errors ?? [{ path: '', message: body?.detail ?? 'The service did not answer; try again.' }];
  for (const error of errors) showError(error, targets);
  const paragraph = document.createElement('p');
  paragraph.textContent = 'The filter has problems, shown beside the conditions they concern.';
  result.replaceChildren(paragraph);
}

function add(group, type) {
  const node = document.getElementById(`segment-node-${type}`).content.firstElementChild.cloneNode(true);
  const item = document.createElement('li');
  item.append(node);
  group.querySelector(':scope > .seg-items').append(item);
  node.querySelector('select').focus();
}

form.addEventListener('click', (event) => {
  const button = event.target.closest('button[data-add], button[data-action="remove"]');
  if (!button) return;
  const node = button.closest('.seg-node');
  if (button.dataset.add) add(node, button.dataset.add);
  else {
    const group = node.parentElement.closest('.seg-node');
    node.parentElement.remove();
    group.querySelector('button[data-add]').focus();
  }
  currentFilter();
});
// for the page's other forms (segment-mailing.js): the filter, and its errors beside its conditions
window.segmentBuilder = { currentFilter, showError, clearErrors };

form.addEventListener('input', currentFilter);
form.addEventListener('change', currentFilter);
form.addEventListener('submit', (event) => {
  event.preventDefault();
  void query();
});
currentFilter();

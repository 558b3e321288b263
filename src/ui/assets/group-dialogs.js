// Links with data-dialog="<id>" open that <dialog> instead of their page (which does the same without
// script). The dialog's [data-slot="x"] elements get the link's data-x, and its form[data-action-from-link]
// the link's address as its target.
'use strict';
for (const link of document.querySelectorAll('a[data-dialog]')) {
  link.addEventListener('click', (event) => {
    const dialog = document.getElementById(link.dataset.dialog);
    if (!(dialog instanceof HTMLDialogElement)) return;
    event.preventDefault();
    for (const slot of dialog.querySelectorAll('[data-slot]')) slot.textContent = link.dataset[slot.dataset.slot] ?? '';
    const form = dialog.querySelector('form[data-action-from-link]');
    if (form) form.action = link.href;
    dialog.showModal();
  });
}

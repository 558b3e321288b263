// A running mailing's page (/mailings/{id}): polls GET /api/mailings/{id} every second and
// updates the numbers in place. When the status changes or codes of another group appear, it
// reloads the page instead, so that everything else (recipients, Cancel, the error) is
// rendered afresh by the server; a mailing that ended is not polled any more.
const summary = document.querySelector('[data-live-mailing]');
const numbers = new Intl.NumberFormat('en-US');
const INTERVAL_MS = 1000;

async function poll() {
  const answer = await fetch(`/api/mailings/${encodeURIComponent(summary.dataset.liveMailing)}`).catch(() => undefined);
  if (answer?.ok) {
    const mailing = await answer.json();
    if (mailing.status !== summary.dataset.status || JSON.stringify(mailing.codes.map((codes) => codes.group)) !== summary.dataset.groups) {
      location.reload();
      return;
    }
    for (const cell of summary.querySelectorAll('[data-field]')) cell.textContent = numbers.format(mailing[cell.dataset.field]);
    summary.querySelectorAll('[data-codes-row]').forEach((row, i) => {
      for (const cell of row.querySelectorAll('[data-codes-field]')) cell.textContent = numbers.format(mailing.codes[i][cell.dataset.codesField]);
    });
  }
  setTimeout(poll, INTERVAL_MS);
}

if (summary) setTimeout(poll, INTERVAL_MS);

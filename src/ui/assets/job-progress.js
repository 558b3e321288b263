// Moves the rows of running jobs (GET /api/jobs/{id}) and the group's counters (GET /api/groups/{id})
// every second until every job listed has ended.
'use strict';
{
  const INTERVAL_MS = 1000;
  const numbers = new Intl.NumberFormat('en-US');
  const counters = document.querySelector('[data-group-counters]');
  const running = new Set(document.querySelectorAll('tr[data-job-status="running"]'));

  if (running.size > 0) setTimeout(poll, INTERVAL_MS);

  async function poll() {
    try {
      await Promise.all([...running].map(refreshJob));
      if (counters) await refreshCounters();
    } catch {
      // the next round tries again
    }
    if (running.size > 0) setTimeout(poll, INTERVAL_MS);
  }

  async function refreshJob(row) {
    const answer = await fetch(`/api/jobs/${row.dataset.jobId}`);
    if (!answer.ok) return;
    const job = await answer.json();
    // as jobs.tsx renders a job
    const percent = job.requested > 0 ? Math.floor((job.processed * 100) / job.requested) : job.status === 'running' ? 0 : 100;
    const bar = row.querySelector('progress');
    bar.max = Math.max(job.requested, 1);
    bar.value = job.requested > 0 ? job.processed : percent / 100;
    field(row, 'progress').textContent = `${numbers.format(job.processed)} of ${numbers.format(job.requested)} · ${percent} %`;
    for (const count of ['added', 'duplicates', 'invalid']) field(row, count).textContent = numbers.format(job[count]);
    field(row, 'status').textContent = job.status;
    field(row, 'reason').textContent = job.errors.find((problem) => problem.line === undefined)?.reason ?? '';
    row.dataset.jobStatus = job.status;
    if (job.status !== 'running') running.delete(row);
  }

  async function refreshCounters() {
    const answer = await fetch(`/api/groups/${counters.dataset.groupCounters}`);
    if (!answer.ok) return;
    const group = await answer.json();
    for (const counter of counters.querySelectorAll('[data-counter]')) counter.textContent = numbers.format(group[counter.dataset.counter]);
  }

  function field(row, name) {
    return row.querySelector(`[data-job-field="${name}"]`);
  }
}

import type { Job } from '../../../db/jobs.js';
import { Time } from '../../components/time.js';
import { formatNumber } from '../../format.js';
import { DataTable } from '../../components/data-table.js';

const KIND_LABELS: Record<Job['kind'], string> = { generate: 'Generation', import: 'Import' };

/** Percent done, whole: 100 only once all is processed (an empty import is done when it ends). job-progress.js does the same. */
const percentOf = (job: Job) => (job.requested > 0 ? Math.floor((job.processed * 100) / job.requested) : job.status === 'running' ? 0 : 100);

/** Why a job failed or stopped: its problem without a line. */
const reasonOf = (job: Job) => job.errors.find((problem) => problem.line === undefined)?.reason;

/** The group's jobs, newest first; job-progress.js moves the rows of running ones. */
export function JobTable({ jobs, workflowUrlOf }: { jobs: Job[]; workflowUrlOf: (workflowId: string) => string | undefined }) {
  if (jobs.length === 0) return <p>No jobs yet: generations and imports show here with their progress.</p>;
  return (
    <DataTable class="jobs" columns={['Job', 'Status', 'Progress', { label: 'Added', numeric: true }, { label: 'Duplicates', numeric: true }, { label: 'Invalid', numeric: true }, 'Started', 'Links']}>
      {jobs.map((job) => {
        const workflow = workflowUrlOf(job.workflowId);
        return (
          <tr data-job-id={job.id} data-job-status={job.status}>
            <td>
              {KIND_LABELS[job.kind]} #{job.id}
            </td>
            <td>
              <span data-job-field="status">{job.status}</span>
              <span class="job-reason" data-job-field="reason">
                {reasonOf(job)}
              </span>
            </td>
            <td class="progress">
              <progress max={Math.max(job.requested, 1)} value={job.requested > 0 ? job.processed : percentOf(job) / 100} aria-label={`Job ${job.id} progress`} />
              <span data-job-field="progress">
                {`${formatNumber(job.processed)} of ${formatNumber(job.requested)} · ${percentOf(job)} %`}
              </span>
            </td>
            <td class="num" data-job-field="added">
              {formatNumber(job.added)}
            </td>
            <td class="num" data-job-field="duplicates">
              {formatNumber(job.duplicates)}
            </td>
            <td class="num" data-job-field="invalid">
              {formatNumber(job.invalid)}
            </td>
            <td>
              <Time iso={job.createdAt} />
            </td>
            <td class="row-actions">
              {workflow && (
                <a href={workflow} target="_blank" rel="noopener noreferrer">
                  Workflow ↗
                </a>
              )}
              {job.kind === 'import' && (
                <a href={`/api/jobs/${job.id}/rejects`} download>
                  Rejects CSV
                </a>
              )}
            </td>
          </tr>
        );
      })}
    </DataTable>
  );
}

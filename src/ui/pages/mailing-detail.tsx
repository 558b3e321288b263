import { ACTIVE_MAILING_STATUSES, type Mailing, type RecipientOutcome } from '../../db/mailings.js';
import type { Page } from '../../domain/pagination.js';
import { CsrfField } from '../csrf.js';
import { MailingStatus } from '../components/mailing-status.js';
import { Pager } from '../components/pager.js';
import { Time } from '../components/time.js';
import { formatNumber } from '../format.js';
import { DataTable } from '../components/data-table.js';
import { Scripts } from '../components/scripts.js';
import { AudienceSummary } from '../components/audience.js';

const COUNTERS = [
  { field: 'recipients', label: 'Recipients' },
  { field: 'sent', label: 'Sent' },
  { field: 'failed', label: 'Failed' },
  { field: 'unknown', label: 'Unknown' },
  { field: 'pending', label: 'Pending' },
] as const;
const CODE_COUNTERS = [
  { field: 'reserved', label: 'Reserved' },
  { field: 'issued', label: 'Issued' },
  { field: 'released', label: 'Released' },
] as const;

/**
 * One mailing: counters, codes by group, the error if it failed, Cancel while it can be
 * cancelled, and a page of recipients. While it runs, /assets/mailing-live.js keeps the
 * numbers current (the `data-*` attributes below are what it reads and writes).
 */
export function MailingDetail({ mailing, recipients, cursor, workflowUrl }: { mailing: Mailing; recipients: Page<RecipientOutcome>; cursor: string | undefined; workflowUrl: string | undefined }) {
  const path = `/mailings/${encodeURIComponent(mailing.id)}`;
  // a draft, reserving or sending: it may still change, and can be cancelled
  const unfinished = mailing.status === 'draft' || ACTIVE_MAILING_STATUSES.includes(mailing.status);
  return (
    <>
      <section
        class="mailing-summary"
        aria-label="Progress"
        data-live-mailing={unfinished ? mailing.id : undefined}
        data-status={mailing.status}
        data-groups={JSON.stringify(mailing.codes.map((codes) => codes.group))}
      >
        <dl class="stats">
          <div>
            <dt>Status</dt>
            <dd>
              <MailingStatus status={mailing.status} />
            </dd>
          </div>
          {COUNTERS.map(({ field, label }) => (
            <div>
              <dt>{label}</dt>
              <dd class="num" data-field={field}>
                {formatNumber(mailing[field])}
              </dd>
            </div>
          ))}
        </dl>
        {mailing.unknown > 0 && (
          <p class="meta" role="note">
            Unknown: the message may have arrived (a timeout, a connection lost after sending, an interrupted attempt), so
            those recipients keep their codes. The receiver can tell by the idempotency key <code>{`${mailing.id}:<customer id>`}</code>; a
            code that never arrived can be sent again with <code>last_promocode</code>.
          </p>
        )}
        {mailing.error && (
          <p class="error" role="alert">
            Failed: <code>{mailing.error.code}</code> — {mailing.error.detail}
          </p>
        )}
        <p class="meta">
          Id <code>{mailing.id}</code> · created <Time iso={mailing.createdAt} />
          {mailing.finishedAt && (
            <>
              {' '}
              · finished <Time iso={mailing.finishedAt} />
            </>
          )}
          {unfinished && ' · updates itself until it ends'}
        </p>
        <div class="actions">
          {unfinished && (
            <form method="post" action={`${path}/cancel`}>
              <CsrfField />
              <button type="submit" class="danger">
                Cancel mailing
              </button>
            </form>
          )}
          {workflowUrl && (
            <a href={workflowUrl} target="_blank" rel="noopener noreferrer">
              Workflow {mailing.workflowId} in the Temporal UI ↗
            </a>
          )}
        </div>
        <h2>Codes by group</h2>
        <CodesTable codes={mailing.codes} unfinished={unfinished} />
      </section>
      {mailing.audience && <AudienceSummary audience={mailing.audience} />}
      <h2>Recipients</h2>
      <RecipientTable recipients={recipients.items} />
      <Pager path={path} cursor={cursor} nextCursor={recipients.nextCursor} label="Pages of recipients" />
      {unfinished && <Scripts names={['mailing-live']} />}
    </>
  );
}

function CodesTable({ codes, unfinished }: { codes: Mailing['codes']; unfinished: boolean }) {
  if (codes.length === 0) return <p>{unfinished ? 'No codes reserved yet.' : 'The mailing issued no codes of its own (it may repeat earlier ones).'}</p>;
  return (
    <DataTable columns={['Group', ...CODE_COUNTERS.map(({ label }) => ({ label, numeric: true }))]}>
      {codes.map((group) => (
        <tr data-codes-row>
          <td>{group.group}</td>
          {CODE_COUNTERS.map(({ field }) => (
            <td class="num" data-codes-field={field}>
              {formatNumber(group[field])}
            </td>
          ))}
        </tr>
      ))}
    </DataTable>
  );
}

function RecipientTable({ recipients }: { recipients: RecipientOutcome[] }) {
  if (recipients.length === 0) return <p>No recipients.</p>;
  return (
    <DataTable columns={['Customer', 'Status', 'Codes', 'Error']}>
      {recipients.map((recipient) => (
        <tr>
          <td>
            <a href={`/customers/${encodeURIComponent(recipient.customerId)}`}>{recipient.customerId}</a>
          </td>
          <td>{recipient.status}</td>
          <td>
            <ul class="codes">
              {recipient.codes.map((code) => (
                <li>
                  <code>{code.code}</code> <span class="muted">{`${code.group} · ${code.kind}`}</span>
                </li>
              ))}
            </ul>
          </td>
          <td>{recipient.error}</td>
        </tr>
      ))}
    </DataTable>
  );
}

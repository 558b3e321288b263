import type { AppDeps } from '../../api/router.js';
import { getMailing, listMailings, listRecipients, type Mailing } from '../../db/mailings.js';
import { cancelMailing } from '../../temporal/cancel-mailing.js';
import { MailingStatus } from '../components/mailing-status.js';
import { Pager } from '../components/pager.js';
import { Time } from '../components/time.js';
import { formatNumber } from '../format.js';
import { pageRouter } from '../router.js';
import { workflowUrl } from '../temporal-link.js';
import { MailingDetail } from './mailing-detail.js';
import { DataTable } from '../components/data-table.js';

const PAGE_SIZE = 50;

/** /mailings: every mailing, newest first; /mailings/{id}: one with its recipients, live while it runs. */
export function mailingPages(deps: AppDeps) {
  const app = pageRouter(deps);

  app.get('/', async (c) => {
    const cursor = c.req.query('cursor');
    const page = await listMailings(deps.sql, { limit: PAGE_SIZE, cursor });
    return c.render(
      <>
        <MailingTable mailings={page.items} />
        <Pager path="/mailings" cursor={cursor} nextCursor={page.nextCursor} label="Pages of mailings" />
      </>,
      { title: 'Mailings', active: 'mailings' },
    );
  });

  app.get('/:id', async (c) => {
    const id = c.req.param('id');
    const cursor = c.req.query('cursor');
    const mailing = await getMailing(deps.sql, id);
    const recipients = await listRecipients(deps.sql, id, { limit: PAGE_SIZE, cursor });
    return c.render(<MailingDetail mailing={mailing} recipients={recipients} cursor={cursor} workflowUrl={workflowUrl(deps, mailing.workflowId)} />, {
      title: `Mailing “${mailing.name}”`,
      active: 'mailings',
    });
  });

  app.post('/:id/cancel', async (c) => {
    const id = c.req.param('id');
    await cancelMailing(deps, id);
    return c.redirect(`/mailings/${encodeURIComponent(id)}`, 303);
  });

  return app;
}

function MailingTable({ mailings }: { mailings: Mailing[] }) {
  if (mailings.length === 0) {
    return (
      <p>
        No mailings yet. They are started through the API (POST /api/mailings), or to a segment from the <a href="/segments">segment builder</a>.
      </p>
    );
  }
  return (
    <DataTable columns={['Name', 'Status', { label: 'Recipients', numeric: true }, { label: 'Sent', numeric: true }, { label: 'Failed', numeric: true }, { label: 'Unknown', numeric: true }, { label: 'Pending', numeric: true }, 'Created']}>
      {mailings.map((mailing) => (
        <tr>
          <td>
            <a href={`/mailings/${encodeURIComponent(mailing.id)}`}>{mailing.name}</a>
          </td>
          <td>
            <MailingStatus status={mailing.status} />
          </td>
          <td class="num">{formatNumber(mailing.recipients)}</td>
          <td class="num">{formatNumber(mailing.sent)}</td>
          <td class="num">{formatNumber(mailing.failed)}</td>
          <td class="num">{formatNumber(mailing.unknown)}</td>
          <td class="num">{formatNumber(mailing.pending)}</td>
          <td>
            <Time iso={mailing.createdAt} />
          </td>
        </tr>
      ))}
    </DataTable>
  );
}

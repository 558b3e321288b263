import type { CodeListItem, CodeStatus } from '../../../db/codes.js';
import type { Group } from '../../../db/groups.js';
import type { Page } from '../../../domain/pagination.js';
import { Pager } from '../../components/pager.js';
import { Time } from '../../components/time.js';
import { formatNumber } from '../../format.js';
import { COUNTERS } from './counters.js';
import { withQuery } from './href.js';
import { DataTable } from '../../components/data-table.js';

const FILTERS: { status: CodeStatus | undefined; label: string; count: (group: Group) => number }[] = COUNTERS.map(({ key, label }) =>
  key === 'total' ? { status: undefined, label: 'All', count: (group) => group.total } : { status: key, label, count: (group) => group[key] },
);

/** A page of the group's codes, of one status or all, with the CSV export of the same selection. */
export function CodesSection({ group, codes, status, cursor }: { group: Group; codes: Page<CodeListItem>; status: CodeStatus | undefined; cursor: string | undefined }) {
  const path = `/groups/${group.id}`;
  return (
    <section id="codes" aria-labelledby="codes-title">
      <h2 id="codes-title">Codes</h2>
      <div class="toolbar">
        <nav class="filters" aria-label="Codes by status">
          {FILTERS.map((filter) => (
            <a href={`${withQuery(path, { status: filter.status })}#codes`} aria-current={filter.status === status ? 'page' : undefined}>
              {filter.label} ({formatNumber(filter.count(group))})
            </a>
          ))}
        </nav>
        <a href={withQuery(`${path}/codes.csv`, { status })} download>
          Download {status ?? 'all'} codes as CSV
        </a>
      </div>
      {codes.items.length === 0 ? (
        <p>{status ? `No ${status} codes.` : 'No codes yet.'}</p>
      ) : (
        <DataTable class="codes" columns={['Code', 'Status', 'Customer', 'Issued']}>
          {codes.items.map((code) => (
            <tr>
              <td class="mono">{code.code}</td>
              <td>{code.status}</td>
              <td>{code.customerId}</td>
              <td>{code.issuedAt && <Time iso={code.issuedAt} />}</td>
            </tr>
          ))}
        </DataTable>
      )}
      <Pager path={withQuery(path, { status })} cursor={cursor} nextCursor={codes.nextCursor} label="Pages of codes" />
    </section>
  );
}

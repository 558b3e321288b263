import { z } from 'zod';
import type { Group } from '../../../db/groups.js';
import type { Page } from '../../../domain/pagination.js';
import { Field } from '../../components/field.js';
import { Pager } from '../../components/pager.js';
import { formatNumber } from '../../format.js';
import { COUNTERS } from './counters.js';
import { CreateDialog } from './create.js';
import { DeleteDialog } from './delete.js';
import { withQuery } from './href.js';
import { LowStockBadge } from './low-stock-badge.js';
import { Scripts } from '../../components/scripts.js';
import { DataTable } from '../../components/data-table.js';

/** /groups?q=&sort=&lowStock=&cursor=: a name search, the order (creation by default), only the low-stock groups, and the page. */
export const ListQuery = z.object({
  q: z.string().trim().max(200).optional().catch(undefined),
  sort: z.enum(['name', '-name']).optional().catch(undefined),
  lowStock: z.literal('true').optional().catch(undefined),
  cursor: z.string().min(1).optional().catch(undefined),
  /** the name of a group just deleted, for the notice */
  deleted: z.string().optional().catch(undefined),
});
export type ListQuery = z.output<typeof ListQuery>;

export function GroupListPage({ page, query }: { page: Page<Group>; query: ListQuery }) {
  const here = (params: Partial<ListQuery>) => withQuery('/groups', { q: query.q, sort: query.sort, lowStock: query.lowStock, ...params });
  return (
    <>
      {query.deleted !== undefined && (
        <p class="notice" role="status">
          The group “{query.deleted}” was deleted.
        </p>
      )}
      <div class="toolbar">
        <form method="get" action="/groups" role="search" class="search">
          <Field name="q" label="Search by name" type="search" value={query.q} />
          {query.sort && <input type="hidden" name="sort" value={query.sort} />}
          {query.lowStock && <input type="hidden" name="lowStock" value={query.lowStock} />}
          <button type="submit" class="secondary">
            Search
          </button>
        </form>
        <a class="button" href="/groups/new" data-dialog="create-group">
          Create new group
        </a>
      </div>
      <nav class="filters list-filters" aria-label="Groups by stock">
        <a href={here({ lowStock: undefined })} aria-current={query.lowStock ? undefined : 'page'}>
          All groups
        </a>
        <a href={here({ lowStock: 'true' })} aria-current={query.lowStock ? 'page' : undefined}>
          Low stock only
        </a>
      </nav>
      {page.items.length === 0 ? (
        <p>{emptyListText(query)}</p>
      ) : (
        <GroupTable groups={page.items} query={query} sortHref={here({ sort: query.sort === 'name' ? '-name' : 'name' })} />
      )}
      <Pager path={here({})} cursor={query.cursor} nextCursor={page.nextCursor} label="Pages of groups" />
      <CreateDialog />
      <DeleteDialog />
      <Scripts names={['group-dialogs', 'format-builder', 'format-check', 'group-import']} />
    </>
  );
}

function emptyListText({ q, lowStock }: ListQuery): string {
  if (lowStock) return q ? `No low-stock group's name contains “${q}”.` : 'No group is low on stock.';
  return q ? `No group's name contains “${q}”.` : 'No groups yet.';
}

function GroupTable({ groups, query, sortHref }: { groups: Group[]; query: ListQuery; sortHref: string }) {
  const sorted = query.sort === 'name' ? 'ascending' : query.sort === '-name' ? 'descending' : undefined;
  return (
    <DataTable
      class="groups"
      columns={[
        {
          label: (
            <a href={sortHref}>
              Name
              <span aria-hidden="true">{sorted === 'ascending' ? ' ↑' : sorted === 'descending' ? ' ↓' : ' ↕'}</span>
            </a>
          ),
          sort: sorted,
        },
        ...COUNTERS.map(({ label }) => ({ label, numeric: true })),
        'Actions',
      ]}
    >
      {groups.map((group) => (
        <tr>
          <td>
            <a href={`/groups/${group.id}`}>{group.name}</a>
            <LowStockBadge group={group} />
          </td>
          {COUNTERS.map(({ key }) => (
            <td class="num">{formatNumber(group[key])}</td>
          ))}
          <td class="row-actions">
            <a href={`/groups/${group.id}`} aria-label={`Edit ${group.name}`}>
              Edit
            </a>{' '}
            <a href={`/groups/${group.id}/delete`} aria-label={`Delete ${group.name}`} data-dialog="delete-group" data-name={group.name}>
              Delete
            </a>
          </td>
        </tr>
      ))}
    </DataTable>
  );
}

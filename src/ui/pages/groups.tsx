import type { AppDeps } from '../../api/router.js';
import { type Group, listGroups } from '../../db/groups.js';
import { formatNumber } from '../format.js';
import { pageRouter } from '../router.js';

/** /groups: the promo code groups with their counters. */
export function groupPages(deps: AppDeps) {
  const app = pageRouter(deps);
  app.get('/', async (c) => {
    const { items } = await listGroups(deps.sql, {});
    return c.render(<GroupTable groups={items} />, { title: 'Promo codes', active: 'groups' });
  });
  return app;
}

function GroupTable({ groups }: { groups: Group[] }) {
  if (groups.length === 0) return <p>No groups yet.</p>;
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col" class="num">Total</th>
            <th scope="col" class="num">Active</th>
            <th scope="col" class="num">Blocked</th>
            <th scope="col" class="num">Issued</th>
          </tr>
        </thead>
        <tbody>
          {groups.map((group) => (
            <tr>
              <td>{group.name}</td>
              <td class="num">{formatNumber(group.total)}</td>
              <td class="num">{formatNumber(group.active)}</td>
              <td class="num">{formatNumber(group.blocked)}</td>
              <td class="num">{formatNumber(group.issued)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

import type { Group } from '../../../db/groups.js';

/** " Low stock" beside a group's name (space included) while its active codes are below its threshold. */
export const LowStockBadge = ({ group }: { group: Group }) =>
  group.lowStock ? (
    <>
      {' '}
      <span class="badge badge-low-stock">Low stock</span>
    </>
  ) : null;

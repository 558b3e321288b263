import { CODE_STATUSES } from '../../../db/codes.js';

export type Counter = 'total' | (typeof CODE_STATUSES)[number];

/** A group's counters as the pages show them: the total, then one per code status. */
export const COUNTERS: readonly { key: Counter; label: string }[] = [
  { key: 'total', label: 'Total' },
  ...CODE_STATUSES.map((status) => ({ key: status, label: status[0]!.toUpperCase() + status.slice(1) })),
];

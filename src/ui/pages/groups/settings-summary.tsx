import type { Group } from '../../../db/groups.js';
import { Time } from '../../components/time.js';
import { formatNumber } from '../../format.js';

/** The group's expiry, validity and stock settings in words; nothing for those that are off. */
export function SettingsSummary({ group }: { group: Group }) {
  const { expiresAt, validForDays, lowStockThreshold, autoRefill } = group;
  const lines = [
    expiresAt && (
      <>
        {Date.parse(expiresAt) <= Date.now() ? 'Expired' : 'Expires'} <Time iso={expiresAt} />
      </>
    ),
    validForDays && `Codes valid ${formatNumber(validForDays)} ${validForDays === 1 ? 'day' : 'days'} after issue`,
    lowStockThreshold && `Low-stock alert below ${formatNumber(lowStockThreshold)}`,
    autoRefill && `Auto-refill below ${formatNumber(autoRefill.below)} up to ${formatNumber(autoRefill.upTo)}`,
  ].filter(Boolean);
  return lines.length === 0 ? null : (
    <ul class="group-summary" aria-label="Settings in effect">
      {lines.map((line) => (
        <li>{line}</li>
      ))}
    </ul>
  );
}

import type { Audience } from '../../db/mailings.js';
import type { CountOp, IssuanceWindow, SegmentFilter } from '../../domain/segment.js';

const OPS: Record<CountOp, string> = { eq: '=', ne: '≠', gt: '>', gte: '≥', lt: '<', lte: '≤' };

/** A filter in words, e.g. `issued a code from “Summer” and not (issued a code from “Autumn”)`. */
export function describeSegment(filter: SegmentFilter): string {
  const nested = (item: SegmentFilter) => ('and' in item || 'or' in item ? `(${describeSegment(item)})` : describeSegment(item));
  if ('and' in filter) return filter.and.map(nested).join(' and ');
  if ('or' in filter) return filter.or.map(nested).join(' or ');
  if ('not' in filter) return `not (${describeSegment(filter.not)})`;
  if ('issuedFromGroup' in filter) {
    const { redeemed } = filter.issuedFromGroup;
    return `issued a code${windowText(filter.issuedFromGroup)}${redeemed === undefined ? '' : redeemed ? ' that is redeemed' : ' that is not redeemed'}`;
  }
  if ('redeemedCount' in filter) {
    const { op, value } = filter.redeemedCount;
    return `number of codes redeemed${windowText(filter.redeemedCount)} ${OPS[op]} ${value}`;
  }
  const { op, value } = filter.issuedCount;
  return `number of codes issued${windowText(filter.issuedCount)} ${OPS[op]} ${value}`;
}

function windowText({ group, kind, since, until }: IssuanceWindow): string {
  return [
    group !== undefined && ` from “${group}”`,
    kind !== undefined && kind !== 'any' && ` (${kind})`,
    since !== undefined && ` since ${since}`,
    until !== undefined && ` before ${until}`,
  ]
    .filter(Boolean)
    .join('');
}

/** Whom a mailing with an audience was sent to: the segment in words, and as sent. */
export function AudienceSummary({ audience }: { audience: Audience }) {
  return (
    <section class="audience" aria-labelledby="audience-title">
      <h2 id="audience-title">Audience</h2>
      <p>
        The customers who matched, when the mailing started: <strong>{describeSegment(audience.segment)}</strong>.
      </p>
      <details>
        <summary>The filter, as sent</summary>
        <pre>{JSON.stringify(audience.segment, null, 2)}</pre>
      </details>
    </section>
  );
}

import { describe, expect, it } from 'vitest';
import { describeSegment } from '../../src/ui/components/audience.js';

describe('a segment in words, as the mailing page shows its audience', () => {
  it('reads leaves with their window, and nests groups in parentheses', () => {
    expect(describeSegment({ issuedFromGroup: { group: 'Summer' } })).toBe('issued a code from “Summer”');
    expect(describeSegment({ issuedCount: { op: 'gte', value: 2, kind: 'repeat', since: '2026-01-01T00:00:00Z' } })).toBe(
      'number of codes issued (repeat) since 2026-01-01T00:00:00Z ≥ 2',
    );
    expect(
      describeSegment({
        and: [
          { issuedFromGroup: { group: 'Summer', kind: 'any' } },
          { not: { or: [{ issuedFromGroup: { group: 'Autumn' } }, { issuedCount: { op: 'eq', value: 0, group: 'Winter', until: '2026-06-01T00:00:00Z' } }] } },
        ],
      }),
    ).toBe('issued a code from “Summer” and not (issued a code from “Autumn” or number of codes issued from “Winter” before 2026-06-01T00:00:00Z = 0)');
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/domain/errors.js';
import {
  compileSegment,
  type CustomerSet,
  groupReferences,
  type IssuanceScope,
  MAX_FILTER_DEPTH,
  MAX_FILTER_NODES,
  parseSegmentFilter,
  type Segment,
} from '../../src/domain/segment.js';
import { byCodePoint, evaluateFilter, filterArbitrary, issuanceArbitrary, type SegmentData } from '../support/segments.js';

const alpha = { issuedFromGroup: { group: 'Alpha' } };

/** The field errors parseSegmentFilter reports for the input. */
function errorsOf(input: unknown): { path: string; message: string }[] {
  try {
    parseSegmentFilter(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).errors;
  }
  throw new Error('the filter was accepted');
}

const pathsOf = (input: unknown) => errorsOf(input).map((e) => e.path);

const nested = (depth: number): unknown => {
  let filter: unknown = alpha;
  for (let i = 1; i < depth; i += 1) filter = i % 2 === 0 ? { not: filter } : { and: [alpha, filter] };
  return filter;
};

describe('segment filter validation', () => {
  it('accepts every filter form and keeps what it was given', () => {
    const filter = {
      or: [
        { and: [alpha, { not: { issuedFromGroup: { group: 'Beta', kind: 'repeat', since: '2025-01-01T00:00:00Z' } } }] },
        { issuedCount: { op: 'lte', value: 0, group: ' Gamma ', kind: 'any', since: '2025-01-01T00:00:00+02:00', until: '2025-02-01T00:00:00.500Z' } },
      ],
    };
    expect(parseSegmentFilter(filter)).toEqual({
      or: [filter.or[0], { issuedCount: { ...filter.or[1]!.issuedCount, group: 'Gamma' } }],
    });
    for (const op of ['eq', 'ne', 'gt', 'gte', 'lt', 'lte']) expect(parseSegmentFilter({ issuedCount: { op, value: 3 } })).toBeTruthy();
  });

  it('names a bad op, a negative or fractional value and a bad kind by their paths', () => {
    expect(pathsOf({ and: [alpha, { issuedCount: { op: 'ge', value: 1 } }] })).toEqual(['filter.and[1].issuedCount.op']);
    expect(errorsOf({ issuedCount: { op: 'gte', value: -1 } })).toEqual([{ path: 'filter.issuedCount.value', message: 'must not be negative' }]);
    expect(pathsOf({ or: [{ not: { issuedCount: { op: 'gte', value: 1.5 } } }] })).toEqual(['filter.or[0].not.issuedCount.value']);
    expect(pathsOf({ issuedCount: { op: 'gte', value: '1' } })).toEqual(['filter.issuedCount.value']);
    expect(pathsOf({ issuedFromGroup: { group: 'Alpha', kind: 'first' } })).toEqual(['filter.issuedFromGroup.kind']);
  });

  it('names missing fields and empty group names', () => {
    expect(pathsOf({ issuedCount: { value: 1 } })).toEqual(['filter.issuedCount.op']);
    expect(pathsOf({ issuedCount: { op: 'eq' } })).toEqual(['filter.issuedCount.value']);
    expect(pathsOf({ and: [{ issuedFromGroup: {} }] })).toEqual(['filter.and[0].issuedFromGroup.group']);
    expect(pathsOf({ issuedFromGroup: { group: '   ' } })).toEqual(['filter.issuedFromGroup.group']);
    expect(pathsOf(undefined)).toEqual(['filter']);
    expect(pathsOf(null)).toEqual(['filter']);
    expect(pathsOf([alpha])).toEqual(['filter']);
  });

  it('names unknown keys at their own path', () => {
    expect(errorsOf({ issuedCount: { op: 'eq', value: 1, colour: 'red' } })).toEqual([{ path: 'filter.issuedCount.colour', message: 'unknown field' }]);
    expect(pathsOf({ and: [alpha, { xor: [alpha] }] })).toEqual(['filter.and[1].xor', 'filter.and[1]']);
  });

  it('wants exactly one key per node', () => {
    expect(errorsOf({})).toEqual([{ path: 'filter', message: 'must have one of and, or, not, issuedCount, issuedFromGroup, redeemedCount' }]);
    expect(errorsOf({ not: alpha, issuedFromGroup: { group: 'Beta' } })).toEqual([
      { path: 'filter', message: 'must have only one of not, issuedFromGroup' },
    ]);
  });

  it('refuses empty and/or lists', () => {
    expect(errorsOf({ and: [] })).toEqual([{ path: 'filter.and', message: 'must hold at least one filter' }]);
    expect(pathsOf({ not: { or: [] } })).toEqual(['filter.not.or']);
    expect(pathsOf({ and: alpha })).toEqual(['filter.and']);
  });

  it('wants ISO-8601 timestamps with an offset', () => {
    for (const bad of ['2025-03-01', '2025-03-01T00:00:00', '2025-02-30T00:00:00Z', '2025-03-01 00:00:00Z', 'yesterday', '0000-01-01T00:00:00Z', 1_700_000_000]) {
      expect(pathsOf({ or: [alpha, { issuedCount: { op: 'gt', value: 0, since: bad } }] })).toEqual(['filter.or[1].issuedCount.since']);
    }
    expect(pathsOf({ issuedFromGroup: { group: 'Alpha', until: '2025-03-01T00:00:00+2' } })).toEqual(['filter.issuedFromGroup.until']);
    expect(parseSegmentFilter({ issuedFromGroup: { group: 'Alpha', since: '2025-03-01T00:00:00.123456-05:30' } })).toBeTruthy();
  });

  it(`refuses filters nested deeper than ${MAX_FILTER_DEPTH} levels, naming the first node too deep`, () => {
    expect(parseSegmentFilter(nested(MAX_FILTER_DEPTH))).toBeTruthy();
    let filter: unknown = alpha;
    for (let i = 0; i < MAX_FILTER_DEPTH; i += 1) filter = { not: filter };
    expect(errorsOf(filter)).toEqual([{ path: `filter${'.not'.repeat(MAX_FILTER_DEPTH)}`, message: `filters nest at most ${MAX_FILTER_DEPTH} levels deep` }]);
    expect(pathsOf({ or: [alpha, nested(MAX_FILTER_DEPTH)] })).toEqual(['filter.or[1].and[1].not.and[1].not.and[1].not.and[1].not.and[0]']);
    // very deep input is refused without being walked
    let deep: unknown = alpha;
    for (let i = 0; i < 100_000; i += 1) deep = { not: deep };
    expect(pathsOf(deep)).toHaveLength(1);
  });

  it(`refuses more than ${MAX_FILTER_NODES} nodes`, () => {
    expect(parseSegmentFilter({ and: Array.from({ length: MAX_FILTER_NODES - 1 }, () => alpha) })).toBeTruthy();
    expect(errorsOf({ and: Array.from({ length: MAX_FILTER_NODES }, () => alpha) })).toEqual([
      { path: 'filter', message: `a filter has at most ${MAX_FILTER_NODES} conditions (and, or, not and leaves together)` },
    ]);
    expect(pathsOf({ or: Array.from({ length: 50 }, () => ({ not: alpha })) })).toEqual(['filter']);
  });

  it('reports every error at once', () => {
    expect(pathsOf({ and: [{ issuedCount: { op: 'x', value: -1 } }, { or: [] }, { not: { issuedFromGroup: { group: 'A', since: 'x' } } }] })).toEqual([
      'filter.and[0].issuedCount.op',
      'filter.and[0].issuedCount.value',
      'filter.and[1].or',
      'filter.and[2].not.issuedFromGroup.since',
    ]);
  });
});

describe('group references', () => {
  it('lists every group name with its path', () => {
    const filter = parseSegmentFilter({
      or: [alpha, { and: [{ not: { issuedCount: { op: 'eq', value: 0, group: 'Beta' } } }, { issuedCount: { op: 'eq', value: 0 } }] }],
    });
    expect(groupReferences(filter)).toEqual([
      { path: 'filter.or[0].issuedFromGroup.group', name: 'Alpha' },
      { path: 'filter.or[1].and[0].not.issuedCount.group', name: 'Beta' },
    ]);
  });
});

describe('segment compilation', () => {
  const ids = new Map([['Alpha', '1'], ['Beta', '2']]);
  const compile = (filter: unknown) => compileSegment(parseSegmentFilter(filter), ids);
  const inAlpha: CustomerSet = { type: 'issued', scope: { groupId: '1' } };
  const inBeta: CustomerSet = { type: 'issued', scope: { groupId: '2' } };
  const anyIssued: CustomerSet = { type: 'issued', scope: {} };

  it('turns counts that include zero into complements', () => {
    expect(compile({ issuedCount: { op: 'eq', value: 0 } })).toEqual({ complement: true, set: anyIssued });
    expect(compile({ issuedCount: { op: 'lt', value: 3 } })).toEqual({ complement: true, set: { type: 'issued', scope: {}, count: { op: 'gte', value: 3 } } });
    expect(compile({ issuedCount: { op: 'lte', value: 0 } })).toEqual({ complement: true, set: anyIssued });
    expect(compile({ issuedCount: { op: 'ne', value: 2 } })).toEqual({ complement: true, set: { type: 'issued', scope: {}, count: { op: 'eq', value: 2 } } });
    expect(compile({ issuedCount: { op: 'ne', value: 0 } })).toEqual({ complement: false, set: anyIssued });
    expect(compile({ issuedCount: { op: 'gt', value: 0 } })).toEqual({ complement: false, set: anyIssued });
    expect(compile({ issuedCount: { op: 'gt', value: 1, kind: 'repeat' } })).toEqual({
      complement: false,
      set: { type: 'issued', scope: { kind: 'repeat' }, count: { op: 'gte', value: 2 } },
    });
    expect(compile({ issuedCount: { op: 'gte', value: 0 } })).toEqual({ complement: true, set: null });
    expect(compile({ issuedCount: { op: 'lt', value: 0 } })).toEqual({ complement: false, set: null });
  });

  it('keeps negation at the top through De Morgan', () => {
    expect(compile({ and: [alpha, { not: { issuedFromGroup: { group: 'Beta' } } }] })).toEqual({
      complement: false,
      set: { type: 'all', sets: [inAlpha], except: [inBeta] },
    });
    expect(compile({ and: [{ not: alpha }, { not: { issuedFromGroup: { group: 'Beta' } } }] })).toEqual({
      complement: true,
      set: { type: 'union', sets: [inAlpha, inBeta] },
    });
    expect(compile({ or: [alpha, { not: { issuedFromGroup: { group: 'Beta' } } }] })).toEqual({
      complement: true,
      set: { type: 'all', sets: [inBeta], except: [inAlpha] },
    });
    expect(compile({ not: { or: [alpha, { issuedFromGroup: { group: 'Beta' } }] } })).toEqual({
      complement: true,
      set: { type: 'union', sets: [inAlpha, inBeta] },
    });
  });

  it('carries kind and window into the scope, and `any` as no kind', () => {
    const since = '2025-01-01T00:00:00+01:00';
    const until = '2025-02-01T00:00:00Z';
    expect(compile({ issuedFromGroup: { group: 'Alpha', kind: 'initial', since, until } }).set).toEqual({
      type: 'issued',
      scope: { groupId: '1', kind: 'initial', since, until },
    });
    expect(compile({ issuedFromGroup: { group: 'Alpha', kind: 'any' } }).set).toEqual(inAlpha);
  });

  it('agrees with the plain evaluator on random filters and data', () => {
    const groups = [
      { id: '1', name: 'Alpha' },
      { id: '2', name: 'Beta' },
      { id: '3', name: 'Gone', deleted: true },
    ];
    const instants = ['2025-01-01T00:00:00Z', '2025-01-02T00:00:00Z', '2025-01-03T00:00:00Z', '2025-01-03T01:00:00+01:00'];
    const data = fc.integer({ min: 0, max: 8 }).chain((size) => {
      const customers = Array.from({ length: size }, (_, i) => `c${i}`);
      const issuance = issuanceArbitrary(customers.length > 0 ? customers : ['c0'], ['1', '2', '3'], instants);
      return fc.array(issuance, { maxLength: customers.length > 0 ? 20 : 0 }).map((issuances): SegmentData => ({ customers, groups, issuances }));
    });
    fc.assert(
      fc.property(filterArbitrary(['Alpha', 'Beta', ' beta '], instants), data, (raw, data) => {
        const filter = parseSegmentFilter(raw);
        const groupIds = new Map(groupReferences(filter).map((ref) => [ref.name, ref.name.trim().toLowerCase() === 'alpha' ? '1' : '2']));
        expect(evaluateSegment(compileSegment(filter, groupIds), data)).toEqual(evaluateFilter(filter, data));
      }),
      { numRuns: 500 },
    );
  });
});

/** The compiled form, evaluated directly: checks the algebra independently of SQL. */
function evaluateSegment(segment: Segment, data: SegmentData): string[] {
  const inScope = (type: 'issued' | 'redeemed', scope: IssuanceScope) =>
    data.issuances.filter((i) => {
      if (type === 'redeemed' && i.redeemedAt === undefined) return false;
      const at = Date.parse(type === 'redeemed' ? i.redeemedAt! : i.issuedAt);
      return (scope.groupId === undefined || i.groupId === scope.groupId) && (scope.kind === undefined || i.kind === scope.kind)
        && (scope.since === undefined || at >= Date.parse(scope.since)) && (scope.until === undefined || at < Date.parse(scope.until))
        && (scope.redeemed === undefined || scope.redeemed === (i.redeemedAt !== undefined));
    });
  const members = (set: CustomerSet): Set<string> => {
    switch (set.type) {
      case 'issued':
      case 'redeemed': {
        const counts = new Map<string, number>();
        for (const i of inScope(set.type, set.scope)) counts.set(i.customerId, (counts.get(i.customerId) ?? 0) + 1);
        const { count } = set;
        return new Set([...counts].filter(([, n]) => !count || (count.op === 'eq' ? n === count.value : n >= count.value)).map(([id]) => id));
      }
      case 'union':
        return new Set(set.sets.flatMap((item) => [...members(item)]));
      case 'all': {
        const included = set.sets.map(members);
        const excluded = set.except.map(members);
        return new Set([...included[0]!].filter((id) => included.every((s) => s.has(id)) && !excluded.some((s) => s.has(id))));
      }
    }
  };
  const set = segment.set === null ? new Set<string>() : members(segment.set);
  const result = segment.complement ? data.customers.filter((id) => !set.has(id)) : [...set];
  return result.sort(byCodePoint);
}


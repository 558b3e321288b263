import fc from 'fast-check';
import { COUNT_OPS, type CountOp, type IssuanceWindow, KIND_FILTERS, type SegmentFilter } from '../../src/domain/segment.js';

/** A plain in-memory answer to segment filters: the oracle the SQL is tested against. */
export interface SegmentData {
  customers: string[];
  /** live and deleted groups; only live ones can be named in a filter */
  groups: { id: string; name: string; deleted?: boolean }[];
  /** each issuance with a code of its own, redeemed at `redeemedAt` if given */
  issuances: { customerId: string; groupId: string; kind: 'initial' | 'repeat'; issuedAt: string; redeemedAt?: string }[];
}

const nameKey = (name: string) => name.trim().toLowerCase();

/** The ids of the customers the filter matches, sorted. */
export function evaluateFilter(filter: SegmentFilter, data: SegmentData): string[] {
  const groupId = (name: string) => {
    const group = data.groups.find((g) => !g.deleted && nameKey(g.name) === nameKey(name));
    if (!group) throw new Error(`no group named ${name}`);
    return group.id;
  };
  /** issuances (or, with `redeemedOnly`, redeemed codes, timed by their redemption) of the customer in the window */
  const count = (customerId: string, window: IssuanceWindow & { redeemed?: boolean }, redeemedOnly = false) => {
    const group = window.group === undefined ? undefined : groupId(window.group);
    const since = window.since === undefined ? -Infinity : Date.parse(window.since);
    const until = window.until === undefined ? Infinity : Date.parse(window.until);
    return data.issuances.filter((i) => {
      if (redeemedOnly && i.redeemedAt === undefined) return false;
      const at = Date.parse(redeemedOnly ? i.redeemedAt! : i.issuedAt);
      return i.customerId === customerId && (group === undefined || i.groupId === group)
        && (window.kind === undefined || window.kind === 'any' || i.kind === window.kind) && since <= at && at < until
        && (window.redeemed === undefined || window.redeemed === (i.redeemedAt !== undefined));
    }).length;
  };
  const compare = (n: number, op: CountOp, v: number): boolean => {
    switch (op) {
      case 'eq': return n === v;
      case 'ne': return n !== v;
      case 'gt': return n > v;
      case 'gte': return n >= v;
      case 'lt': return n < v;
      case 'lte': return n <= v;
    }
  };
  const matches = (node: SegmentFilter, customerId: string): boolean => {
    if ('and' in node) return node.and.every((item) => matches(item, customerId));
    if ('or' in node) return node.or.some((item) => matches(item, customerId));
    if ('not' in node) return !matches(node.not, customerId);
    if ('issuedFromGroup' in node) return count(customerId, node.issuedFromGroup) > 0;
    if ('redeemedCount' in node) return compare(count(customerId, node.redeemedCount, true), node.redeemedCount.op, node.redeemedCount.value);
    return compare(count(customerId, node.issuedCount), node.issuedCount.op, node.issuedCount.value);
  };
  return data.customers.filter((id) => matches(filter, id)).sort(byCodePoint);
}

/** One issuance of a random history: its code redeemed, at one of the instants, about a third of the time. */
export function issuanceArbitrary(customers: readonly string[], groupIds: readonly string[], instants: readonly string[]): fc.Arbitrary<SegmentData['issuances'][number]> {
  return fc
    .record({
      customerId: fc.constantFrom(...customers),
      groupId: fc.constantFrom(...groupIds),
      kind: fc.constantFrom('initial' as const, 'repeat' as const),
      issuedAt: fc.constantFrom(...instants),
      redeemedAt: fc.option(fc.constantFrom(...instants), { nil: undefined, freq: 2 }),
    })
    .map(({ redeemedAt, ...issuance }) => ({ ...issuance, ...(redeemedAt !== undefined && { redeemedAt }) }));
}

export const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Random filter trees (at most 3 levels of and/or/not with up to 3 items, so within the limits)
 * over the given group names and instants.
 */
export function filterArbitrary(groupNames: readonly string[], instants: readonly string[]): fc.Arbitrary<SegmentFilter> {
  // each optional field present about half the time
  const maybe = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined, freq: 2 });
  const window = fc
    .record({
      group: maybe(fc.constantFrom(...groupNames)),
      kind: maybe(fc.constantFrom(...KIND_FILTERS)),
      since: maybe(fc.constantFrom(...instants)),
      until: maybe(fc.constantFrom(...instants)),
    })
    .map((fields) => Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as IssuanceWindow);
  const issuedCount = fc
    .record({ op: fc.constantFrom(...COUNT_OPS), value: fc.integer({ min: 0, max: 4 }), window })
    .map(({ op, value, window }) => ({ issuedCount: { op, value, ...window } }));
  const issuedFromGroup = fc
    .record({ group: fc.constantFrom(...groupNames), window, redeemed: maybe(fc.boolean()) })
    .map(({ group, window, redeemed }) => ({ issuedFromGroup: { ...window, group, ...(redeemed !== undefined && { redeemed }) } }));
  const redeemedCount = fc
    .record({ op: fc.constantFrom(...COUNT_OPS), value: fc.integer({ min: 0, max: 3 }), window })
    .map(({ op, value, window: { kind: _kind, ...window } }) => ({ redeemedCount: { op, value, ...window } }));
  const { node } = fc.letrec<{ node: SegmentFilter }>((tie) => ({
    node: fc.oneof(
      { maxDepth: 3, depthIdentifier: 'filter' },
      issuedCount,
      issuedFromGroup,
      redeemedCount,
      fc.array(tie('node'), { minLength: 1, maxLength: 3 }).map((and) => ({ and })),
      fc.array(tie('node'), { minLength: 1, maxLength: 3 }).map((or) => ({ or })),
      tie('node').map((not) => ({ not })),
    ),
  }));
  return node;
}

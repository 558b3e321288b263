// zod as the OpenAPI extension leaves it: a schema built before the extension is loaded lacks
// `.openapi()`, and a worker loads this module before any API code
import { z } from '@hono/zod-openapi';
import { type FieldError, ValidationError } from './errors.js';
import { trimmedText } from './trimmed-text.js';

/*
 * Segment filters: which customers to pick by their promo code history.
 *
 * A filter is a tree (see API.md, "Segment builder"). This module validates it, with error
 * paths such as `filter.and[1].issuedCount.op`, and compiles it into a small set algebra over
 * customers (`Segment`) that src/db/segments.ts turns into parameterised SQL: one statement
 * for the count, one for the page.
 */

export const MAX_FILTER_DEPTH = 10;
export const MAX_FILTER_NODES = 100;

export const COUNT_OPS = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte'] as const;
export type CountOp = (typeof COUNT_OPS)[number];
export const ISSUANCE_KINDS = ['initial', 'repeat'] as const;
export type IssuanceKind = (typeof ISSUANCE_KINDS)[number];
export const KIND_FILTERS = [...ISSUANCE_KINDS, 'any'] as const;
export type KindFilter = (typeof KIND_FILTERS)[number];

/** Which issuances count: of one group (by name), of one kind, in [since, until). */
export interface IssuanceWindow {
  group?: string;
  kind?: KindFilter;
  since?: string;
  until?: string;
}

export interface IssuedCountFilter extends IssuanceWindow {
  op: CountOp;
  value: number;
}

export interface IssuedFromGroupFilter extends IssuanceWindow {
  group: string;
  /** only issuances whose code is (true) or is not (false) redeemed */
  redeemed?: boolean;
}

/** Codes the customer redeemed: of one group (by name), redeemed in [since, until). */
export interface RedeemedCountFilter {
  op: CountOp;
  value: number;
  group?: string;
  since?: string;
  until?: string;
}

export type SegmentFilter =
  | { and: SegmentFilter[] }
  | { or: SegmentFilter[] }
  | { not: SegmentFilter }
  | { issuedCount: IssuedCountFilter }
  | { issuedFromGroup: IssuedFromGroupFilter }
  | { redeemedCount: RedeemedCountFilter };

// ---------------------------------------------------------------------------------------
// Validation

const timestamp = z.iso
  .datetime({ offset: true, message: 'must be an ISO-8601 timestamp with a time zone offset, e.g. 2025-03-01T00:00:00Z' })
  .refine((value) => !value.startsWith('0000'), 'the year must be 0001 or later');

const groupName = trimmedText(200);

const windowFields = {
  kind: z.enum(KIND_FILTERS).optional(),
  since: timestamp.optional().describe('Issued at or after this instant (inclusive).'),
  until: timestamp.optional().describe('Issued before this instant (exclusive).'),
};

export const IssuedCountSchema = z
  .object({
    op: z.enum(COUNT_OPS),
    value: z.number().int('must be an integer').min(0, 'must not be negative'),
    group: groupName.optional(),
    ...windowFields,
  })
  .strict()
  .describe('Customers whose number of issued promo codes (of the group / kind / window, if given) compares so; lt, lte and eq 0 include customers with none.');

export const IssuedFromGroupSchema = z
  .object({
    group: groupName,
    ...windowFields,
    redeemed: z.boolean().optional().describe('Only issuances whose code is (true) or is not (false) redeemed: "got a code from the group and has / has not used it".'),
  })
  .strict()
  .describe('Customers who were issued a promo code from the group (of the kind / in the window / redeemed or not, if given).');

export const RedeemedCountSchema = z
  .object({
    op: z.enum(COUNT_OPS),
    value: z.number().int('must be an integer').min(0, 'must not be negative'),
    group: groupName.optional(),
    since: timestamp.optional().describe('Redeemed at or after this instant (inclusive).'),
    until: timestamp.optional().describe('Redeemed before this instant (exclusive).'),
  })
  .strict()
  .describe('Customers whose number of redeemed promo codes (of the group / redeemed in the window, if given) compares so; lt, lte and eq 0 include customers with none. A redemption taken back does not count.');

const NODE_KEYS = ['and', 'or', 'not', 'issuedCount', 'issuedFromGroup', 'redeemedCount'] as const;

/**
 * One node of the filter tree: an object with exactly one of the keys `and`, `or`, `not`,
 * `issuedCount`, `issuedFromGroup` — one strict object rather than a union, so that an error
 * points into the branch that was meant. (The refinement makes the object one of the
 * SegmentFilter variants, hence the cast.) No limits on size: see SegmentFilterSchema.
 */
export const SegmentFilterNodeSchema: z.ZodType<SegmentFilter> = z.lazy(
  () =>
    z
      .object({
        and: z.array(SegmentFilterNodeSchema).min(1, 'must hold at least one filter').optional(),
        or: z.array(SegmentFilterNodeSchema).min(1, 'must hold at least one filter').optional(),
        not: SegmentFilterNodeSchema.optional(),
        issuedCount: IssuedCountSchema.optional(),
        issuedFromGroup: IssuedFromGroupSchema.optional(),
        redeemedCount: RedeemedCountSchema.optional(),
      })
      .strict()
      .superRefine((node, ctx) => {
        const keys = NODE_KEYS.filter((key) => node[key] !== undefined);
        if (keys.length !== 1) {
          ctx.addIssue({
            code: 'custom',
            message: keys.length === 0 ? `must have one of ${NODE_KEYS.join(', ')}` : `must have only one of ${keys.join(', ')}`,
          });
        }
      })
      .describe(
        'A segment filter: exactly one of `and` (all of the filters), `or` (any of them), `not` (customers the filter does not match), ' +
          `\`issuedCount\`, \`issuedFromGroup\`, \`redeemedCount\`; at most ${MAX_FILTER_DEPTH} levels deep and ${MAX_FILTER_NODES} conditions in all.`,
      ) as unknown as z.ZodType<SegmentFilter>,
);

/**
 * The filter tree with its limits: depth and node count are checked on the raw input before
 * the tree is walked (so a deeply nested body costs nothing), each with the path it concerns.
 */
export const SegmentFilterSchema = z.preprocess((input, ctx) => {
  const tooBig = checkSize(input);
  if (tooBig) ctx.addIssue({ code: 'custom', ...tooBig, input });
  return input;
}, SegmentFilterNodeSchema);

/** `['and', 1, 'issuedCount', 'op']` under `filter` → `filter.and[1].issuedCount.op`. */
export function formatPath(root: string, path: readonly PropertyKey[]): string {
  let out = root;
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : out === '' ? String(key) : `.${String(key)}`;
  return out || '(body)';
}

/**
 * zod issues → field errors with bracketed paths under `root`; an unknown key is reported
 * at its own path (`filter.issuedCount.colour: unknown field`).
 */
export function fieldErrors(issues: readonly z.core.$ZodIssue[], root = ''): FieldError[] {
  return issues.flatMap((issue): FieldError[] =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ path: formatPath(root, [...issue.path, key]), message: 'unknown field' }))
      : [{ path: formatPath(root, issue.path), message: issue.message }],
  );
}

/** Validates a filter; anything wrong is a ValidationError naming each bad field, e.g. `filter.and[1].issuedCount.op`. */
export function parseSegmentFilter(input: unknown, root = 'filter'): SegmentFilter {
  const result = SegmentFilterSchema.safeParse(input);
  if (result.success) return result.data;
  const errors = fieldErrors(result.error.issues, root);
  throw new ValidationError(`The filter is invalid: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, errors);
}

/** The first limit the raw input breaks, if any. The root is at depth 1. */
function checkSize(input: unknown): { path: (string | number)[]; message: string } | undefined {
  let nodes = 0;
  const visit = (node: unknown, path: (string | number)[], depth: number): { path: (string | number)[]; message: string } | undefined => {
    nodes += 1;
    if (nodes > MAX_FILTER_NODES) return { path: [], message: `a filter has at most ${MAX_FILTER_NODES} conditions (and, or, not and leaves together)` };
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return undefined;
    if (depth > MAX_FILTER_DEPTH) return { path, message: `filters nest at most ${MAX_FILTER_DEPTH} levels deep` };
    const record = node as Record<string, unknown>;
    for (const key of ['and', 'or'] as const) {
      const items = record[key];
      if (!Array.isArray(items)) continue;
      for (let i = 0; i < items.length; i += 1) {
        const error = visit(items[i], [...path, key, i], depth + 1);
        if (error) return error;
      }
    }
    return record.not === undefined ? undefined : visit(record.not, [...path, 'not'], depth + 1);
  };
  return visit(input, [], 1);
}

// ---------------------------------------------------------------------------------------
// Group references

export interface GroupReference {
  /** where the name appears, e.g. `filter.or[0].issuedFromGroup.group` */
  path: string;
  name: string;
}

/** Every group name the filter mentions, in document order, with its path. */
export function groupReferences(filter: SegmentFilter, root = 'filter'): GroupReference[] {
  const found: GroupReference[] = [];
  const visit = (node: SegmentFilter, path: string) => {
    if ('and' in node) node.and.forEach((item, i) => visit(item, `${path}.and[${i}]`));
    else if ('or' in node) node.or.forEach((item, i) => visit(item, `${path}.or[${i}]`));
    else if ('not' in node) visit(node.not, `${path}.not`);
    else if ('issuedCount' in node) {
      if (node.issuedCount.group !== undefined) found.push({ path: `${path}.issuedCount.group`, name: node.issuedCount.group });
    } else if ('redeemedCount' in node) {
      if (node.redeemedCount.group !== undefined) found.push({ path: `${path}.redeemedCount.group`, name: node.redeemedCount.group });
    } else found.push({ path: `${path}.issuedFromGroup.group`, name: node.issuedFromGroup.group });
  };
  visit(filter, root);
  return found;
}

// ---------------------------------------------------------------------------------------
// Compilation: filter tree → set algebra over customers

/**
 * Which rows a leaf looks at: issuances (of a group, a kind, in [since, until), whose code is or
 * is not redeemed), or redeemed codes (of a group, redeemed in [since, until)).
 */
export interface IssuanceScope {
  groupId?: string;
  kind?: IssuanceKind;
  since?: string;
  until?: string;
  redeemed?: boolean;
}

/** `issued`: a customer's issuances; `redeemed`: the codes a customer redeemed. */
export type LeafSource = 'issued' | 'redeemed';

/**
 * A set of customers that all have at least one issuance (so it never needs the customer
 * table): `issued` — the customers with issuances in a scope, at least one of them, or, with
 * `count`, at least / exactly n of them (n ≥ 2 / n ≥ 1); `union`; and `all` — the customers in
 * every one of `sets` and in none of `except`.
 */
export type CustomerSet =
  | { type: LeafSource; scope: IssuanceScope; count?: { op: 'gte' | 'eq'; value: number } }
  | { type: 'union'; sets: CustomerSet[] }
  | { type: 'all'; sets: CustomerSet[]; except: CustomerSet[] };

/**
 * The customers a filter matches: `set` (null = nobody), or, when `complement` is true,
 * every known customer except `set`. Negation only ever appears here, at the top.
 */
export interface Segment {
  complement: boolean;
  set: CustomerSet | null;
}

const EVERYBODY: Segment = { complement: true, set: null };

/**
 * Compiles a validated filter. `groupIds` maps each group name the filter uses (as written)
 * to the id of the group; resolve them first with `groupReferences`.
 */
export function compileSegment(filter: SegmentFilter, groupIds: ReadonlyMap<string, string>): Segment {
  const scopeOf = (window: IssuanceWindow): IssuanceScope => {
    const scope: IssuanceScope = {};
    if (window.group !== undefined) {
      const id = groupIds.get(window.group);
      if (id === undefined) throw new Error(`group "${window.group}" was not resolved`);
      scope.groupId = id;
    }
    if (window.kind !== undefined && window.kind !== 'any') scope.kind = window.kind;
    if (window.since !== undefined) scope.since = window.since;
    if (window.until !== undefined) scope.until = window.until;
    return scope;
  };
  const visit = (node: SegmentFilter): Segment => {
    if ('and' in node) return and(node.and.map(visit));
    if ('or' in node) return or(node.or.map(visit));
    if ('not' in node) return not(visit(node.not));
    if ('issuedFromGroup' in node) {
      const { redeemed } = node.issuedFromGroup;
      return countAtLeast('issued', { ...scopeOf(node.issuedFromGroup), ...(redeemed !== undefined && { redeemed }) }, 1);
    }
    if ('redeemedCount' in node) return compare('redeemed', scopeOf(node.redeemedCount), node.redeemedCount);
    return compare('issued', scopeOf(node.issuedCount), node.issuedCount);
  };
  return visit(filter);
}

/** The customers whose count of `source` rows in `scope` compares with `value` so. */
function compare(source: LeafSource, scope: IssuanceScope, { op, value }: { op: CountOp; value: number }): Segment {
  switch (op) {
    case 'gte': return countAtLeast(source, scope, value);
    case 'gt': return countAtLeast(source, scope, value + 1);
    case 'lt': return not(countAtLeast(source, scope, value));
    case 'lte': return not(countAtLeast(source, scope, value + 1));
    case 'eq': return value === 0 ? not(countAtLeast(source, scope, 1)) : countExactly(source, scope, value);
    case 'ne': return value === 0 ? countAtLeast(source, scope, 1) : not(countExactly(source, scope, value));
  }
}

function countAtLeast(type: LeafSource, scope: IssuanceScope, n: number): Segment {
  if (n <= 0) return EVERYBODY;
  return { complement: false, set: n === 1 ? { type, scope } : { type, scope, count: { op: 'gte', value: n } } };
}

function countExactly(type: LeafSource, scope: IssuanceScope, n: number): Segment {
  return { complement: false, set: { type, scope, count: { op: 'eq', value: n } } };
}

function not(segment: Segment): Segment {
  return { complement: !segment.complement, set: segment.set };
}

function and(items: Segment[]): Segment {
  const included = items.filter((item) => !item.complement).map((item) => item.set);
  const excluded = items.filter((item) => item.complement).map((item) => item.set);
  // A ∩ B ∩ ¬C ∩ ¬D = (A ∩ B) − C − D;   ¬C ∩ ¬D = ¬(C ∪ D)
  if (included.length > 0) return { complement: false, set: minus(intersect(included), excluded) };
  return { complement: true, set: union(excluded) };
}

function or(items: Segment[]): Segment {
  const included = items.filter((item) => !item.complement).map((item) => item.set);
  const excluded = items.filter((item) => item.complement).map((item) => item.set);
  // A ∪ B = A ∪ B;   A ∪ ¬C ∪ ¬D = ¬((C ∩ D) − A)
  if (excluded.length === 0) return { complement: false, set: union(included) };
  return { complement: true, set: minus(intersect(excluded), included) };
}

// (A − X) ∩ (B − Y) = (A ∩ B) − X − Y: intersections and differences flatten into one `all`.
function intersect(sets: (CustomerSet | null)[]): CustomerSet | null {
  if (sets.some((set) => set === null)) return null;
  const included: CustomerSet[] = [];
  const excluded: CustomerSet[] = [];
  for (const set of sets as CustomerSet[]) {
    if (set.type === 'all') {
      included.push(...set.sets);
      excluded.push(...set.except);
    } else included.push(set);
  }
  return included.length === 1 && excluded.length === 0 ? included[0]! : { type: 'all', sets: included, except: excluded };
}

function union(sets: (CustomerSet | null)[]): CustomerSet | null {
  const flat = sets.filter((set) => set !== null).flatMap((set) => (set.type === 'union' ? set.sets : [set]));
  if (flat.length === 0) return null;
  return flat.length === 1 ? flat[0]! : { type: 'union', sets: flat };
}

// X − (A ∪ B) = X − A − B
function minus(from: CustomerSet | null, sets: (CustomerSet | null)[]): CustomerSet | null {
  if (from === null) return null;
  const removed = sets.filter((set) => set !== null).flatMap((set) => (set.type === 'union' ? set.sets : [set]));
  if (removed.length === 0) return from;
  if (from.type === 'all') return { type: 'all', sets: from.sets, except: [...from.except, ...removed] };
  return { type: 'all', sets: [from], except: removed };
}

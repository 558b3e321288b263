import type postgres from 'postgres';
import { z } from 'zod';
import { ValidationError } from '../domain/errors.js';
import { decodeCursor, DEFAULT_PAGE_SIZE, toPage } from '../domain/pagination.js';
import {
  compileSegment,
  type CustomerSet,
  type GroupReference,
  groupReferences,
  type IssuanceScope,
  type Segment,
  type SegmentFilter,
} from '../domain/segment.js';
import type { Sql } from './client.js';
import { groupNameKey } from '../domain/group-name.js';

export interface SegmentPage {
  count: number;
  customerIds: string[];
  nextCursor: string | null;
}

const segmentCursor = z.string().min(1);

/**
 * The customers a validated filter matches: how many, and one page of their ids in id order.
 * Group names resolve among live groups (by groupNameKey: trimmed, case-folded); an unknown name is a
 * ValidationError naming where the filter uses it.
 */
export async function querySegment(
  sql: Sql,
  filter: SegmentFilter,
  options: { limit?: number | undefined; cursor?: string | undefined } = {},
): Promise<SegmentPage> {
  const limit = options.limit ?? DEFAULT_PAGE_SIZE;
  const afterId = decodeCursor(options.cursor, segmentCursor);
  return runSegment(sql, await resolveSegment(sql, filter), { limit, afterId });
}

/**
 * A validated filter compiled against today's groups; an unknown group name is a
 * ValidationError at its path under `root` (e.g. `audience.segment.or[0].issuedFromGroup.group`).
 */
export async function resolveSegment(sql: Sql, filter: SegmentFilter, root = 'filter'): Promise<Segment> {
  return compileSegment(filter, await resolveGroups(sql, groupReferences(filter, root)));
}

/** Group names → ids among live groups; every unknown name is reported with its path. */
export async function resolveGroups(sql: Sql, references: readonly GroupReference[]): Promise<Map<string, string>> {
  if (references.length === 0) return new Map();
  const names = [...new Set(references.map((reference) => reference.name))];
  // names compare by their key (src/domain/group-name.ts), computed here, never by SQL
  const rows = await sql<{ name: string; id: string | null }[]>`
    select n.name, g.id
      from unnest(${names}::text[], ${names.map(groupNameKey)}::text[]) as n (name, key)
      left join promo_group g on g.name_key = n.key and g.deleted_at is null`;
  const ids = new Map(rows.flatMap((row) => (row.id === null ? [] : [[row.name, row.id] as const])));
  const unknown = references.filter((reference) => !ids.has(reference.name));
  if (unknown.length > 0) {
    throw new ValidationError(
      `The filter names ${unknown.length === 1 ? 'a group that does not exist' : 'groups that do not exist'}: ${[...new Set(unknown.map((u) => `"${u.name}"`))].join(', ')}.`,
      unknown.map((reference) => ({ path: reference.path, message: `there is no promo code group named "${reference.name}"` })),
    );
  }
  return ids;
}

/**
 * Runs a compiled segment: the count and the page in one statement, so that they come from
 * the same snapshot and cost one round trip.
 */
export async function runSegment(sql: Sql, segment: Segment, options: { limit: number; afterId?: string | undefined }): Promise<SegmentPage> {
  if (!segment.complement && segment.set === null) return { count: 0, customerIds: [], nextCursor: null };
  const [row] = await sql<{ n: string; ids: string[] }[]>`
    select (${segmentCountQuery(sql, segment)}) as n,
           array(${segmentPageQuery(sql, segment, options.limit, options.afterId)}) as ids`;
  const page = toPage(row!.ids, options.limit, (id) => id, (id) => id);
  return { count: Number(row!.n), customerIds: page.items, nextCursor: page.nextCursor };
}

/** `select count(*) as n …`: how many customers the segment holds. */
export function segmentCountQuery(sql: Sql, segment: Segment): postgres.Fragment {
  const build = new SegmentSql(sql, undefined);
  if (!segment.complement) return segment.set === null ? sql`select 0::bigint as n` : sql`${build.count(segment.set)}`;
  if (segment.set === null) return sql`select count(*) as n from customer`;
  // Every customer of a set has issuances, and every writer of issuances makes its customers known first,
  // so the set lies inside customer: two plain counts, cheaper than an anti-join over both.
  return sql`select (select count(*) from customer) - (${build.count(segment.set)}) as n`;
}

/**
 * `select customer_id …` of the segment's customers after `afterId`, in id order,
 * `limit + 1` of them. ORDER BY and LIMIT sit at the same level as the grouping, so that
 * the planner can stop an ordered index scan early instead of grouping the whole set.
 */
export function segmentPageQuery(sql: Sql, segment: Segment, limit: number, afterId: string | undefined): postgres.Fragment {
  const build = new SegmentSql(sql, afterId);
  if (!segment.complement) {
    if (segment.set === null) return sql`select null::text as customer_id where false`;
    return sql`${build.rows(segment.set, true)} order by 1 limit ${limit + 1}`;
  }
  const conditions = [...(afterId === undefined ? [] : [sql`c.id > ${afterId}`]), ...outside(sql, build, segment, sql`c.id`)];
  return sql`select c.id as customer_id from customer c where ${all(sql, conditions)} order by c.id limit ${limit + 1}`;
}

/**
 * The condition that customer `ref` (a customer id column of the query it goes into) is in the
 * segment: what a statement over the customer table needs to take every customer of it at once.
 */
export function segmentContains(sql: Sql, segment: Segment, ref: postgres.Fragment): postgres.Fragment {
  const build = new SegmentSql(sql, undefined);
  if (!segment.complement) return segment.set === null ? sql`false` : sql`${ref} in (${build.rows(segment.set, true)})`;
  return all(sql, outside(sql, build, segment, ref));
}

/** The conditions on customer `ref` of a complement segment: not in A ∪ B is one anti-join each, rather than one over the union. */
function outside(sql: Sql, build: SegmentSql, segment: Segment, ref: postgres.Fragment): postgres.Fragment[] {
  const excluded = segment.set === null ? [] : segment.set.type === 'union' ? segment.set.sets : [segment.set];
  return excluded.map((set) => sql`not ${build.member(set, ref)}`);
}

function all(sql: Sql, conditions: postgres.Fragment[]): postgres.Fragment {
  return conditions.length === 0 ? sql`true` : conditions.reduce((left, right) => sql`${left} and ${right}`);
}

/**
 * Builds the SQL of customer sets (see CustomerSet) as postgres.js fragments; every value is
 * a bind parameter. Sets are driven from code_issuance, or, for a leaf over each customer's
 * whole history, from the per-customer counts (customer_issue_count) — never from the whole
 * customer table — and combined with semi-joins (`exists`), anti-joins (`not exists`) and unions.
 * With `afterId`, every scan of code_issuance starts after that customer (a set's members
 * after the cursor are exactly the members of its parts after the cursor), which is what
 * makes a later page of a big set cheap.
 */
class SegmentSql {
  private aliases = 0;

  constructor(
    private readonly sql: Sql,
    private readonly afterId: string | undefined,
  ) {}

  /** A fresh table alias, so that a correlated reference never binds to an inner alias. */
  alias(): postgres.Fragment {
    this.aliases += 1;
    return this.sql`${this.sql(`s${this.aliases}`)}`;
  }

  /** `select <alias>.customer_id …` of the set; with `distinct`, each customer once. */
  rows(set: CustomerSet, distinct: boolean): postgres.Fragment {
    const { sql } = this;
    switch (set.type) {
      case 'issued':
      case 'redeemed':
        return this.leaf(set, distinct);
      case 'union':
        // union drops duplicates itself, so its arms need not
        return set.sets
          .map((item) => sql`(${this.rows(item, false)})`)
          .reduce((left, right) => (distinct ? sql`${left} union ${right}` : sql`${left} union all ${right}`));
      case 'all': {
        const [driver, ...others] = drivingFirst(set.sets);
        const members = (ref: postgres.Fragment) => [
          ...others.map((item) => this.member(item, ref)),
          ...set.except.map((item) => sql`not ${this.member(item, ref)}`),
        ];
        // A leaf drives in place: the semi- and anti-joins filter its rows by customer, which
        // keeps whole customers, so its grouping and count stay right.
        if (isLeaf(driver!)) return this.leaf(driver, distinct, members);
        const d = this.alias();
        const ref = sql`${d}.customer_id`;
        return sql`select ${ref} from (${this.rows(driver!, distinct)}) ${d} where ${all(sql, members(ref))}`;
      }
    }
  }

  /**
   * `select count(…) as n` of the set. When a leaf drives it from an index in customer order
   * (a group's, or the per-customer one), `count(distinct …)` over the presorted rows beats
   * grouping first; a time window alone reads the time index, unordered, so there hashing the
   * groups wins.
   */
  count(set: CustomerSet): postgres.Fragment {
    const { sql } = this;
    const driver = set.type === 'all' ? drivingFirst(set.sets)[0] : set;
    const windowOnly = (scope: IssuanceScope) => scope.groupId === undefined && (scope.since !== undefined || scope.until !== undefined);
    const s = this.alias();
    if (driver?.type === 'issued' && !driver.count && !windowOnly(driver.scope) && !fromCounts(driver)) {
      return sql`select count(distinct ${s}.customer_id) as n from (${this.rows(set, false)}) ${s}`;
    }
    return sql`select count(*) as n from (${this.rows(set, true)}) ${s}`;
  }

  /** `exists (…)`: whether the customer `ref` belongs to the set; the planner makes it a semi-join. */
  member(set: CustomerSet, ref: postgres.Fragment): postgres.Fragment {
    const { sql } = this;
    if (isLeaf(set) && fromCounts(set)) {
      const k = this.alias();
      return sql`exists (select 1 from customer_issue_count ${k} where ${k}.customer_id = ${ref} and ${this.counted(set, k)})`;
    }
    if (isLeaf(set) && !set.count) {
      const a = this.alias();
      return sql`exists (select 1 from ${sql(TABLES[set.type])} ${a} where ${all(sql, [sql`${a}.customer_id = ${ref}`, ...this.conditions(set, a)])})`;
    }
    const m = this.alias();
    return sql`exists (select 1 from (${this.rows(set, false)}) ${m} where ${m}.customer_id = ${ref})`;
  }

  /** A leaf's customers: from its issuances, its redeemed codes, or the per-customer counts. */
  private leaf(set: Leaf, distinct: boolean, members: (ref: postgres.Fragment) => postgres.Fragment[] = () => []): postgres.Fragment {
    const { sql } = this;
    if (fromCounts(set)) {
      // one row per customer: no grouping
      const k = this.alias();
      const after = this.afterId === undefined ? [] : [sql`${k}.customer_id > ${this.afterId}`];
      return sql`select ${k}.customer_id from customer_issue_count ${k} where ${all(sql, [this.counted(set, k), ...after, ...members(sql`${k}.customer_id`)])}`;
    }
    const a = this.alias();
    const ref = sql`${a}.customer_id`;
    const grouping = set.count
      ? sql`group by ${ref} having count(*) ${set.count.op === 'eq' ? sql`=` : sql`>=`} ${set.count.value}::bigint`
      : distinct ? sql`group by ${ref}` : sql``;
    return sql`select ${ref} from ${sql(TABLES[set.type])} ${a} where ${all(sql, [...this.conditions(set, a), ...members(ref)])} ${grouping}`;
  }

  /** The condition on customer_issue_count row `k` (migration 017) of a leaf over the whole history. */
  private counted(set: Leaf, k: postgres.Fragment): postgres.Fragment {
    const { sql } = this;
    const column = sql`${k}.${sql(set.scope.kind === undefined ? 'issued' : `${set.scope.kind}_issued`)}`;
    if (set.count?.op === 'eq') return sql`${column} = ${set.count.value}::bigint`;
    return sql`${column} >= ${set.count?.value ?? 1}::bigint`;
  }

  /** The conditions on row `a` of the leaf's table (code_issuance, or promo_code for redeemed codes). */
  private conditions({ type, scope }: Leaf, a: postgres.Fragment): postgres.Fragment[] {
    const { sql } = this;
    // redeemed_at is set exactly when a code is redeemed
    const at = type === 'issued' ? sql`${a}.issued_at` : sql`${a}.redeemed_at`;
    const redeemed = (code: postgres.Fragment) => sql`exists (select 1 from promo_code p where p.id = ${code} and p.redeemed_at is not null)`;
    return [
      ...(type === 'redeemed' ? [sql`${a}.redeemed_at is not null`] : []),
      ...(scope.groupId === undefined ? [] : [sql`${a}.group_id = ${scope.groupId}::bigint`]),
      ...(scope.kind === undefined ? [] : [sql`${a}.kind = ${scope.kind}::issuance_kind`]),
      ...(scope.since === undefined ? [] : [sql`${at} >= ${scope.since}::timestamptz`]),
      ...(scope.until === undefined ? [] : [sql`${at} < ${scope.until}::timestamptz`]),
      ...(scope.redeemed === undefined ? [] : [scope.redeemed ? redeemed(sql`${a}.code_id`) : sql`not ${redeemed(sql`${a}.code_id`)}`]),
      ...(this.afterId === undefined ? [] : [sql`${a}.customer_id > ${this.afterId}`]),
    ];
  }
}

type Leaf = Extract<CustomerSet, { type: 'issued' | 'redeemed' }>;

const isLeaf = (set: CustomerSet): set is Leaf => set.type === 'issued' || set.type === 'redeemed';

/** The table of a leaf's rows: a customer's issuances, or the codes they redeemed. */
const TABLES: Record<Leaf['type'], string> = { issued: 'code_issuance', redeemed: 'promo_code' };

/** A leaf over each customer's whole issuance history, of any kind or one: answered by the per-customer counts. */
function fromCounts(set: Leaf): boolean {
  const { scope } = set;
  return set.type === 'issued' && scope.groupId === undefined && scope.since === undefined && scope.until === undefined && scope.redeemed === undefined;
}

/** Drives an intersection from its likely smallest part: one group's issuances first, then a time window. */
function drivingFirst(sets: CustomerSet[]): CustomerSet[] {
  const rank = (set: CustomerSet) =>
    !isLeaf(set) ? 3 : set.scope.groupId !== undefined ? 0 : set.scope.since !== undefined || set.scope.until !== undefined ? 1 : 2;
  return [...sets].sort((a, b) => rank(a) - rank(b));
}

import type { Sql } from './client.js';

/**
 * What the `promo-housekeeping` schedule keeps (API.md "Expiry and stock"), as statements that
 * are safe to repeat: a run that was missed, cut short or retried is caught up by the next one.
 */

/** Advisory lock class of housekeeping: its alerts and refills run one at a time. */
const HOUSEKEEPING_LOCK = 7_244_018;

/**
 * Runs `work` while holding housekeeping's lock (in a transaction of its own, which `work` does
 * not use): the schedule never overlaps its runs, but a run started by hand, or a retry of an
 * activity whose first attempt still runs, would otherwise send the same alert twice.
 */
export async function alone<T>(sql: Sql, work: () => Promise<T>): Promise<T> {
  return sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${HOUSEKEEPING_LOCK})`;
    return work();
  }) as Promise<T>;
}

/** Codes expired per statement: a large expiry is many short transactions, not one long one. */
const EXPIRY_BATCH = 10_000;

export interface ExpiryCounts {
  /** active and issued codes of groups past their expiresAt */
  ofExpiredGroups: number;
  /** issued codes past their group's validForDays */
  pastValidity: number;
}

/**
 * Expires every active and issued code of a live group past its `expiresAt`, and every issued
 * code past its group's `validForDays`. Blocked codes are left to their mailing: issued or
 * released, they expire on a later run. A code locked meanwhile (being redeemed) is left for the
 * next run too.
 */
export async function expireDueCodes(sql: Sql, batch = EXPIRY_BATCH): Promise<ExpiryCounts> {
  const ofExpiredGroups = await expireInBatches(sql, batch, (limit) => sql`
    select c.id from promo_group g
      join promo_code c on c.group_id = g.id and c.status in ('active', 'issued')
     where g.expires_at <= now() and g.deleted_at is null
     limit ${limit} for update of c skip locked`);
  const pastValidity = await expireInBatches(sql, batch, (limit) => sql`
    select c.id from promo_group g
      join promo_code c on c.group_id = g.id and c.status = 'issued' and c.issued_at <= now() - make_interval(days => g.valid_for_days)
     where g.valid_for_days is not null and g.deleted_at is null
     limit ${limit} for update of c skip locked`);
  return { ofExpiredGroups, pastValidity };
}

async function expireInBatches(sql: Sql, batch: number, due: (limit: number) => ReturnType<Sql>): Promise<number> {
  let expired = 0;
  for (;;) {
    const { count } = await sql`update promo_code set status = 'expired' where id in (${due(batch)})`;
    expired += count;
    if (count < batch) return expired;
  }
}

export interface StockAlert {
  groupId: string;
  groupName: string;
  active: number;
  threshold: number;
  /** how many alerts the group had before this one: the alert's idempotency key */
  sequence: number;
}

/**
 * The live groups whose active codes are below their threshold and that have not been alerted
 * since they crossed it; first, groups back at or above their threshold are made ready for their
 * next crossing.
 */
export async function lowStockToAlert(sql: Sql): Promise<StockAlert[]> {
  await rearm(sql, LOW_STOCK);
  const rows = await sql<{ groupId: string; groupName: string; active: string; threshold: string; sequence: number }[]>`
    select g.id as group_id, g.name as group_name, coalesce(c.active, 0) as active, g.low_stock_threshold as threshold, g.alerts_sent as sequence
      from promo_group g left join promo_group_counts c on c.group_id = g.id
     where g.deleted_at is null and g.low_stock_threshold is not null and not g.low_stock_alerted
       and coalesce(c.active, 0) < g.low_stock_threshold
     order by g.id`;
  return rows.map((row) => ({ ...row, active: Number(row.active), threshold: Number(row.threshold) }));
}

/** An alert sent once per crossing of a line: the group's flag, set once it went out, and its line. */
interface Crossing {
  flag: 'low_stock_alerted' | 'refill_exhausted_alerted';
  line: 'low_stock_threshold' | 'auto_refill_below';
}

export const LOW_STOCK: Crossing = { flag: 'low_stock_alerted', line: 'low_stock_threshold' };
export const REFILL_EXHAUSTED: Crossing = { flag: 'refill_exhausted_alerted', line: 'auto_refill_below' };

/** Makes the groups back at or above their line (or without one now) ready to alert on their next crossing. */
async function rearm(sql: Sql, { flag, line }: Crossing): Promise<void> {
  await sql`
    update promo_group g set ${sql(flag)} = false
      from promo_group_counts c
     where c.group_id = g.id and g.${sql(flag)} and (g.${sql(line)} is null or c.active >= g.${sql(line)})`;
}

/** Records that a group's alert went out: none of its kind again until the group is back above the line. */
export async function markAlerted(sql: Sql, groupId: string, { flag }: Crossing): Promise<void> {
  await sql`update promo_group set ${sql(flag)} = true, alerts_sent = alerts_sent + 1 where id = ${groupId}`;
}

export interface RefillNeed {
  groupId: string;
  active: number;
  below: number;
  upTo: number;
  /** an alert that the format can make no more codes went out since the group fell below `below` */
  exhaustedAlerted: boolean;
  /** how many alerts the group had so far: the next one's idempotency key */
  sequence: number;
}

/**
 * The live, unexpired groups with an auto-refill whose active codes are below `below` and that
 * have no refill running; first, groups back at or above `below` are made ready for their next
 * exhausted-keyspace alert.
 */
export async function refillsDue(sql: Sql): Promise<RefillNeed[]> {
  await rearm(sql, REFILL_EXHAUSTED);
  const rows = await sql<{ groupId: string; active: string; below: string; upTo: string; exhaustedAlerted: boolean; sequence: number }[]>`
    select g.id as group_id, coalesce(c.active, 0) as active, g.auto_refill_below as below, g.auto_refill_up_to as up_to,
           g.refill_exhausted_alerted as exhausted_alerted, g.alerts_sent as sequence
      from promo_group g left join promo_group_counts c on c.group_id = g.id
     where g.deleted_at is null and g.auto_refill_below is not null and coalesce(g.expires_at > now(), true)
       and coalesce(c.active, 0) < g.auto_refill_below
       and not exists (select 1 from job j where j.group_id = g.id and j.reason = 'autoRefill' and j.status = 'running')
     order by g.id`;
  return rows.map((row) => ({ ...row, active: Number(row.active), below: Number(row.below), upTo: Number(row.upTo) }));
}

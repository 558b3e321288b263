import type { Sql } from '../db/client.js';

export const CODE_STATUSES = ['active', 'blocked', 'issued', 'redeemed', 'expired'] as const;
export const JOB_STATUSES = ['running', 'completed', 'failed', 'cancelled'] as const;
export const MAILING_STATUSES = ['draft', 'reserving', 'sending', 'completed', 'failed', 'cancelled'] as const;
export const RECIPIENT_OUTCOMES = ['sent', 'failed', 'unknown'] as const;

type CodeStatus = (typeof CODE_STATUSES)[number];
type RecipientOutcome = (typeof RECIPIENT_OUTCOMES)[number];

export interface GroupState extends Record<CodeStatus, number> {
  id: string;
  name: string;
  lowStockThreshold: number | null;
}

/** The service's state as the metrics show it, read from the counters at one scrape. */
export interface ServiceState {
  groups: GroupState[];
  jobs: Map<string, number>;
  mailings: Map<string, number>;
  recipients: Record<RecipientOutcome, number>;
}

export async function readServiceState(sql: Sql): Promise<ServiceState> {
  const [groups, statuses, [recipients]] = await Promise.all([
    // live groups with their counter slots summed, as withCounts (src/db/groups.ts) reads them
    sql<GroupState[]>`
      select g.id, g.name, g.low_stock_threshold,
             coalesce(sum(c.active), 0)::float8 as active, coalesce(sum(c.blocked), 0)::float8 as blocked,
             coalesce(sum(c.issued), 0)::float8 as issued, coalesce(sum(c.redeemed), 0)::float8 as redeemed,
             coalesce(sum(c.expired), 0)::float8 as expired
        from promo_group g left join promo_group_counter c on c.group_id = g.id
       where g.deleted_at is null
       group by g.id`,
    sql<{ kind: 'job' | 'mailing'; status: string; count: number }[]>`
      select 'job' as kind, status::text, count(*)::float8 as count from job group by status
      union all
      select 'mailing', status::text, count(*)::float8 from mailing group by status`,
    sql<Record<RecipientOutcome, number>[]>`
      select coalesce(sum(sent), 0)::float8 as sent, coalesce(sum(failed), 0)::float8 as failed, coalesce(sum(unknown), 0)::float8 as unknown
        from mailing_counter`,
  ]);
  const byKind = (kind: 'job' | 'mailing') => new Map(statuses.filter((row) => row.kind === kind).map((row) => [row.status, row.count]));
  return {
    groups: groups.map((group) => ({ ...group, lowStockThreshold: group.lowStockThreshold === null ? null : Number(group.lowStockThreshold) })),
    jobs: byKind('job'),
    mailings: byKind('mailing'),
    recipients: recipients!,
  };
}

export const isLowStock = (group: GroupState) => group.lowStockThreshold !== null && group.active < group.lowStockThreshold;

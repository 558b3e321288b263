import postgres from 'postgres';

export type Sql = postgres.Sql;
export type TransactionSql = postgres.TransactionSql;

export function createSql(url: string, options: { max?: number; onnotice?: (notice: postgres.Notice) => void } = {}): Sql {
  return postgres(url, {
    max: options.max ?? 10,
    onnotice: options.onnotice ?? (() => {}),
    // batches pass their rows as arrays (unnest): a generic plan would guess 10 rows and pick
    // nested loops that scan a whole mailing per row; custom plans see the real array lengths
    connection: { plan_cache_mode: 'force_custom_plan' },
    // column names only: JSON values (customer attributes) keep their keys as given
    transform: { column: { from: postgres.toCamel, to: postgres.fromCamel }, undefined: null },
  });
}

import type { Sql } from '../db/client.js';
import { NotFoundError } from '../domain/errors.js';
import { groupNameKey } from '../domain/group-name.js';

/** The id of the live group with this name (compared by groupNameKey, as everywhere). */
export async function groupIdByName(sql: Sql, name: string): Promise<string> {
  const [group] = await sql<{ id: string }[]>`
    select id from promo_group where name_key = ${groupNameKey(name)} and deleted_at is null`;
  if (!group) throw new NotFoundError(`There is no promo code group named "${name}".`);
  return group.id;
}

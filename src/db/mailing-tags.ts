import { checkTemplate, groupKey, type TemplateSource } from '../domain/template.js';
import type { Sql } from './client.js';

/** The names the template gives its groups, and the ids of those that exist: what operators search a mailing's workflow by. */
export async function mailingGroupTags(sql: Sql, template: TemplateSource): Promise<string[]> {
  const { groups } = checkTemplate(template);
  const names = [...groups.initial, ...groups.repeat];
  const rows = await sql<{ id: string }[]>`
    select id from promo_group where deleted_at is null and name_key = any(${names.map(groupKey)}::text[])`;
  return [...new Set([...names, ...rows.map((row) => row.id)])];
}

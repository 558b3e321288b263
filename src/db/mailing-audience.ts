import { ValidationError } from '../domain/errors.js';
import type { Segment } from '../domain/segment.js';
import type { Sql } from './client.js';
import { getMailingRecord, type MailingRefusal } from './mailings.js';
import { resolveSegment, segmentContains } from './segments.js';

/**
 * Makes the customers matching a mailing's audience its recipients, as the mailing starts: one
 * snapshot, taken by one statement inside the database, with each customer's stored email and
 * phone (their attributes are read when each message is rendered). Taken once: a repeated call
 * (a retried activity) finds it taken and adds nothing. A filter naming a group deleted since
 * the mailing was accepted refuses the mailing.
 */
export async function resolveAudience(sql: Sql, publicId: string): Promise<MailingRefusal | undefined> {
  const mailing = await getMailingRecord(sql, publicId);
  if (!mailing.audience || mailing.audienceResolvedAt || mailing.status !== 'reserving') return undefined;
  let segment: Segment;
  try {
    segment = await resolveSegment(sql, mailing.audience.segment, 'audience.segment');
  } catch (error) {
    if (error instanceof ValidationError) return { code: 'unknown_group', detail: error.message };
    throw error;
  }
  await sql.begin(async (tx) => {
    const locked = await getMailingRecord(tx, publicId, true);
    if (locked.audienceResolvedAt || locked.status !== 'reserving') return;
    await tx`
      insert into mailing_recipient (mailing_id, seq, customer_id, email, phone)
      select ${locked.id}, row_number() over (order by c.id), c.id, c.email, c.phone
        from customer c
       where ${segmentContains(sql, segment, sql`c.id`)}`;
    await tx`update mailing set audience_resolved_at = now() where id = ${locked.id}`;
  });
  return undefined;
}

import { DEFAULT_PAGE_SIZE, type Page, toPage } from '../domain/pagination.js';
import type { Sql } from './client.js';

export interface SessionRecord {
  /** the SHA-256 (hex) of the cookie's token */
  id: string;
  publicId: string;
  createdAt: string;
  expiresAt: string;
  lastSeenAt: string;
  address: string | null;
  userAgent: string | null;
}

interface SessionRow {
  id: string;
  seq: string;
  publicId: string;
  createdAt: Date;
  expiresAt: Date;
  lastSeenAt: Date;
  address: string | null;
  userAgent: string | null;
}

const toRecord = (row: SessionRow): SessionRecord => ({
  id: row.id,
  publicId: row.publicId,
  createdAt: row.createdAt.toISOString(),
  expiresAt: row.expiresAt.toISOString(),
  lastSeenAt: row.lastSeenAt.toISOString(),
  address: row.address,
  userAgent: row.userAgent,
});

/** Records a new session; sessions ended more than a day ago are deleted on the way. */
export async function insertSession(
  sql: Sql,
  session: { id: string; publicId: string; tokensDigest: string; lifetimeSeconds: number; address: string | null; userAgent: string | null },
): Promise<void> {
  await sql`delete from operator_session where expires_at < now() - interval '1 day' or revoked_at < now() - interval '1 day'`;
  await sql`
    insert into operator_session (id, public_id, tokens_digest, expires_at, address, user_agent)
    values (${session.id}, ${session.publicId}, ${session.tokensDigest}, now() + make_interval(secs => ${session.lifetimeSeconds}),
            ${session.address}, ${session.userAgent})`;
}

/** The live session `id` (not revoked, not expired, of this token set); marks it seen when it was last seen over `touchAfterSeconds` ago. */
export async function readSession(sql: Sql, id: string, tokensDigest: string, touchAfterSeconds = 60): Promise<SessionRecord | undefined> {
  const [row] = await sql<(SessionRow & { stale: boolean })[]>`
    select *, last_seen_at < now() - make_interval(secs => ${touchAfterSeconds}) as stale
      from operator_session
     where id = ${id} and tokens_digest = ${tokensDigest} and revoked_at is null and expires_at > now()`;
  if (!row) return undefined;
  if (row.stale) await sql`update operator_session set last_seen_at = now() where id = ${id}`;
  return toRecord(row);
}

/** Live sessions of this token set, newest first. */
export async function listSessions(sql: Sql, tokensDigest: string, options: { limit?: number; beforeSeq?: string | undefined } = {}): Promise<Page<SessionRecord>> {
  const limit = options.limit ?? DEFAULT_PAGE_SIZE;
  const rows = await sql<SessionRow[]>`
    select * from operator_session
     where revoked_at is null and expires_at > now() and tokens_digest = ${tokensDigest}
       ${options.beforeSeq ? sql`and seq < ${options.beforeSeq}` : sql``}
     order by seq desc
     limit ${limit + 1}`;
  return toPage(rows, limit, toRecord, (row) => row.seq);
}

/** Revokes the session shown as `publicId`; false when there is none. Revoking twice is fine. */
export async function revokeSessionByPublicId(sql: Sql, publicId: string): Promise<boolean> {
  const rows = await sql`update operator_session set revoked_at = coalesce(revoked_at, now()) where public_id = ${publicId} returning 1`;
  return rows.length > 0;
}

/** Revokes the session `id` (sign-out). */
export async function revokeSession(sql: Sql, id: string): Promise<void> {
  await sql`update operator_session set revoked_at = coalesce(revoked_at, now()) where id = ${id}`;
}

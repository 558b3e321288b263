import { createHash, createHmac, randomBytes, scryptSync } from 'node:crypto';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { Sql } from '../db/client.js';
import { insertSession, listSessions, readSession, revokeSession, revokeSessionByPublicId, type SessionRecord } from '../db/sessions.js';
import type { Page } from '../domain/pagination.js';
import { tokenMatcher } from './tokens.js';

export const SESSION_COOKIE = 'promo_session';
/** The header client scripts send the CSRF token in. */
export const CSRF_HEADER = 'x-csrf-token';
export const SESSION_LIFETIME_SECONDS = 12 * 60 * 60;

export interface Session {
  /** the SHA-256 of the cookie's token: the row's key */
  id: string;
  /** what the API and the pages show */
  publicId: string;
  /** what forms and client `fetch` calls send back as `_csrf` / `x-csrf-token` */
  csrfToken: string;
}

/** What a handler behind the session check finds in `c.var`. */
export interface SessionEnv {
  Variables: { session: Session };
}

export interface SessionView extends Omit<SessionRecord, 'id'> {
  current: boolean;
}

export interface Sessions {
  /** starts a session for this client and sets its cookie */
  start(c: Context, address: string): Promise<void>;
  /** the request's live session, if its cookie names one */
  read(c: Context): Promise<Session | undefined>;
  /** revokes the request's session (every copy of its cookie stops working) and deletes the cookie */
  end(c: Context): Promise<void>;
  /** live sessions, newest first; `current` marks the request's own */
  list(c: Context, options: { limit: number; beforeSeq?: string | undefined }): Promise<Page<SessionView>>;
  /** false when no session has that public id */
  revoke(publicId: string): Promise<boolean>;
}

const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/; // 32 random bytes, base64url
const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * Sessions kept in the database (`operator_session`). The cookie holds a random token; the row
 * is keyed by its SHA-256. A session is read only while its row is neither revoked nor expired
 * and was started under the configured token set (`tokens_digest`, a slow hash of the sorted
 * tokens, so changing the tokens still ends every session). The CSRF token is an HMAC of the
 * session's id under a key derived from the tokens.
 */
export function createSessions(sql: Sql, apiTokens: readonly string[]): Sessions {
  const sorted = [...apiTokens].sort().join('\n');
  const csrfKey = createHash('sha256').update(`promo-codes operator session\n${sorted}`).digest();
  // stored with every session: slow to guess tokens from, should the table leak
  const tokensDigest = scryptSync(sorted, 'promo-codes operator session tokens', 32).toString('hex');
  const session = (record: SessionRecord): Session => ({
    id: record.id,
    publicId: record.publicId,
    csrfToken: createHmac('sha256', csrfKey).update(`csrf:${record.id}`).digest('base64url'),
  });
  const cookieId = (c: Context): string | undefined => {
    const token = getCookie(c, SESSION_COOKIE);
    return token && TOKEN_SHAPE.test(token) ? hashToken(token) : undefined;
  };
  return {
    start: async (c, address) => {
      const token = randomBytes(32).toString('base64url');
      await insertSession(sql, {
        id: hashToken(token),
        publicId: randomBytes(12).toString('base64url'),
        tokensDigest,
        lifetimeSeconds: SESSION_LIFETIME_SECONDS,
        address,
        userAgent: c.req.header('user-agent')?.slice(0, 512) ?? null,
      });
      setCookie(c, SESSION_COOKIE, token, { httpOnly: true, sameSite: 'Strict', path: '/', secure: isHttps(c), maxAge: SESSION_LIFETIME_SECONDS });
    },
    read: async (c) => {
      const id = cookieId(c);
      const record = id ? await readSession(sql, id, tokensDigest) : undefined;
      return record && session(record);
    },
    end: async (c) => {
      const id = cookieId(c);
      if (id) await revokeSession(sql, id);
      deleteCookie(c, SESSION_COOKIE, { path: '/' });
    },
    list: async (c, options) => {
      const current = cookieId(c);
      const page = await listSessions(sql, tokensDigest, options);
      return { ...page, items: page.items.map(({ id, ...record }) => ({ ...record, current: id === current })) };
    },
    revoke: (publicId) => revokeSessionByPublicId(sql, publicId),
  };
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Whether a request with the session may go on: a safe method, or the session's CSRF token presented. */
export function csrfSatisfied(session: Session, method: string, presented: string | undefined): boolean {
  return SAFE_METHODS.has(method) || (presented !== undefined && tokenMatcher([session.csrfToken])(presented));
}

// a TLS-terminating proxy says so in x-forwarded-proto; trusting it can only add the Secure flag
const isHttps = (c: Context) => new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';

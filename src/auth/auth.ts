import type { Context } from 'hono';
import type { Sql } from '../db/client.js';
import { clientAddress } from './address.js';
import { createSessions, type Sessions } from './sessions.js';
import { createThrottle, DEFAULT_THROTTLE, type Throttle } from './throttle.js';
import { tokenMatcher } from './tokens.js';

/** What authentication needs of the app's dependencies. */
export interface AuthDeps {
  sql: Sql;
  apiTokens: readonly string[];
  /** take the client's address from X-Forwarded-For (PROMO_TRUST_PROXY) */
  trustProxy?: boolean | undefined;
}

/** One app's authentication: shared by the API's middleware and the sign-in page, so both count failures together. */
export interface Auth {
  sessions: Sessions;
  isApiToken(presented: string): boolean;
  throttle: Throttle;
  address(c: Context): string;
}

const instances = new WeakMap<AuthDeps, Auth>();

/** The `Auth` of an app, made once per dependencies object (createApp hands the same one to every router). */
export function authFor(deps: AuthDeps): Auth {
  let auth = instances.get(deps);
  if (!auth) {
    auth = {
      sessions: createSessions(deps.sql, deps.apiTokens),
      isApiToken: tokenMatcher(deps.apiTokens),
      throttle: createThrottle(DEFAULT_THROTTLE),
      address: (c) => clientAddress(c, deps.trustProxy ?? false),
    };
    instances.set(deps, auth);
  }
  return auth;
}

-- Operator sessions (src/db/sessions.ts, src/auth/sessions.ts). The cookie carries a random
-- token; the row is keyed by its SHA-256, so a copy of this table signs nobody in. Signing out
-- or an operator's revoke sets revoked_at, which ends every copy of the cookie. `public_id` is
-- what the API and the pages show and revoke by. `tokens_digest` names the configured API token
-- set the session was started under: once the tokens change, its sessions are no longer read.
create table operator_session (
  id text primary key,
  seq bigint generated always as identity unique,
  public_id text not null unique,
  tokens_digest text not null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  last_seen_at timestamptz not null default now(),
  address text,
  user_agent text,
  revoked_at timestamptz
);
-- the listing: live sessions newest first
create index operator_session_live on operator_session (seq desc) where revoked_at is null;

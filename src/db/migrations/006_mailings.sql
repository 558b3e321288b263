create type mailing_status as enum ('draft', 'reserving', 'sending', 'completed', 'failed', 'cancelled');

create table mailing (
  id bigint generated always as identity primary key,
  -- the id clients see: theirs when they chose one (idempotent start), else generated
  public_id text not null unique,
  name text not null,
  channel jsonb not null,
  template jsonb not null,
  -- the groups the template names, resolved at reservation: [{ name, id, kind }]
  groups jsonb not null default '[]',
  status mailing_status not null default 'draft',
  error_code text,
  error_detail text,
  workflow_id text not null,
  created_at timestamptz not null default now(),
  finished_at timestamptz
);

create type recipient_status as enum ('pending', 'sent', 'failed');

create table mailing_recipient (
  mailing_id bigint not null references mailing (id),
  -- 1..n in arrival order: send batches are ranges of seq
  seq bigint not null,
  -- no foreign key: recipients are written only after their customers, and checking 100,000
  -- keys one by one costs a large mailing seconds
  customer_id text not null,
  email text,
  phone text,
  status recipient_status not null default 'pending',
  error text,
  primary key (mailing_id, seq),
  unique (mailing_id, customer_id)
);

create type mailing_code_state as enum ('reserved', 'issued', 'released');

-- Which code belongs to which recipient: reserved (blocked) before sending, then issued or released.
-- Repeat codes (last_promocode) are recorded here when their message is delivered.
-- Written in bulk by the reservation; no foreign keys, for the same reason as mailing_recipient.
create table mailing_code (
  mailing_id bigint not null,
  seq bigint not null,
  group_id bigint not null,
  kind issuance_kind not null,
  code_id bigint not null,
  state mailing_code_state not null default 'reserved',
  primary key (mailing_id, seq, group_id, kind)
);


-- direct issuance: the same key on the same group returns the same code
alter table code_issuance add column idempotency_key text;
create unique index code_issuance_idempotency on code_issuance (group_id, idempotency_key) where idempotency_key is not null;

create table customer (
  id text primary key,
  attributes jsonb not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create type issuance_kind as enum ('initial', 'repeat');

-- A customer's promo code history: one row each time a code reached them.
create table code_issuance (
  id bigint generated always as identity primary key,
  customer_id text not null references customer (id),
  group_id bigint not null references promo_group (id),
  code_id bigint not null references promo_code (id),
  kind issuance_kind not null,
  mailing_id bigint,
  issued_at timestamptz not null default now()
);

create index code_issuance_customer on code_issuance (customer_id, issued_at desc, id desc);
create index code_issuance_group_customer on code_issuance (group_id, customer_id, issued_at);

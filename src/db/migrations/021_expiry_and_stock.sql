-- Expiry and stock (API.md "Expiry and stock (v2)"): a group's expiry, its codes' validity, its
-- low-stock threshold and its auto-refill, all kept by the `promo-housekeeping` schedule.
alter table promo_group
  add column expires_at timestamptz,
  add column valid_for_days integer constraint promo_group_valid_for_days_positive check (valid_for_days > 0),
  add column low_stock_threshold bigint constraint promo_group_low_stock_threshold_positive check (low_stock_threshold > 0),
  add column auto_refill_below bigint,
  add column auto_refill_up_to bigint,
  add constraint promo_group_auto_refill check (
    (auto_refill_below is null and auto_refill_up_to is null)
    or (auto_refill_below > 0 and auto_refill_up_to >= auto_refill_below)),
  -- a refill generates from the group's format
  add constraint promo_group_auto_refill_format check (auto_refill_below is null or format is not null),
  -- one alert per crossing: set once the alert went out, cleared when the group is back above the line
  add column low_stock_alerted boolean not null default false,
  -- alerts about the group sent so far: the next one's idempotency key
  add column alerts_sent integer not null default 0,
  add column refill_exhausted_alerted boolean not null default false;

-- why a job runs: asked for through the API, or started by housekeeping to top a group up
alter table job add column reason text not null default 'request'
  constraint job_reason_known check (reason in ('request', 'autoRefill'));
-- at most one refill of a group at a time
create unique index job_one_auto_refill on job (group_id) where reason = 'autoRefill' and status = 'running';

-- housekeeping finds the issued codes past their group's validForDays by issue time
create index promo_code_issued_at on promo_code (group_id, issued_at) where status = 'issued';

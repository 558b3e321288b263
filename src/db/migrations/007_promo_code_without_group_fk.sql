-- Codes are written in bulk (generation, import: tens of thousands a statement) and a foreign key
-- checks every row on its own, which made those writes three times slower than COPY. Every write
-- of codes locks its live group row first (db/groups.ts lockGroup) and groups are never deleted,
-- only marked deleted, so the reference holds without the per-row check.
alter table promo_code drop constraint promo_code_group_id_fkey;

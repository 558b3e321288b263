-- Group names compare by one rule, computed in JavaScript only (src/domain/group-name.ts:
-- trimmed, NFC, case-folded without any locale) and stored here. Before, SQL compared
-- lower(btrim(name)), which depends on the server's locale, and JavaScript name.toLowerCase().
-- Collation "C": equality and the name order of the group list are byte comparisons, the same
-- on every server.
--
-- Rows stored before this migration get their key from the process that applies it
-- (backfillGroupNameKeys, right after migrating); until then they have none.
alter table promo_group add column name_key text collate "C";

drop index promo_group_name_key;
create unique index promo_group_name_key on promo_group (name_key) where deleted_at is null;

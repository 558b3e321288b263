-- History rows are written a batch at a time by mailings; checking their code and group one row
-- at a time cost a large mailing seconds. Codes that were issued are never deleted (a group's
-- delete removes only its active codes) and groups are only marked deleted, so both references
-- hold without the check. The reference to the customer stays: segments count on it.
alter table code_issuance drop constraint code_issuance_code_id_fkey;
alter table code_issuance drop constraint code_issuance_group_id_fkey;

-- A recipient row is written once and changed twice as its batch goes (claimed, then settled),
-- and a mailing code once (issued or released); neither change touches an indexed column. Full
-- pages (the default fillfactor 100) moved each new version to another page, with new entries
-- in every index; half-full pages keep it on its page without them (a HOT update). Measured on a
-- 100,000-recipient mailing (`npm run bench -- mailing`; pg_stat_statements, one pair of runs):
-- the claims 3.0 s -> 1.0 s of PostgreSQL time, the mailing codes' update 1.8 s -> 0.8 s, the
-- recipient insert 0.75 -> 0.86 s; 63 % of the recipient updates and all code updates HOT.
-- Sending 10.7 s -> 9.6 s (means of three runs and four). Pages written from now on keep the room.
alter table mailing_recipient set (fillfactor = 50);
alter table mailing_code set (fillfactor = 50);

-- Segment leaves over redemptions (`redeemedCount`, `issuedFromGroup.redeemed`): a customer's
-- redeemed codes, by redemption time, in one index range. redeemed_at is set exactly when a code
-- is redeemed (src/db/redemption.ts), and unlike the status it is no enum value added in 019.
create index promo_code_redeemed on promo_code (customer_id, redeemed_at) include (group_id) where redeemed_at is not null;

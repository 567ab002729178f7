-- After a webhook secret is rotated, Telegram may still deliver updates signed with the old
-- one until it has switched; the old secret is accepted for a grace period
-- (docs/connections.md).
ALTER TABLE connections ADD COLUMN previous_secret_enc TEXT;
ALTER TABLE connections ADD COLUMN secret_rotated_at BIGINT;

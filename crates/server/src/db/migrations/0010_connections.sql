-- Each workspace's bots (one per role) with their channels, and its Telegram user account
-- (docs/connections.md). Tokens, webhook secrets and MTProto sessions are stored encrypted
-- (auth/crypto.rs). A bot (its Telegram user id from getMe) belongs to one workspace only.
CREATE TABLE connections (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    bot_user_id BIGINT NOT NULL,
    bot_username TEXT,
    token_enc TEXT NOT NULL,
    token_fingerprint TEXT NOT NULL,
    webhook_secret_enc TEXT NOT NULL,
    vip_channel_id BIGINT,
    vip_channel_title TEXT,
    free_channel_id BIGINT,
    free_channel_title TEXT,
    checks_json TEXT NOT NULL,
    status TEXT NOT NULL,
    status_reason TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (tenant_id, role),
    UNIQUE (bot_user_id)
);

CREATE TABLE user_account_sessions (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    session_enc TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

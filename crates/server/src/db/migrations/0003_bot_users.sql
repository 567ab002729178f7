-- Telegram bot audience and usage: written by the coupon bot (every generation attempt), read by
-- broadcasts (audience) and analytics. Times are unix milliseconds.

-- One row per Telegram user who talked to a tenant's bot. `user_id` is Telegram's user id, which
-- is also the id of the private chat with the bot (where broadcasts are sent).
CREATE TABLE bot_users (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL,
    username TEXT,
    first_name TEXT,
    language_code TEXT,
    first_seen BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    -- Set when Telegram answers 403 (the user blocked the bot); cleared when the user writes again.
    blocked BOOLEAN NOT NULL DEFAULT FALSE,
    blocked_at BIGINT,
    PRIMARY KEY (tenant_id, user_id)
);

CREATE INDEX bot_users_audience ON bot_users (tenant_id, blocked, last_seen);

-- One row per generation attempt, successful or not.
CREATE TABLE bot_usage (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    -- Telegram user who asked (NULL for anonymous channel posts).
    user_id BIGINT,
    chat_id BIGINT NOT NULL,
    -- private | group | supergroup | channel
    chat_type TEXT NOT NULL,
    template_slug TEXT,
    variant TEXT,
    code TEXT,
    success BOOLEAN NOT NULL,
    -- Machine-readable failure reason (unknown_template, invalid_coupon, crm_unavailable,
    -- render_failed, send_failed, blocked, ...); NULL on success.
    reason TEXT,
    latency_ms BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE INDEX bot_usage_tenant_time ON bot_usage (tenant_id, created_at);

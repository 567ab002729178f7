-- Telegram bots and the coupon bot's durable state. Times are unix milliseconds.

-- One row per Telegram bot. The bot configured by TELEGRAM_BOT_TOKEN has id 'default' and
-- belongs to the default tenant; tenants' own bots (connections) get UUIDv7 ids. The token and
-- the webhook secret are encrypted at rest (auth/crypto.rs); the fingerprint (a hash prefix)
-- notices a changed environment token without decrypting.
CREATE TABLE telegram_bots (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    token_enc TEXT NOT NULL,
    token_fingerprint TEXT NOT NULL,
    webhook_secret_enc TEXT NOT NULL,
    telegram_user_id BIGINT,
    username TEXT,
    -- What the leader last set up: webhook | polling, the URL, and any error it met.
    mode TEXT,
    webhook_url TEXT,
    setup_at BIGINT,
    setup_error TEXT,
    last_update_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE INDEX telegram_bots_tenant ON telegram_bots (tenant_id);

-- Every update as received, stored before Telegram gets its 200 (durable receipt). The primary
-- key makes a redelivered update a no-op. Processing works from this row: `pending` rows are
-- claimed (claimed_until is a lease, so a crashed instance's claim expires) and end `done` or
-- `failed`. chat_id keeps one chat's updates in order.
CREATE TABLE bot_updates (
    bot_id TEXT NOT NULL REFERENCES telegram_bots (id) ON DELETE CASCADE,
    update_id BIGINT NOT NULL,
    chat_id BIGINT,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    claimed_by TEXT,
    claimed_until BIGINT,
    error TEXT,
    received_at BIGINT NOT NULL,
    processed_at BIGINT,
    PRIMARY KEY (bot_id, update_id)
);

CREATE INDEX bot_updates_status ON bot_updates (status, received_at);
CREATE INDEX bot_updates_chat ON bot_updates (bot_id, chat_id, status, update_id);

-- Conversation state per (bot, chat, user), so any instance can take the next update.
-- user_id is 0 for channel posts. data is TEXT json (chosen template, code, page).
CREATE TABLE bot_conversations (
    bot_id TEXT NOT NULL REFERENCES telegram_bots (id) ON DELETE CASCADE,
    chat_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    state TEXT NOT NULL,
    data TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (bot_id, chat_id, user_id)
);

-- Telegram's file_id of a photo already sent, per (bot, template version, variant, code):
-- a repeat is re-sent by file_id, without rendering or uploading. file_ids are per bot.
CREATE TABLE bot_photo_cache (
    bot_id TEXT NOT NULL REFERENCES telegram_bots (id) ON DELETE CASCADE,
    template_id TEXT NOT NULL,
    template_version BIGINT NOT NULL,
    variant TEXT NOT NULL,
    code TEXT NOT NULL,
    file_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (bot_id, template_id, template_version, variant, code)
);

-- The /start deep-link payload (t.me/bot?start=PAYLOAD), kept for journeys.
ALTER TABLE bot_users ADD COLUMN start_payload TEXT;

-- The forex signals service (docs/forex.md). Market bars are public data, shared by every
-- workspace that follows the symbol; everything else belongs to one workspace.
CREATE TABLE market_bars (
    symbol TEXT NOT NULL,
    timeframe TEXT NOT NULL,
    open_time BIGINT NOT NULL,
    open DOUBLE PRECISION NOT NULL,
    high DOUBLE PRECISION NOT NULL,
    low DOUBLE PRECISION NOT NULL,
    close DOUBLE PRECISION NOT NULL,
    source TEXT NOT NULL,
    fetched_at BIGINT NOT NULL,
    PRIMARY KEY (symbol, timeframe, open_time)
);

-- Per workspace: the settings (validated JSON of ForexSettings) and the engine's state.
CREATE TABLE forex_config (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    enabled BOOLEAN NOT NULL,
    settings_json TEXT NOT NULL,
    queued_strategy TEXT,
    paused BOOLEAN NOT NULL DEFAULT FALSE,
    last_bar_close BIGINT,
    next_signal_seq BIGINT NOT NULL DEFAULT 1,
    last_schedule_at BIGINT,
    version BIGINT NOT NULL DEFAULT 1,
    updated_at BIGINT NOT NULL
);

CREATE TABLE forex_signals (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    symbol TEXT NOT NULL,
    timeframe TEXT NOT NULL,
    strategy TEXT NOT NULL,
    direction TEXT NOT NULL,
    entry DOUBLE PRECISION NOT NULL,
    stop_loss DOUBLE PRECISION NOT NULL,
    tp1 DOUBLE PRECISION NOT NULL,
    tp2 DOUBLE PRECISION NOT NULL,
    tp3 DOUBLE PRECISION NOT NULL,
    tp_split_json TEXT NOT NULL,
    pip_size DOUBLE PRECISION NOT NULL,
    status TEXT NOT NULL,
    targets_hit BIGINT NOT NULL DEFAULT 0,
    opened_at BIGINT NOT NULL,
    closed_at BIGINT,
    exit_price DOUBLE PRECISION,
    net_pips DOUBLE PRECISION,
    original_indicators_json TEXT NOT NULL,
    state_json TEXT,
    updated_at BIGINT NOT NULL,
    UNIQUE (tenant_id, seq)
);
CREATE INDEX forex_signals_by_time ON forex_signals (tenant_id, opened_at);

CREATE TABLE forex_signal_events (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    signal_id TEXT NOT NULL REFERENCES forex_signals (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    at BIGINT NOT NULL,
    price DOUBLE PRECISION NOT NULL,
    move_pips DOUBLE PRECISION NOT NULL,
    realized_pips DOUBLE PRECISION NOT NULL,
    progress_percent DOUBLE PRECISION NOT NULL,
    detail_json TEXT NOT NULL,
    UNIQUE (signal_id, seq)
);

-- The outbox of channel posts. `post_key` names what is posted (signal 7's event 3, the daily
-- recap of a date): unique per workspace, so a repeated cycle cannot enqueue a post twice.
-- A row is `sending` (committed) before its request goes out; one found `sending` by a later
-- runner is marked `uncertain` and never sent again.
CREATE TABLE forex_posts (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    post_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    signal_id TEXT REFERENCES forex_signals (id) ON DELETE CASCADE,
    reply_to_key TEXT,
    text TEXT NOT NULL,
    ai_context_json TEXT,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    message_id BIGINT,
    error TEXT,
    due_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (tenant_id, post_key)
);
CREATE INDEX forex_posts_due ON forex_posts (status, due_at);

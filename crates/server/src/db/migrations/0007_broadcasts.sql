-- Broadcasts, the reusable job queue, and the indexes bot analytics reads through.
-- Portable SQL (docs/design.md §8); times are unix milliseconds.

-- Analytics over bot_usage (docs/analytics.md). Each index lets one aggregate walk a tenant's
-- rows in the order its GROUP BY needs, so no query sorts the raw rows.
-- Quarter-hour slots: every time zone's hour and day boundaries fall on a UTC quarter hour,
-- so slots map exactly onto local hours and days in the tenant's zone.
CREATE INDEX bot_usage_slot ON bot_usage (tenant_id, (created_at / 900000), success);
CREATE INDEX bot_usage_template ON bot_usage (tenant_id, template_slug, created_at);
CREATE INDEX bot_usage_user ON bot_usage (tenant_id, user_id, created_at);
CREATE INDEX bot_usage_code ON bot_usage (tenant_id, code, created_at);

-- A durable job queue for leader-run work (workers/jobs.rs). One row per unit of work; a claim
-- is (claimed_by, claim_token, heartbeat_at); the reaper re-queues claims whose heartbeat stopped.
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    tenant_id TEXT REFERENCES tenants (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    -- Enqueueing twice with one key yields one job.
    idempotency_key TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL,
    -- queued | running | parked | done | failed | cancelled
    status TEXT NOT NULL,
    run_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL,
    claimed_by TEXT,
    claim_token TEXT,
    heartbeat_at BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE INDEX jobs_due ON jobs (status, run_at);

-- One broadcast: the message and its progress. `status`: queued | running | paused | cancelled |
-- completed | failed.
CREATE TABLE broadcast_jobs (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    -- The idempotency key of its job in `jobs`.
    job_key TEXT NOT NULL,
    message TEXT NOT NULL,
    parse_mode TEXT,
    photo TEXT,
    buttons_json TEXT,
    rate_per_sec DOUBLE PRECISION NOT NULL,
    recipients BIGINT NOT NULL,
    created_by TEXT,
    error TEXT,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT,
    updated_at BIGINT NOT NULL
);

CREATE INDEX broadcast_jobs_tenant ON broadcast_jobs (tenant_id, created_at);

-- The per-recipient ledger: pending -> sending -> sent | blocked | failed; `uncertain` for rows
-- that were `sending` when the sender died (never re-sent); `cancelled` when the job was.
CREATE TABLE broadcast_recipients (
    broadcast_id TEXT NOT NULL REFERENCES broadcast_jobs (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL,
    username TEXT,
    status TEXT NOT NULL,
    error TEXT,
    attempts BIGINT NOT NULL DEFAULT 0,
    message_id BIGINT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (broadcast_id, user_id)
);

CREATE INDEX broadcast_recipients_status ON broadcast_recipients (broadcast_id, status, user_id);

-- Photo campaigns and their entries. Status is not stored: it follows from the clock, the window
-- (starts_at <= now < ends_at) and the manual pause flag. The overlay image lives in object
-- storage under tenants/{tenant}/campaigns/overlays/; overlay_key names the current object.
CREATE TABLE campaigns (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    platforms_json TEXT NOT NULL,
    paused BOOLEAN NOT NULL,
    overlay_key TEXT,
    overlay_width BIGINT,
    overlay_height BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE INDEX campaigns_by_tenant ON campaigns (tenant_id, starts_at);

-- One row per entry. normalized_url is the de-duplication key (see docs/campaigns.md); the
-- client address is never stored.
CREATE TABLE campaign_submissions (
    id TEXT PRIMARY KEY,
    campaign_id TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    normalized_url TEXT NOT NULL,
    platform TEXT NOT NULL,
    name TEXT,
    handle TEXT,
    email TEXT,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    reviewed_at BIGINT,
    UNIQUE (campaign_id, normalized_url)
);

CREATE INDEX campaign_submissions_by_campaign ON campaign_submissions (campaign_id, created_at);

-- Coupon templates. The spec (meta.json) is TEXT json; images live in object storage under a
-- versioned prefix, so an edit never overwrites the files a reader may be using.
CREATE TABLE templates (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    slug TEXT NOT NULL,
    name TEXT NOT NULL,
    telegram_enabled BOOLEAN NOT NULL,
    version BIGINT NOT NULL,
    spec_json TEXT NOT NULL,
    variants_json TEXT NOT NULL,
    has_logo BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (tenant_id, slug)
);

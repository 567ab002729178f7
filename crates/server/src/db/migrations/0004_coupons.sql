-- Coupon validation: each tenant's own list of live codes, and which provider checks its codes.
-- Times are unix milliseconds.

-- The tenant-managed coupon list (the embedded default provider). `code` is kept as entered
-- (trimmed); `code_key` is its upper-cased form, so codes compare case-insensitively.
CREATE TABLE coupons (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    code TEXT NOT NULL,
    code_key TEXT NOT NULL,
    -- percent | amount | NULL (a code without a stated discount)
    discount_type TEXT,
    discount_value DOUBLE PRECISION,
    currency TEXT,
    note TEXT,
    active BOOLEAN NOT NULL,
    expires_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (tenant_id, code_key)
);

-- One row per tenant that chose its provider; no row means the default (see docs/coupons.md).
CREATE TABLE coupon_settings (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    -- list | funderpro | any
    provider TEXT NOT NULL,
    -- When the CRM cannot be reached: FALSE refuses the code (fail closed), TRUE accepts it.
    fail_open BOOLEAN NOT NULL,
    updated_at BIGINT NOT NULL
);

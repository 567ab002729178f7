-- Exact pre-aggregates of bot_usage for bot analytics (docs/analytics.md, "How it stays fast").
-- Written in the same transaction as every bot_usage insert (analytics::repo::record_usage), so
-- they never lag. Keyed by UTC instants only: any tenant time zone reads them exactly.

-- Generations and successes per UTC quarter hour (slot = created_at / 900000): series + totals.
CREATE TABLE bot_usage_slots (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    slot BIGINT NOT NULL,
    generations BIGINT NOT NULL,
    successes BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, slot)
);

-- Per template and per code, over aligned blocks of `span` UTC days (span 1, 4 or 16; `day` =
-- created_at / 86400000 rounded down to a multiple of span). A report adds the fewest blocks
-- that tile its whole UTC days, plus raw rows for the partial days at its edges.
CREATE TABLE bot_usage_template_days (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    span BIGINT NOT NULL,
    day BIGINT NOT NULL,
    template_slug TEXT NOT NULL,
    generations BIGINT NOT NULL,
    successes BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, span, day, template_slug)
);

CREATE TABLE bot_usage_code_days (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    span BIGINT NOT NULL,
    day BIGINT NOT NULL,
    code TEXT NOT NULL,
    generations BIGINT NOT NULL,
    successes BIGINT NOT NULL,
    last_used BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, span, day, code)
);

-- Each Telegram user's latest generation: unique users of a window without a distinct count.
CREATE TABLE bot_usage_user_last (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL,
    last_used BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
);

CREATE INDEX bot_usage_user_last_time ON bot_usage_user_last (tenant_id, last_used);

-- Raw-row indexes: the series and template walks now read the rollups, so their indexes only
-- cost writes. Distinct users per code (one page of codes) reads user ids from the index alone.
DROP INDEX bot_usage_slot;
DROP INDEX bot_usage_template;
DROP INDEX bot_usage_code;
CREATE INDEX bot_usage_code_user ON bot_usage (tenant_id, code, created_at, user_id);

-- Back-fill from the rows already there (the same statements as analytics::repo::rebuild_rollups,
-- which filters them by tenant).
INSERT INTO bot_usage_slots (tenant_id, slot, generations, successes)
SELECT tenant_id, created_at / 900000, COUNT(*), SUM(CASE WHEN success THEN 1 ELSE 0 END)
FROM bot_usage GROUP BY tenant_id, created_at / 900000;

INSERT INTO bot_usage_template_days (tenant_id, span, day, template_slug, generations, successes)
SELECT tenant_id, spans.span, created_at / 86400000 / spans.span * spans.span, template_slug,
       COUNT(*), SUM(CASE WHEN success THEN 1 ELSE 0 END)
FROM bot_usage CROSS JOIN (SELECT 1 AS span UNION ALL SELECT 4 UNION ALL SELECT 16) AS spans
WHERE template_slug IS NOT NULL
GROUP BY tenant_id, spans.span, created_at / 86400000 / spans.span * spans.span, template_slug;

INSERT INTO bot_usage_code_days (tenant_id, span, day, code, generations, successes, last_used)
SELECT tenant_id, spans.span, created_at / 86400000 / spans.span * spans.span, code,
       COUNT(*), SUM(CASE WHEN success THEN 1 ELSE 0 END), MAX(created_at)
FROM bot_usage CROSS JOIN (SELECT 1 AS span UNION ALL SELECT 4 UNION ALL SELECT 16) AS spans
WHERE code IS NOT NULL
GROUP BY tenant_id, spans.span, created_at / 86400000 / spans.span * spans.span, code;

INSERT INTO bot_usage_user_last (tenant_id, user_id, last_used)
SELECT tenant_id, user_id, MAX(created_at) FROM bot_usage
WHERE user_id IS NOT NULL GROUP BY tenant_id, user_id;

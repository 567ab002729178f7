//! SQL for bot analytics. Every generation attempt is written with [`record_usage`], which keeps
//! the rollups of migration 8 exact in the same transaction; the reports read those rollups plus
//! at most a day of raw rows at each edge of the window (docs/analytics.md). Every query is
//! scoped by tenant id.
use super::NewUsage;
use super::range::{DayCover, SPANS};
use crate::db::{Affected, Db, DbResult, Tx, placeholders};
use crate::ids::TenantId;
use crate::{on_pool, on_tx};

/// Insert one `bot_usage` row and fold it into every rollup, inside the caller's transaction.
/// The only writer of `bot_usage`: a row and its rollup shares commit or roll back together.
pub async fn record_usage(tx: &mut Tx, usage: &NewUsage<'_>) -> DbResult<()> {
    let at = usage.created_at;
    let successes = i64::from(usage.failure.is_none());
    // Integer division as SQL does it (the back-fill computes the same keys in SQL).
    let day = at / 86_400_000;
    let [d16, d4, d1] = SPANS.map(|span| day / span * span);
    on_tx!(&mut *tx, conn => sqlx::query(
        "INSERT INTO bot_usage (id, tenant_id, user_id, chat_id, chat_type, template_slug, variant, code, success, reason, latency_ms, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    ).bind(crate::db::new_id()).bind(usage.tenant_id).bind(usage.user_id).bind(usage.chat_id)
        .bind(usage.chat_type).bind(usage.template_slug).bind(usage.variant).bind(usage.code)
        .bind(usage.failure.is_none()).bind(usage.failure).bind(usage.latency_ms).bind(at)
        .execute(&mut **conn).await.affected())?;
    on_tx!(&mut *tx, conn => sqlx::query(
        "INSERT INTO bot_usage_slots (tenant_id, slot, generations, successes) VALUES ($1, $2, 1, $3) \
         ON CONFLICT (tenant_id, slot) DO UPDATE SET generations = bot_usage_slots.generations + 1, \
           successes = bot_usage_slots.successes + excluded.successes"
    ).bind(usage.tenant_id).bind(at / 900_000).bind(successes)
        .execute(&mut **conn).await.affected())?;
    if let Some(template) = usage.template_slug {
        on_tx!(&mut *tx, conn => sqlx::query(
            "INSERT INTO bot_usage_template_days (tenant_id, span, day, template_slug, generations, successes) \
             VALUES ($1, 16, $2, $5, 1, $6), ($1, 4, $3, $5, 1, $6), ($1, 1, $4, $5, 1, $6) \
             ON CONFLICT (tenant_id, span, day, template_slug) DO UPDATE SET \
               generations = bot_usage_template_days.generations + 1, \
               successes = bot_usage_template_days.successes + excluded.successes"
        ).bind(usage.tenant_id).bind(d16).bind(d4).bind(d1).bind(template).bind(successes)
            .execute(&mut **conn).await.affected())?;
    }
    if let Some(code) = usage.code {
        on_tx!(&mut *tx, conn => sqlx::query(
            "INSERT INTO bot_usage_code_days (tenant_id, span, day, code, generations, successes, last_used) \
             VALUES ($1, 16, $2, $5, 1, $6, $7), ($1, 4, $3, $5, 1, $6, $7), ($1, 1, $4, $5, 1, $6, $7) \
             ON CONFLICT (tenant_id, span, day, code) DO UPDATE SET \
               generations = bot_usage_code_days.generations + 1, \
               successes = bot_usage_code_days.successes + excluded.successes, \
               last_used = CASE WHEN excluded.last_used > bot_usage_code_days.last_used \
                 THEN excluded.last_used ELSE bot_usage_code_days.last_used END"
        ).bind(usage.tenant_id).bind(d16).bind(d4).bind(d1).bind(code).bind(successes).bind(at)
            .execute(&mut **conn).await.affected())?;
    }
    if let Some(user_id) = usage.user_id {
        on_tx!(&mut *tx, conn => sqlx::query(
            "INSERT INTO bot_usage_user_last (tenant_id, user_id, last_used) VALUES ($1, $2, $3) \
             ON CONFLICT (tenant_id, user_id) DO UPDATE SET \
               last_used = CASE WHEN excluded.last_used > bot_usage_user_last.last_used \
                 THEN excluded.last_used ELSE bot_usage_user_last.last_used END"
        ).bind(usage.tenant_id).bind(user_id).bind(at)
            .execute(&mut **conn).await.affected())?;
    }
    Ok(())
}

/// Recompute a tenant's rollups from its raw rows: the back-fill of migration 8 limited to one
/// tenant. For bulk loads that bypass [`record_usage`] (benchmarks) and repairs (rows written by
/// a release older than migration 8 during a rolling upgrade). Safe at any time: writers of
/// `bot_usage` wait until it commits (SQLite: `BEGIN IMMEDIATE`; PostgreSQL: a SHARE lock, the
/// one backend-specific statement here).
pub async fn rebuild_rollups(db: &Db, tenant_id: &TenantId) -> DbResult<()> {
    const STATEMENTS: [&str; 8] = [
        "DELETE FROM bot_usage_slots WHERE tenant_id = $1",
        "DELETE FROM bot_usage_template_days WHERE tenant_id = $1",
        "DELETE FROM bot_usage_code_days WHERE tenant_id = $1",
        "DELETE FROM bot_usage_user_last WHERE tenant_id = $1",
        "INSERT INTO bot_usage_slots (tenant_id, slot, generations, successes) \
         SELECT tenant_id, created_at / 900000, COUNT(*), SUM(CASE WHEN success THEN 1 ELSE 0 END) \
         FROM bot_usage WHERE tenant_id = $1 GROUP BY tenant_id, created_at / 900000",
        "INSERT INTO bot_usage_template_days (tenant_id, span, day, template_slug, generations, successes) \
         SELECT tenant_id, spans.span, created_at / 86400000 / spans.span * spans.span, template_slug, \
                COUNT(*), SUM(CASE WHEN success THEN 1 ELSE 0 END) \
         FROM bot_usage CROSS JOIN (SELECT 1 AS span UNION ALL SELECT 4 UNION ALL SELECT 16) AS spans \
         WHERE tenant_id = $1 AND template_slug IS NOT NULL \
         GROUP BY tenant_id, spans.span, created_at / 86400000 / spans.span * spans.span, template_slug",
        "INSERT INTO bot_usage_code_days (tenant_id, span, day, code, generations, successes, last_used) \
         SELECT tenant_id, spans.span, created_at / 86400000 / spans.span * spans.span, code, \
                COUNT(*), SUM(CASE WHEN success THEN 1 ELSE 0 END), MAX(created_at) \
         FROM bot_usage CROSS JOIN (SELECT 1 AS span UNION ALL SELECT 4 UNION ALL SELECT 16) AS spans \
         WHERE tenant_id = $1 AND code IS NOT NULL \
         GROUP BY tenant_id, spans.span, created_at / 86400000 / spans.span * spans.span, code",
        "INSERT INTO bot_usage_user_last (tenant_id, user_id, last_used) \
         SELECT tenant_id, user_id, MAX(created_at) FROM bot_usage \
         WHERE tenant_id = $1 AND user_id IS NOT NULL GROUP BY tenant_id, user_id",
    ];
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, conn => sqlite {
        // `BEGIN IMMEDIATE` already keeps every other writer out.
    } postgres {
        sqlx::query("LOCK TABLE bot_usage IN SHARE MODE")
            .execute(&mut **conn)
            .await
            .affected()?;
    });
    for statement in STATEMENTS {
        on_tx!(&mut tx, conn => sqlx::query(statement).bind(tenant_id)
            .execute(&mut **conn).await.affected())?;
    }
    tx.commit().await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SlotRow {
    pub slot: i64,
    pub generations: i64,
    pub successes: i64,
}

/// Generations and successes per quarter-hour slot in `[from_slot, to_slot)`.
pub async fn usage_by_slot(
    db: &Db,
    tenant_id: &TenantId,
    from_slot: i64,
    to_slot: i64,
) -> DbResult<Vec<SlotRow>> {
    Ok(on_pool!(db, pool => sqlx::query_as::<_, SlotRow>(
        "SELECT slot, generations, successes FROM bot_usage_slots \
         WHERE tenant_id = $1 AND slot >= $2 AND slot < $3"
    ).bind(tenant_id).bind(from_slot).bind(to_slot).fetch_all(pool).await)?)
}

/// Distinct Telegram users with a generation in `[start, end)`. A user whose latest generation
/// lies in the window used it; a user whose latest lies at or after `end` is checked against the
/// raw rows (one index probe each: for "today" and longer ranges there are none, for "yesterday"
/// the users active since).
pub async fn unique_users(db: &Db, tenant_id: &TenantId, start: i64, end: i64) -> DbResult<i64> {
    Ok(on_pool!(db, pool => sqlx::query_scalar::<_, i64>(
        "SELECT (SELECT COUNT(*) FROM bot_usage_user_last \
                  WHERE tenant_id = $1 AND last_used >= $2 AND last_used < $3) \
              + (SELECT COUNT(*) FROM bot_usage_user_last AS u \
                  WHERE u.tenant_id = $1 AND u.last_used >= $3 AND EXISTS ( \
                    SELECT 1 FROM bot_usage AS b WHERE b.tenant_id = $1 AND b.user_id = u.user_id \
                      AND b.created_at >= $2 AND b.created_at < $3))"
    ).bind(tenant_id).bind(start).bind(end).fetch_one(pool).await)?)
}

/// `(key, generations, successes, last_used)` rows of a rollup over the blocks of a
/// [`DayCover`] ($2–$16) and of the raw rows at its edges ($17–$20); summed per key they equal
/// the raw rows of the window. `$1` is the tenant.
macro_rules! covered_rows {
    ($table:literal, $key:literal, $last:literal) => {
        concat!(
            "SELECT ",
            $key,
            " AS k, generations AS g, successes AS s, ",
            $last,
            " AS l FROM ",
            $table,
            " WHERE tenant_id = $1 AND span = $2 AND day >= $3 AND day < $4",
            " UNION ALL SELECT ",
            $key,
            ", generations, successes, ",
            $last,
            " FROM ",
            $table,
            " WHERE tenant_id = $1 AND span = $5 AND day >= $6 AND day < $7",
            " UNION ALL SELECT ",
            $key,
            ", generations, successes, ",
            $last,
            " FROM ",
            $table,
            " WHERE tenant_id = $1 AND span = $8 AND day >= $9 AND day < $10",
            " UNION ALL SELECT ",
            $key,
            ", generations, successes, ",
            $last,
            " FROM ",
            $table,
            " WHERE tenant_id = $1 AND span = $11 AND day >= $12 AND day < $13",
            " UNION ALL SELECT ",
            $key,
            ", generations, successes, ",
            $last,
            " FROM ",
            $table,
            " WHERE tenant_id = $1 AND span = $14 AND day >= $15 AND day < $16",
            " UNION ALL SELECT ",
            $key,
            ", 1, CASE WHEN success THEN 1 ELSE 0 END, created_at FROM bot_usage",
            " WHERE tenant_id = $1 AND ",
            $key,
            " IS NOT NULL AND created_at >= $17 AND created_at < $18",
            " UNION ALL SELECT ",
            $key,
            ", 1, CASE WHEN success THEN 1 ELSE 0 END, created_at FROM bot_usage",
            " WHERE tenant_id = $1 AND ",
            $key,
            " IS NOT NULL AND created_at >= $19 AND created_at < $20"
        )
    };
}

/// Bind `$1`–`$20` of [`covered_rows!`].
macro_rules! bind_cover {
    ($query:expr, $tenant:expr, $cover:expr) => {{
        let mut q = $query.bind($tenant);
        for (span, from, to) in $cover.blocks {
            q = q.bind(span).bind(from).bind(to);
        }
        for (from, to) in $cover.edges {
            q = q.bind(from).bind(to);
        }
        q
    }};
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TemplateUsageRow {
    pub template_slug: String,
    pub generations: i64,
    pub successes: i64,
}

pub async fn top_templates(
    db: &Db,
    tenant_id: &TenantId,
    cover: &DayCover,
    limit: i64,
) -> DbResult<Vec<TemplateUsageRow>> {
    const SQL: &str = concat!(
        "SELECT k AS template_slug, CAST(SUM(g) AS BIGINT) AS generations, CAST(SUM(s) AS BIGINT) AS successes FROM (",
        covered_rows!("bot_usage_template_days", "template_slug", "0"),
        ") AS r GROUP BY k ORDER BY generations DESC, template_slug LIMIT $21"
    );
    Ok(
        on_pool!(db, pool => bind_cover!(sqlx::query_as::<_, TemplateUsageRow>(SQL), tenant_id, cover)
        .bind(limit).fetch_all(pool).await)?,
    )
}

/// A code's totals in the window (distinct users come from [`code_users`]).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CodeRow {
    pub code: String,
    pub generations: i64,
    pub successes: i64,
    pub last_used: i64,
    /// Number of distinct codes matching the filter (the same on every row).
    pub total: i64,
}

/// Escape `%`, `_` and `\` for a `LIKE ... ESCAPE '\'` pattern.
pub fn like_pattern(query: &str) -> String {
    let mut out = String::with_capacity(query.len() + 2);
    out.push('%');
    for c in query.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

const CODES_SQL: &str = concat!(
    "SELECT k AS code, CAST(SUM(g) AS BIGINT) AS generations, CAST(SUM(s) AS BIGINT) AS successes, \
            CAST(MAX(l) AS BIGINT) AS last_used, COUNT(*) OVER () AS total FROM (",
    covered_rows!("bot_usage_code_days", "code", "last_used"),
    ") AS r WHERE LOWER(k) LIKE $21 ESCAPE '\\' GROUP BY k \
     ORDER BY generations DESC, code LIMIT $22 OFFSET $23"
);

/// One page of codes by use, most used first; `pattern` from [`like_pattern`] (`%` for all).
pub async fn popular_codes(
    db: &Db,
    tenant_id: &TenantId,
    cover: &DayCover,
    pattern: &str,
    limit: i64,
    offset: i64,
) -> DbResult<Vec<CodeRow>> {
    Ok(
        on_pool!(db, pool => bind_cover!(sqlx::query_as::<_, CodeRow>(CODES_SQL), tenant_id, cover)
        .bind(pattern).bind(limit).bind(offset).fetch_all(pool).await)?,
    )
}

/// Distinct codes matching `pattern` (for a page request whose offset is past the end).
pub async fn count_codes(
    db: &Db,
    tenant_id: &TenantId,
    cover: &DayCover,
    pattern: &str,
) -> DbResult<i64> {
    const SQL: &str = concat!(
        "SELECT COUNT(*) FROM (SELECT k FROM (",
        covered_rows!("bot_usage_code_days", "code", "last_used"),
        ") AS r WHERE LOWER(k) LIKE $21 ESCAPE '\\' GROUP BY k) AS codes"
    );
    Ok(
        on_pool!(db, pool => bind_cover!(sqlx::query_scalar::<_, i64>(SQL), tenant_id, cover)
        .bind(pattern).fetch_one(pool).await)?,
    )
}

/// Distinct users per code in `[start, end)` for `codes` (one page: a range walk per code of the
/// `bot_usage_code_user` index, user ids read from the index).
pub async fn code_users(
    db: &Db,
    tenant_id: &TenantId,
    start: i64,
    end: i64,
    codes: &[&str],
) -> DbResult<Vec<(String, i64)>> {
    if codes.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT code, COUNT(DISTINCT user_id) AS users FROM bot_usage \
         WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3 AND code IN ({}) \
         GROUP BY code",
        placeholders(4, codes.len())
    );
    Ok(on_pool!(db, pool => {
        let mut query = sqlx::query_as::<_, (String, i64)>(sqlx::AssertSqlSafe(sql))
            .bind(tenant_id).bind(start).bind(end);
        for code in codes {
            query = query.bind(*code);
        }
        query.fetch_all(pool).await
    })?)
}

/// Every matching code, streamed in order into `chunk` a few hundred at a time (the CSV export
/// never holds the list); stops early when `chunk` returns false.
pub async fn stream_codes<F, Fut>(
    db: &Db,
    tenant_id: &TenantId,
    cover: &DayCover,
    pattern: &str,
    chunk_len: usize,
    mut chunk: F,
) -> DbResult<()>
where
    F: FnMut(Vec<CodeRow>) -> Fut + Send,
    Fut: std::future::Future<Output = DbResult<bool>> + Send,
{
    use futures_util::TryStreamExt;
    on_pool!(db, pool => {
        let mut rows = bind_cover!(sqlx::query_as::<_, CodeRow>(CODES_SQL), tenant_id, cover)
            .bind(pattern).bind(i64::MAX).bind(0i64)
            .fetch(pool);
        let mut batch = Vec::with_capacity(chunk_len);
        while let Some(row) = rows.try_next().await? {
            batch.push(row);
            if batch.len() == chunk_len && !chunk(std::mem::take(&mut batch)).await? {
                return Ok(());
            }
        }
        if !batch.is_empty() {
            chunk(batch).await?;
        }
    });
    Ok(())
}

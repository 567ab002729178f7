//! SQL over `bot_usage` for the analytics reports; every query is scoped by tenant id and by a
//! slot range, and walks one index of migration 7 in its GROUP BY order (no per-bucket queries).
use crate::db::{Db, DbResult};
use crate::on_pool;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SlotRow {
    pub slot: i64,
    pub generations: i64,
    pub successes: i64,
}

/// Generations and successes per quarter-hour slot in `[from_slot, to_slot)`.
pub async fn usage_by_slot(
    db: &Db,
    tenant_id: &str,
    from_slot: i64,
    to_slot: i64,
) -> DbResult<Vec<SlotRow>> {
    // The slot expression is written exactly as in the `bot_usage_slot` index so both backends
    // match it (SQLite then walks the index in group order instead of sorting rows).
    Ok(on_pool!(db, pool => sqlx::query_as::<_, SlotRow>(
        "SELECT created_at / 900000 AS slot, COUNT(*) AS generations, \
                SUM(CASE WHEN success THEN 1 ELSE 0 END) AS successes \
         FROM bot_usage \
         WHERE tenant_id = $1 AND created_at / 900000 >= $2 AND created_at / 900000 < $3 \
         GROUP BY created_at / 900000"
    ).bind(tenant_id).bind(from_slot).bind(to_slot).fetch_all(pool).await)?)
}

/// Distinct Telegram users in `[start, end)`.
pub async fn unique_users(db: &Db, tenant_id: &str, start: i64, end: i64) -> DbResult<i64> {
    Ok(on_pool!(db, pool => sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM (SELECT user_id FROM bot_usage \
           WHERE tenant_id = $1 AND user_id IS NOT NULL AND created_at >= $2 AND created_at < $3 \
           GROUP BY user_id) AS users"
    ).bind(tenant_id).bind(start).bind(end).fetch_one(pool).await)?)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TemplateUsageRow {
    pub template_slug: String,
    pub generations: i64,
    pub successes: i64,
}

pub async fn top_templates(
    db: &Db,
    tenant_id: &str,
    start: i64,
    end: i64,
    limit: i64,
) -> DbResult<Vec<TemplateUsageRow>> {
    Ok(on_pool!(db, pool => sqlx::query_as::<_, TemplateUsageRow>(
        "SELECT template_slug, COUNT(*) AS generations, \
                SUM(CASE WHEN success THEN 1 ELSE 0 END) AS successes \
         FROM bot_usage \
         WHERE tenant_id = $1 AND template_slug IS NOT NULL AND created_at >= $2 AND created_at < $3 \
         GROUP BY template_slug ORDER BY generations DESC, template_slug LIMIT $4"
    ).bind(tenant_id).bind(start).bind(end).bind(limit).fetch_all(pool).await)?)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CodeRow {
    pub code: String,
    pub generations: i64,
    pub successes: i64,
    pub users: i64,
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

const CODES_SQL: &str = "SELECT code, generations, successes, users, last_used, COUNT(*) OVER () AS total FROM ( \
       SELECT code, COUNT(*) AS generations, SUM(CASE WHEN success THEN 1 ELSE 0 END) AS successes, \
              COUNT(DISTINCT user_id) AS users, MAX(created_at) AS last_used \
       FROM bot_usage \
       WHERE tenant_id = $1 AND code IS NOT NULL AND created_at >= $2 AND created_at < $3 \
         AND LOWER(code) LIKE $4 ESCAPE '\\' \
       GROUP BY code) AS codes \
     ORDER BY generations DESC, code LIMIT $5 OFFSET $6";

/// One page of codes by use, most used first; `pattern` from [`like_pattern`] (`%` for all).
pub async fn popular_codes(
    db: &Db,
    tenant_id: &str,
    start: i64,
    end: i64,
    pattern: &str,
    limit: i64,
    offset: i64,
) -> DbResult<Vec<CodeRow>> {
    Ok(on_pool!(db, pool => sqlx::query_as::<_, CodeRow>(CODES_SQL)
        .bind(tenant_id).bind(start).bind(end).bind(pattern).bind(limit).bind(offset)
        .fetch_all(pool).await)?)
}

/// Distinct codes matching `pattern` (for a page request whose offset is past the end).
pub async fn count_codes(
    db: &Db,
    tenant_id: &str,
    start: i64,
    end: i64,
    pattern: &str,
) -> DbResult<i64> {
    Ok(on_pool!(db, pool => sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM (SELECT code FROM bot_usage \
           WHERE tenant_id = $1 AND code IS NOT NULL AND created_at >= $2 AND created_at < $3 \
             AND LOWER(code) LIKE $4 ESCAPE '\\' GROUP BY code) AS codes"
    ).bind(tenant_id).bind(start).bind(end).bind(pattern).fetch_one(pool).await)?)
}

/// Every matching code, streamed row by row through `line` into `out` (the CSV export never
/// holds the list); stops early when the receiver is gone.
pub async fn stream_codes<F>(
    db: &Db,
    tenant_id: &str,
    start: i64,
    end: i64,
    pattern: &str,
    out: &tokio::sync::mpsc::Sender<String>,
    line: F,
) -> DbResult<()>
where
    F: Fn(CodeRow) -> String + Send + Sync,
{
    use futures_util::TryStreamExt;
    on_pool!(db, pool => {
        let mut rows = sqlx::query_as::<_, CodeRow>(CODES_SQL)
            .bind(tenant_id).bind(start).bind(end).bind(pattern).bind(i64::MAX).bind(0i64)
            .fetch(pool);
        while let Some(row) = rows.try_next().await? {
            if out.send(line(row)).await.is_err() {
                break;
            }
        }
    });
    Ok(())
}

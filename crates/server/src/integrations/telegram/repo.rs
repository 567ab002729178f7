//! SQL of the `telegram_bots` registry.
use crate::db::{Affected, Db, DbResult};
use crate::ids::TenantId;
use crate::on_pool;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BotRow {
    pub id: String,
    pub tenant_id: TenantId,
    pub token_enc: String,
    pub token_fingerprint: String,
    pub webhook_secret_enc: String,
    pub telegram_user_id: Option<i64>,
    pub username: Option<String>,
    pub mode: Option<String>,
    pub webhook_url: Option<String>,
    pub setup_at: Option<i64>,
    pub setup_error: Option<String>,
    pub last_update_at: Option<i64>,
}

const COLUMNS: &str = "id, tenant_id, token_enc, token_fingerprint, webhook_secret_enc, telegram_user_id, username, mode, webhook_url, setup_at, setup_error, last_update_at";

pub async fn get(db: &Db, id: &str) -> DbResult<Option<BotRow>> {
    let sql = format!("SELECT {COLUMNS} FROM telegram_bots WHERE id = $1");
    Ok(
        on_pool!(db, pool => sqlx::query_as::<_, BotRow>(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await)?,
    )
}

/// The tenant's bots, oldest first.
pub async fn for_tenant(db: &Db, tenant_id: &TenantId) -> DbResult<Vec<BotRow>> {
    let sql =
        format!("SELECT {COLUMNS} FROM telegram_bots WHERE tenant_id = $1 ORDER BY created_at, id");
    Ok(
        on_pool!(db, pool => sqlx::query_as::<_, BotRow>(sqlx::AssertSqlSafe(sql)).bind(tenant_id).fetch_all(pool).await)?,
    )
}

pub async fn all(db: &Db) -> DbResult<Vec<BotRow>> {
    let sql = format!("SELECT {COLUMNS} FROM telegram_bots ORDER BY created_at, id");
    Ok(
        on_pool!(db, pool => sqlx::query_as::<_, BotRow>(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await)?,
    )
}

pub async fn delete(db: &Db, id: &str) -> DbResult<u64> {
    Ok(
        on_pool!(db, pool => sqlx::query("DELETE FROM telegram_bots WHERE id = $1")
        .bind(id).execute(pool).await.affected())?,
    )
}

/// Insert the bot, or replace its token (and secret) when the fingerprint changed.
#[allow(clippy::too_many_arguments)]
pub async fn upsert_token(
    db: &Db,
    id: &str,
    tenant_id: &TenantId,
    token_enc: &str,
    fingerprint: &str,
    secret_enc: &str,
    replace_secret: bool,
    now: i64,
) -> DbResult<()> {
    on_pool!(db, pool => sqlx::query(
        "INSERT INTO telegram_bots (id, tenant_id, token_enc, token_fingerprint, webhook_secret_enc, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6) \
         ON CONFLICT (id) DO UPDATE SET \
           token_enc = CASE WHEN telegram_bots.token_fingerprint = excluded.token_fingerprint THEN telegram_bots.token_enc ELSE excluded.token_enc END, \
           webhook_secret_enc = CASE WHEN $7 THEN excluded.webhook_secret_enc ELSE telegram_bots.webhook_secret_enc END, \
           telegram_user_id = CASE WHEN telegram_bots.token_fingerprint = excluded.token_fingerprint THEN telegram_bots.telegram_user_id ELSE NULL END, \
           username = CASE WHEN telegram_bots.token_fingerprint = excluded.token_fingerprint THEN telegram_bots.username ELSE NULL END, \
           token_fingerprint = excluded.token_fingerprint, \
           updated_at = excluded.updated_at"
    ).bind(id).bind(tenant_id).bind(token_enc).bind(fingerprint).bind(secret_enc).bind(now).bind(replace_secret)
        .execute(pool).await.affected())?;
    Ok(())
}

pub async fn record_identity(
    db: &Db,
    id: &str,
    telegram_user_id: i64,
    username: Option<&str>,
    now: i64,
) -> DbResult<()> {
    on_pool!(db, pool => sqlx::query(
        "UPDATE telegram_bots SET telegram_user_id = $2, username = $3, updated_at = $4 WHERE id = $1"
    ).bind(id).bind(telegram_user_id).bind(username).bind(now).execute(pool).await.affected())?;
    Ok(())
}

pub async fn record_setup(
    db: &Db,
    id: &str,
    mode: &str,
    webhook_url: Option<&str>,
    error: Option<&str>,
    now: i64,
) -> DbResult<()> {
    on_pool!(db, pool => sqlx::query(
        "UPDATE telegram_bots SET mode = $2, webhook_url = $3, setup_error = $4, setup_at = $5 WHERE id = $1"
    ).bind(id).bind(mode).bind(webhook_url).bind(error).bind(now).execute(pool).await.affected())?;
    Ok(())
}

pub async fn touch_last_update(db: &Db, id: &str, now: i64) -> DbResult<()> {
    on_pool!(db, pool => sqlx::query(
        "UPDATE telegram_bots SET last_update_at = $2 WHERE id = $1 AND (last_update_at IS NULL OR last_update_at < $2)"
    ).bind(id).bind(now).execute(pool).await.affected())?;
    Ok(())
}

//! SQL of `connections` and `user_account_sessions`. Every function takes the tenant id.
use crate::db::{Affected, Db, DbResult};
use crate::on_pool;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConnectionRow {
    pub id: String,
    pub tenant_id: String,
    pub role: String,
    pub bot_user_id: i64,
    pub bot_username: Option<String>,
    pub token_enc: String,
    pub token_fingerprint: String,
    pub webhook_secret_enc: String,
    pub vip_channel_id: Option<i64>,
    pub vip_channel_title: Option<String>,
    pub free_channel_id: Option<i64>,
    pub free_channel_title: Option<String>,
    pub checks_json: String,
    pub status: String,
    pub status_reason: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// The secret before the last rotation, accepted until [`SECRET_GRACE_MS`] after it.
    ///
    /// [`SECRET_GRACE_MS`]: super::service::SECRET_GRACE_MS
    pub previous_secret_enc: Option<String>,
    pub secret_rotated_at: Option<i64>,
}

const COLUMNS: &str = "id, tenant_id, role, bot_user_id, bot_username, token_enc, token_fingerprint, webhook_secret_enc, vip_channel_id, vip_channel_title, free_channel_id, free_channel_title, checks_json, status, status_reason, created_at, updated_at, previous_secret_enc, secret_rotated_at";

pub async fn list(db: &Db, tenant_id: &str) -> DbResult<Vec<ConnectionRow>> {
    let sql = format!("SELECT {COLUMNS} FROM connections WHERE tenant_id = $1 ORDER BY role");
    Ok(
        on_pool!(db, pool => sqlx::query_as::<_, ConnectionRow>(sqlx::AssertSqlSafe(sql))
        .bind(tenant_id).fetch_all(pool).await)?,
    )
}

pub async fn get(db: &Db, tenant_id: &str, role: &str) -> DbResult<Option<ConnectionRow>> {
    let sql = format!("SELECT {COLUMNS} FROM connections WHERE tenant_id = $1 AND role = $2");
    Ok(
        on_pool!(db, pool => sqlx::query_as::<_, ConnectionRow>(sqlx::AssertSqlSafe(sql))
        .bind(tenant_id).bind(role).fetch_optional(pool).await)?,
    )
}

/// A connection by its id, for its webhook only (the URL names the connection, not the
/// workspace; the secret is checked next). The one query not scoped by a tenant id.
pub async fn by_id_for_webhook(db: &Db, id: &str) -> DbResult<Option<ConnectionRow>> {
    let sql = format!("SELECT {COLUMNS} FROM connections WHERE id = $1");
    Ok(
        on_pool!(db, pool => sqlx::query_as::<_, ConnectionRow>(sqlx::AssertSqlSafe(sql))
        .bind(id).fetch_optional(pool).await)?,
    )
}

/// Every workspace's connections, for the leader's set-up and polling (not for any request).
pub async fn all(db: &Db) -> DbResult<Vec<ConnectionRow>> {
    let sql = format!("SELECT {COLUMNS} FROM connections ORDER BY tenant_id, role");
    Ok(
        on_pool!(db, pool => sqlx::query_as::<_, ConnectionRow>(sqlx::AssertSqlSafe(sql))
        .fetch_all(pool).await)?,
    )
}

/// The workspace (if any, other than `tenant_id`) that has connected the bot `bot_user_id`.
pub async fn owner_elsewhere(
    db: &Db,
    tenant_id: &str,
    bot_user_id: i64,
) -> DbResult<Option<String>> {
    Ok(on_pool!(db, pool => sqlx::query_scalar::<_, String>(
        "SELECT tenant_id FROM connections WHERE bot_user_id = $1 AND tenant_id <> $2 LIMIT 1"
    ).bind(bot_user_id).bind(tenant_id).fetch_optional(pool).await)?)
}

/// Insert or replace the workspace's connection of `row.role` in one statement (nothing
/// half-written). A bot connected elsewhere trips `UNIQUE (bot_user_id)`.
pub async fn upsert(db: &Db, row: &ConnectionRow) -> DbResult<()> {
    on_pool!(db, pool => sqlx::query(
        "INSERT INTO connections (id, tenant_id, role, bot_user_id, bot_username, token_enc, token_fingerprint, webhook_secret_enc, vip_channel_id, vip_channel_title, free_channel_id, free_channel_title, checks_json, status, status_reason, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
         ON CONFLICT (tenant_id, role) DO UPDATE SET \
           bot_user_id = excluded.bot_user_id, bot_username = excluded.bot_username, \
           token_enc = excluded.token_enc, token_fingerprint = excluded.token_fingerprint, \
           webhook_secret_enc = excluded.webhook_secret_enc, \
           vip_channel_id = excluded.vip_channel_id, vip_channel_title = excluded.vip_channel_title, \
           free_channel_id = excluded.free_channel_id, free_channel_title = excluded.free_channel_title, \
           checks_json = excluded.checks_json, status = excluded.status, status_reason = excluded.status_reason, \
           updated_at = excluded.updated_at"
    ).bind(&row.id).bind(&row.tenant_id).bind(&row.role).bind(row.bot_user_id).bind(&row.bot_username)
        .bind(&row.token_enc).bind(&row.token_fingerprint).bind(&row.webhook_secret_enc)
        .bind(row.vip_channel_id).bind(&row.vip_channel_title).bind(row.free_channel_id).bind(&row.free_channel_title)
        .bind(&row.checks_json).bind(&row.status).bind(&row.status_reason).bind(row.created_at).bind(row.updated_at)
        .execute(pool).await.affected())?;
    Ok(())
}

pub async fn set_status(
    db: &Db,
    tenant_id: &str,
    role: &str,
    status: &str,
    reason: Option<&str>,
    now: i64,
) -> DbResult<u64> {
    Ok(on_pool!(db, pool => sqlx::query(
        "UPDATE connections SET status = $3, status_reason = $4, updated_at = $5 WHERE tenant_id = $1 AND role = $2"
    ).bind(tenant_id).bind(role).bind(status).bind(reason).bind(now).execute(pool).await.affected())?)
}

/// A new webhook secret; the one it replaces is kept for the grace period.
pub async fn set_secret(
    db: &Db,
    tenant_id: &str,
    role: &str,
    secret_enc: &str,
    now: i64,
) -> DbResult<u64> {
    Ok(on_pool!(db, pool => sqlx::query(
        "UPDATE connections SET previous_secret_enc = webhook_secret_enc, secret_rotated_at = $4, \
         webhook_secret_enc = $3, updated_at = $4 WHERE tenant_id = $1 AND role = $2"
    ).bind(tenant_id).bind(role).bind(secret_enc).bind(now).execute(pool).await.affected())?)
}

pub async fn delete(db: &Db, tenant_id: &str, role: &str) -> DbResult<u64> {
    Ok(on_pool!(db, pool => sqlx::query(
        "DELETE FROM connections WHERE tenant_id = $1 AND role = $2"
    ).bind(tenant_id).bind(role).execute(pool).await.affected())?)
}

pub async fn load_session(db: &Db, tenant_id: &str) -> DbResult<Option<String>> {
    Ok(on_pool!(db, pool => sqlx::query_scalar::<_, String>(
        "SELECT session_enc FROM user_account_sessions WHERE tenant_id = $1"
    ).bind(tenant_id).fetch_optional(pool).await)?)
}

pub async fn save_session(db: &Db, tenant_id: &str, sealed: &str, now: i64) -> DbResult<()> {
    on_pool!(db, pool => sqlx::query(
        "INSERT INTO user_account_sessions (tenant_id, session_enc, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (tenant_id) DO UPDATE SET session_enc = excluded.session_enc, updated_at = excluded.updated_at"
    ).bind(tenant_id).bind(sealed).bind(now).execute(pool).await.affected())?;
    Ok(())
}

pub async fn clear_session(db: &Db, tenant_id: &str) -> DbResult<()> {
    on_pool!(db, pool => sqlx::query(
        "DELETE FROM user_account_sessions WHERE tenant_id = $1"
    ).bind(tenant_id).execute(pool).await.affected())?;
    Ok(())
}

/// [`SessionStore`](crate::integrations::telegram_user::session::SessionStore) on
/// `user_account_sessions`: the user account's sealed MTProto session, one row per workspace.
pub struct SessionTable {
    pub db: Db,
    pub clock: crate::time::Clock,
}

impl crate::integrations::telegram_user::session::SessionStore for SessionTable {
    fn load<'a>(
        &'a self,
        tenant_id: &'a str,
    ) -> crate::integrations::telegram_user::BoxFuture<'a, DbResult<Option<String>>> {
        Box::pin(load_session(&self.db, tenant_id))
    }

    fn save<'a>(
        &'a self,
        tenant_id: &'a str,
        sealed: &'a str,
    ) -> crate::integrations::telegram_user::BoxFuture<'a, DbResult<()>> {
        Box::pin(save_session(&self.db, tenant_id, sealed, self.clock.now()))
    }

    fn clear<'a>(
        &'a self,
        tenant_id: &'a str,
    ) -> crate::integrations::telegram_user::BoxFuture<'a, DbResult<()>> {
        Box::pin(clear_session(&self.db, tenant_id))
    }
}

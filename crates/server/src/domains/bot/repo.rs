//! SQL of the coupon bot: received updates, conversation state, the file_id cache, the bot's
//! audience (`bot_users`); generation attempts are recorded through the analytics service.
use crate::db::{Db, DbResult};
use crate::on_pool;

/// Store an update as received; `false` when (bot, update_id) was already stored (a replay).
pub async fn insert_update(
    db: &Db,
    bot_id: &str,
    update_id: i64,
    chat_id: Option<i64>,
    payload: &str,
    now: i64,
) -> DbResult<bool> {
    let inserted = on_pool!(db, pool => sqlx::query(
        "INSERT INTO bot_updates (bot_id, update_id, chat_id, payload, status, attempts, received_at) \
         VALUES ($1, $2, $3, $4, 'pending', 0, $5) ON CONFLICT (bot_id, update_id) DO NOTHING"
    ).bind(bot_id).bind(update_id).bind(chat_id).bind(payload).bind(now)
        .execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(inserted == 1)
}

/// Claim a pending update for processing until `until`, unless another instance holds it or an
/// earlier update of the same chat is still pending (one chat's updates run in order).
pub async fn claim_update(
    db: &Db,
    bot_id: &str,
    update_id: i64,
    holder: &str,
    now: i64,
    until: i64,
) -> DbResult<Option<String>> {
    Ok(on_pool!(db, pool => sqlx::query_scalar::<_, String>(
        "UPDATE bot_updates SET claimed_by = $3, claimed_until = $4, attempts = attempts + 1 \
         WHERE bot_id = $1 AND update_id = $2 AND status = 'pending' \
           AND (claimed_until IS NULL OR claimed_until < $5) \
           AND NOT EXISTS (SELECT 1 FROM bot_updates AS earlier \
                 WHERE earlier.bot_id = $1 AND earlier.chat_id = bot_updates.chat_id \
                   AND earlier.status = 'pending' AND earlier.update_id < $2) \
         RETURNING payload"
    ).bind(bot_id).bind(update_id).bind(holder).bind(until).bind(now).fetch_optional(pool).await)?)
}

/// Finish an update: `done`, `failed` (with the reason), or back to `pending` for a retry at
/// `retry_at` (the claim then expires at that moment).
pub async fn finish_update(
    db: &Db,
    bot_id: &str,
    update_id: i64,
    status: &str,
    error: Option<&str>,
    retry_at: Option<i64>,
    now: i64,
) -> DbResult<()> {
    on_pool!(db, pool => sqlx::query(
        "UPDATE bot_updates SET status = $3, error = $4, claimed_until = $5, processed_at = $6 \
         WHERE bot_id = $1 AND update_id = $2"
    ).bind(bot_id).bind(update_id).bind(status).bind(error).bind(retry_at).bind(now)
        .execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn attempts(db: &Db, bot_id: &str, update_id: i64) -> DbResult<i64> {
    Ok(on_pool!(db, pool => sqlx::query_scalar::<_, i64>(
        "SELECT attempts FROM bot_updates WHERE bot_id = $1 AND update_id = $2"
    ).bind(bot_id).bind(update_id).fetch_optional(pool).await)?
    .unwrap_or(0))
}

/// The next pending update of the same chat after `update_id`.
pub async fn next_in_chat(db: &Db, bot_id: &str, update_id: i64) -> DbResult<Option<i64>> {
    Ok(on_pool!(db, pool => sqlx::query_scalar::<_, i64>(
        "SELECT n.update_id FROM bot_updates AS n JOIN bot_updates AS d \
           ON d.bot_id = n.bot_id AND d.chat_id = n.chat_id \
         WHERE d.bot_id = $1 AND d.update_id = $2 AND n.status = 'pending' AND n.update_id > $2 \
         ORDER BY n.update_id LIMIT 1"
    ).bind(bot_id).bind(update_id).fetch_optional(pool).await)?)
}

/// Pending updates nobody is working on: unclaimed for `unclaimed_after_ms`, or with an expired
/// claim (a crashed instance, or a retry that is due).
pub async fn stranded(
    db: &Db,
    now: i64,
    unclaimed_after_ms: i64,
    limit: i64,
) -> DbResult<Vec<(String, i64)>> {
    Ok(on_pool!(db, pool => sqlx::query_as::<_, (String, i64)>(
        "SELECT bot_id, update_id FROM bot_updates WHERE status = 'pending' \
           AND ((claimed_until IS NULL AND received_at < $1) OR claimed_until < $2) \
         ORDER BY received_at, update_id LIMIT $3"
    ).bind(now - unclaimed_after_ms).bind(now).bind(limit).fetch_all(pool).await)?)
}

/// Counts of a bot's updates by status.
pub async fn update_counts(db: &Db, bot_id: &str) -> DbResult<Vec<(String, i64)>> {
    Ok(on_pool!(db, pool => sqlx::query_as::<_, (String, i64)>(
        "SELECT status, COUNT(*) FROM bot_updates WHERE bot_id = $1 GROUP BY status"
    ).bind(bot_id).fetch_all(pool).await)?)
}

/// The highest update id stored for a bot (polling resumes after it).
pub async fn max_update_id(db: &Db, bot_id: &str) -> DbResult<Option<i64>> {
    Ok(on_pool!(db, pool => sqlx::query_scalar::<_, Option<i64>>(
        "SELECT MAX(update_id) FROM bot_updates WHERE bot_id = $1"
    ).bind(bot_id).fetch_one(pool).await)?)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConversationRow {
    pub state: String,
    pub data: String,
}

pub async fn conversation(
    db: &Db,
    bot_id: &str,
    chat_id: i64,
    user_id: i64,
) -> DbResult<Option<ConversationRow>> {
    Ok(on_pool!(db, pool => sqlx::query_as::<_, ConversationRow>(
        "SELECT state, data FROM bot_conversations WHERE bot_id = $1 AND chat_id = $2 AND user_id = $3"
    ).bind(bot_id).bind(chat_id).bind(user_id).fetch_optional(pool).await)?)
}

pub async fn save_conversation(
    db: &Db,
    bot_id: &str,
    chat_id: i64,
    user_id: i64,
    state: &str,
    data: &str,
    now: i64,
) -> DbResult<()> {
    on_pool!(db, pool => sqlx::query(
        "INSERT INTO bot_conversations (bot_id, chat_id, user_id, state, data, updated_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (bot_id, chat_id, user_id) DO UPDATE SET state = excluded.state, data = excluded.data, updated_at = excluded.updated_at"
    ).bind(bot_id).bind(chat_id).bind(user_id).bind(state).bind(data).bind(now)
        .execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn cached_file_id(
    db: &Db,
    bot_id: &str,
    template_id: &str,
    version: i64,
    variant: &str,
    code: &str,
) -> DbResult<Option<String>> {
    Ok(on_pool!(db, pool => sqlx::query_scalar::<_, String>(
        "SELECT file_id FROM bot_photo_cache WHERE bot_id = $1 AND template_id = $2 AND template_version = $3 AND variant = $4 AND code = $5"
    ).bind(bot_id).bind(template_id).bind(version).bind(variant).bind(code).fetch_optional(pool).await)?)
}

#[allow(clippy::too_many_arguments)]
pub async fn remember_file_id(
    db: &Db,
    bot_id: &str,
    template_id: &str,
    version: i64,
    variant: &str,
    code: &str,
    file_id: &str,
    now: i64,
) -> DbResult<()> {
    on_pool!(db, pool => sqlx::query(
        "INSERT INTO bot_photo_cache (bot_id, template_id, template_version, variant, code, file_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (bot_id, template_id, template_version, variant, code) DO UPDATE SET file_id = excluded.file_id, created_at = excluded.created_at"
    ).bind(bot_id).bind(template_id).bind(version).bind(variant).bind(code).bind(file_id).bind(now)
        .execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn forget_file_id(
    db: &Db,
    bot_id: &str,
    template_id: &str,
    version: i64,
    variant: &str,
    code: &str,
) -> DbResult<()> {
    on_pool!(db, pool => sqlx::query(
        "DELETE FROM bot_photo_cache WHERE bot_id = $1 AND template_id = $2 AND template_version = $3 AND variant = $4 AND code = $5"
    ).bind(bot_id).bind(template_id).bind(version).bind(variant).bind(code).execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// The user wrote to the bot: first/last seen, names, language; writing again unblocks.
pub async fn upsert_user(
    db: &Db,
    tenant_id: &str,
    user_id: i64,
    username: Option<&str>,
    first_name: Option<&str>,
    language: Option<&str>,
    now: i64,
) -> DbResult<()> {
    on_pool!(db, pool => sqlx::query(
        "INSERT INTO bot_users (tenant_id, user_id, username, first_name, language_code, first_seen, last_seen, blocked) \
         VALUES ($1, $2, $3, $4, $5, $6, $6, FALSE) \
         ON CONFLICT (tenant_id, user_id) DO UPDATE SET username = excluded.username, first_name = excluded.first_name, \
           language_code = COALESCE(excluded.language_code, bot_users.language_code), \
           last_seen = excluded.last_seen, blocked = FALSE, blocked_at = NULL"
    ).bind(tenant_id).bind(user_id).bind(username).bind(first_name).bind(language).bind(now)
        .execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn set_start_payload(
    db: &Db,
    tenant_id: &str,
    user_id: i64,
    payload: &str,
) -> DbResult<()> {
    on_pool!(db, pool => sqlx::query(
        "UPDATE bot_users SET start_payload = $3 WHERE tenant_id = $1 AND user_id = $2"
    ).bind(tenant_id).bind(user_id).bind(payload).execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn mark_blocked(db: &Db, tenant_id: &str, user_id: i64, now: i64) -> DbResult<()> {
    on_pool!(db, pool => sqlx::query(
        "UPDATE bot_users SET blocked = TRUE, blocked_at = $3 WHERE tenant_id = $1 AND user_id = $2"
    ).bind(tenant_id).bind(user_id).bind(now).execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(())
}

//! SQL of the coupon bot: received updates, conversation state, the file_id cache, the bot's
//! audience (`bot_users`); generation attempts are recorded through the analytics service.
use crate::db::{Affected, Db, DbResult, Tx, pow2_chunks, sqlite_list};
use crate::ids::TenantId;
use crate::{on_pool, on_tx};

/// Where a stored update is: waiting (new, or back for a retry), handled, or given up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UpdateStatus {
    Pending,
    Done,
    Failed,
}

impl UpdateStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UpdateStatus::Pending => "pending",
            UpdateStatus::Done => "done",
            UpdateStatus::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "pending" => Some(UpdateStatus::Pending),
            "done" => Some(UpdateStatus::Done),
            "failed" => Some(UpdateStatus::Failed),
            _ => None,
        }
    }
}

crate::text_enum!(UpdateStatus);

/// A stored update this instance now holds the claim of.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedUpdate {
    pub payload: String,
    /// Its chat, the ordering key.
    pub chat_id: Option<i64>,
}

/// A pending update nobody is working on.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StrandedUpdate {
    pub bot_id: String,
    pub update_id: i64,
}

/// How a batch of updates ended, written to each of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UpdateOutcome<'a> {
    pub status: UpdateStatus,
    pub error: Option<&'a str>,
    /// With `pending`: when the retry is due (the claim expires then).
    pub retry_at: Option<i64>,
}

/// A request to claim a pending update for processing (see [`claim_update`]).
#[derive(Debug, Clone)]
pub struct Claim {
    pub bot_id: String,
    pub update_id: i64,
    pub holder: String,
    pub now: i64,
    pub until: i64,
}

/// Claim a pending update for processing until `until`, unless another instance holds it or an
/// earlier update of the same chat is still pending (one chat's updates run in order). The
/// payload and chat of the claimed update.
pub async fn claim_update(tx: &mut Tx, claim: &Claim) -> DbResult<Option<ClaimedUpdate>> {
    Ok(on_tx!(tx, conn => sqlx::query_as::<_, ClaimedUpdate>(
        "UPDATE bot_updates SET claimed_by = $3, claimed_until = $4, attempts = attempts + 1 \
         WHERE bot_id = $1 AND update_id = $2 AND status = 'pending' \
           AND (claimed_until IS NULL OR claimed_until < $5) \
           AND NOT EXISTS (SELECT 1 FROM bot_updates AS earlier \
                 WHERE earlier.bot_id = $1 AND earlier.chat_id = bot_updates.chat_id \
                   AND earlier.status = 'pending' AND earlier.update_id < $2) \
         RETURNING payload, chat_id"
    ).bind(&claim.bot_id).bind(claim.update_id).bind(&claim.holder).bind(claim.until).bind(claim.now)
        .fetch_optional(&mut **conn).await)?)
}

pub async fn attempts(db: &Db, bot_id: &str, update_id: i64) -> DbResult<i64> {
    Ok(on_pool!(db, pool => sqlx::query_scalar::<_, i64>(
        "SELECT attempts FROM bot_updates WHERE bot_id = $1 AND update_id = $2"
    ).bind(bot_id).bind(update_id).fetch_optional(pool).await)?
    .unwrap_or(0))
}

/// Pending updates nobody is working on: unclaimed for `unclaimed_after_ms`, or with an expired
/// claim (a crashed instance, or a retry that is due).
pub async fn stranded(
    db: &Db,
    now: i64,
    unclaimed_after_ms: i64,
    limit: i64,
) -> DbResult<Vec<StrandedUpdate>> {
    Ok(on_pool!(db, pool => sqlx::query_as::<_, StrandedUpdate>(
        "SELECT bot_id, update_id FROM bot_updates WHERE status = 'pending' \
           AND ((claimed_until IS NULL AND received_at < $1) OR claimed_until < $2) \
         ORDER BY received_at, update_id LIMIT $3"
    ).bind(now - unclaimed_after_ms).bind(now).bind(limit).fetch_all(pool).await)?)
}

/// Delete up to `limit` of a bot's oldest updates that were received before `cutoff` and are
/// processed (done or failed), keeping the bot's newest update (polling resumes after it).
/// Update ids only grow, so the old rows are at the front of the key: the scan stops early.
pub async fn prune_processed(db: &Db, bot_id: &str, cutoff: i64, limit: i64) -> DbResult<u64> {
    let oldest = on_pool!(db, pool => sqlx::query_scalar::<_, i64>(
        "SELECT received_at FROM bot_updates WHERE bot_id = $1 ORDER BY update_id LIMIT 1"
    ).bind(bot_id).fetch_optional(pool).await)?;
    if oldest.is_none_or(|at| at >= cutoff) {
        return Ok(0);
    }
    Ok(on_pool!(db, pool => sqlx::query(
        "DELETE FROM bot_updates WHERE bot_id = $1 AND update_id IN (\
           SELECT update_id FROM bot_updates WHERE bot_id = $1 AND status <> 'pending' \
             AND received_at < $2 \
             AND update_id < (SELECT MAX(update_id) FROM bot_updates WHERE bot_id = $1) \
           ORDER BY update_id LIMIT $3)"
    ).bind(bot_id).bind(cutoff).bind(limit).execute(pool).await.affected())?)
}

/// Counts of a bot's updates by status.
pub async fn update_counts(db: &Db, bot_id: &str) -> DbResult<Vec<(UpdateStatus, i64)>> {
    Ok(
        on_pool!(db, pool => sqlx::query_as::<_, (UpdateStatus, i64)>(
        "SELECT status, COUNT(*) FROM bot_updates WHERE bot_id = $1 GROUP BY status"
    ).bind(bot_id).fetch_all(pool).await)?,
    )
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
        .execute(pool).await.affected())?;
    Ok(())
}

/// One exact image as a bot sent it: the key of Telegram's file_id for it.
#[derive(Debug, Clone, Copy)]
pub struct PhotoKey<'a> {
    pub bot_id: &'a str,
    pub template_id: &'a str,
    pub template_version: i64,
    pub variant: &'a str,
    pub code: &'a str,
}

pub async fn cached_file_id(db: &Db, key: &PhotoKey<'_>) -> DbResult<Option<String>> {
    Ok(on_pool!(db, pool => sqlx::query_scalar::<_, String>(
        "SELECT file_id FROM bot_photo_cache WHERE bot_id = $1 AND template_id = $2 AND template_version = $3 AND variant = $4 AND code = $5"
    ).bind(key.bot_id).bind(key.template_id).bind(key.template_version).bind(key.variant).bind(key.code).fetch_optional(pool).await)?)
}

pub async fn remember_file_id(
    db: &Db,
    key: &PhotoKey<'_>,
    file_id: &str,
    now: i64,
) -> DbResult<()> {
    on_pool!(db, pool => sqlx::query(
        "INSERT INTO bot_photo_cache (bot_id, template_id, template_version, variant, code, file_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (bot_id, template_id, template_version, variant, code) DO UPDATE SET file_id = excluded.file_id, created_at = excluded.created_at"
    ).bind(key.bot_id).bind(key.template_id).bind(key.template_version).bind(key.variant).bind(key.code).bind(file_id).bind(now)
        .execute(pool).await.affected())?;
    Ok(())
}

pub async fn forget_file_id(db: &Db, key: &PhotoKey<'_>) -> DbResult<()> {
    on_pool!(db, pool => sqlx::query(
        "DELETE FROM bot_photo_cache WHERE bot_id = $1 AND template_id = $2 AND template_version = $3 AND variant = $4 AND code = $5"
    ).bind(key.bot_id).bind(key.template_id).bind(key.template_version).bind(key.variant).bind(key.code).execute(pool).await.affected())?;
    Ok(())
}

/// A received update, as the receipt writer stores it.
#[derive(Debug, Clone)]
pub struct NewUpdate {
    pub bot_id: String,
    pub update_id: i64,
    pub chat_id: Option<i64>,
    pub payload: std::sync::Arc<str>,
    pub received_at: i64,
    /// `(holder, until)`: store it already claimed by this instance, when allowed.
    pub claim: Option<(String, i64)>,
}

/// The lowest pending update_id of each of `chats` (a new update of such a chat with a higher
/// id must wait for it: one chat's updates run in order).
pub async fn earliest_pending(
    tx: &mut Tx,
    bot_id: &str,
    chats: &[i64],
) -> DbResult<Vec<(i64, i64)>> {
    if chats.is_empty() {
        return Ok(Vec::new());
    }
    on_tx!(tx, conn => sqlite {
        let mut found = Vec::with_capacity(chats.len());
        for chunk in pow2_chunks(chats, 256) {
            let sql = format!(
                "SELECT chat_id, MIN(update_id) FROM bot_updates WHERE bot_id = ? AND status = 'pending' \
                 AND chat_id IN ({}) GROUP BY chat_id",
                sqlite_list("?", chunk.len())
            );
            let mut q = sqlx::query_as::<_, (i64, i64)>(sqlx::AssertSqlSafe(sql)).bind(bot_id);
            for chat in chunk {
                q = q.bind(*chat);
            }
            found.append(&mut q.fetch_all(&mut **conn).await?);
        }
        Ok(found)
    } postgres {
        // One statement text for any number of chats: prepared once (see insert_updates). One
        // index probe per chat: with `chat_id = ANY($2)` the generic plan PostgreSQL settles
        // on walked every pending row of the bot instead.
        Ok(sqlx::query_as::<_, (i64, i64)>(
            "SELECT c.chat_id, m.first FROM UNNEST($2::bigint[]) AS c (chat_id) \
             CROSS JOIN LATERAL (SELECT MIN(update_id) AS first FROM bot_updates \
               WHERE bot_id = $1 AND chat_id = c.chat_id AND status = 'pending') AS m \
             WHERE m.first IS NOT NULL",
        )
        .persistent(false)
        .bind(bot_id)
        .bind(chats)
        .fetch_all(&mut **conn)
        .await?)
    })
}

/// Store many updates in one statement (`claimed` says whether each is stored claimed). Returns
/// the (bot_id, update_id) pairs actually inserted; the others were already stored (replays).
///
/// On PostgreSQL the rows travel as one array per column (`UNNEST`): a short statement of eight
/// parameters, where a `VALUES` list has up to 1,600 and a new text for each batch size. The
/// PostgreSQL statements of the batch writer are not kept prepared (`persistent(false)`): each is
/// planned for its own arguments and the table's current size. A cached generic plan made while
/// `bot_updates` was small kept scanning the whole bot's index for `update_id = ANY(…)`, so every
/// batch got slower as the table grew (measured: 2,572 → 1,085 updates/s over 30 s).
pub async fn insert_updates(
    tx: &mut Tx,
    rows: &[(&NewUpdate, bool)],
) -> DbResult<Vec<(String, i64)>> {
    on_tx!(tx, conn => sqlite {
        let mut inserted = Vec::with_capacity(rows.len());
        for chunk in pow2_chunks(rows, 128) {
            let sql = format!(
                "INSERT INTO bot_updates (bot_id, update_id, chat_id, payload, status, attempts, claimed_by, claimed_until, received_at) \
                 VALUES {} ON CONFLICT (bot_id, update_id) DO NOTHING RETURNING bot_id, update_id",
                sqlite_list("(?, ?, ?, ?, 'pending', ?, ?, ?, ?)", chunk.len())
            );
            let mut q = sqlx::query_as::<_, (String, i64)>(sqlx::AssertSqlSafe(sql));
            for (row, claimed) in chunk {
                let claim = row.claim.as_ref().filter(|_| *claimed);
                q = q
                    .bind(&row.bot_id)
                    .bind(row.update_id)
                    .bind(row.chat_id)
                    .bind(&*row.payload)
                    .bind(i64::from(claim.is_some()))
                    .bind(claim.map(|c| c.0.as_str()))
                    .bind(claim.map(|c| c.1))
                    .bind(row.received_at);
            }
            inserted.append(&mut q.fetch_all(&mut **conn).await?);
        }
        Ok(inserted)
    } postgres {
        let claims: Vec<Option<&(String, i64)>> = rows
            .iter()
            .map(|(row, claimed)| row.claim.as_ref().filter(|_| *claimed))
            .collect();
        Ok(sqlx::query_as::<_, (String, i64)>(
            "INSERT INTO bot_updates (bot_id, update_id, chat_id, payload, status, attempts, claimed_by, claimed_until, received_at) \
             SELECT b, u, c, p, 'pending', a, cb, cu, r FROM UNNEST($1::text[], $2::bigint[], $3::bigint[], \
               $4::text[], $5::bigint[], $6::text[], $7::bigint[], $8::bigint[]) AS t (b, u, c, p, a, cb, cu, r) \
             ON CONFLICT (bot_id, update_id) DO NOTHING RETURNING bot_id, update_id",
        )
        .persistent(false)
        .bind(rows.iter().map(|(r, _)| r.bot_id.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|(r, _)| r.update_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|(r, _)| r.chat_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|(r, _)| &*r.payload).collect::<Vec<_>>())
        .bind(claims.iter().map(|c| i64::from(c.is_some())).collect::<Vec<_>>())
        .bind(claims.iter().map(|c| c.map(|c| c.0.as_str())).collect::<Vec<_>>())
        .bind(claims.iter().map(|c| c.map(|c| c.1)).collect::<Vec<_>>())
        .bind(rows.iter().map(|(r, _)| r.received_at).collect::<Vec<_>>())
        .fetch_all(&mut **conn)
        .await?)
    })
}

/// What a bot user's update tells about them (written in batches, see `writer.rs`).
#[derive(Debug, Clone)]
pub struct UserTouch {
    pub tenant_id: TenantId,
    pub user_id: i64,
    pub username: Option<String>,
    pub first_name: Option<String>,
    pub language: Option<String>,
    /// Telegram answered 403 to a message for them in their private chat: they blocked the bot.
    /// Otherwise writing to the bot unblocks them.
    pub blocked: bool,
    /// The deep-link payload of a `/start` (kept until another replaces it).
    pub start_payload: Option<String>,
    pub now: i64,
}

const UPSERT_USERS_SET: &str = "ON CONFLICT (tenant_id, user_id) DO UPDATE SET username = excluded.username, first_name = excluded.first_name, \
     language_code = COALESCE(excluded.language_code, bot_users.language_code), \
     last_seen = excluded.last_seen, blocked = excluded.blocked, blocked_at = excluded.blocked_at, \
     start_payload = COALESCE(excluded.start_payload, bot_users.start_payload)";

/// The users wrote to the bot: first/last seen, names, language, blocked or not, a /start
/// payload. Each (tenant, user) at most once per call. Arrays on PostgreSQL, as in
/// [`insert_updates`].
pub async fn upsert_users(tx: &mut Tx, users: &[&UserTouch]) -> DbResult<()> {
    on_tx!(tx, conn => sqlite {
        for chunk in pow2_chunks(users, 128) {
            let sql = format!(
                "INSERT INTO bot_users (tenant_id, user_id, username, first_name, language_code, first_seen, last_seen, blocked, blocked_at, start_payload) \
                 VALUES {} {UPSERT_USERS_SET}",
                sqlite_list("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", chunk.len())
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for u in chunk {
                q = q
                    .bind(&u.tenant_id)
                    .bind(u.user_id)
                    .bind(u.username.as_deref())
                    .bind(u.first_name.as_deref())
                    .bind(u.language.as_deref())
                    .bind(u.now)
                    .bind(u.now)
                    .bind(u.blocked)
                    .bind(u.blocked.then_some(u.now))
                    .bind(u.start_payload.as_deref());
            }
            q.execute(&mut **conn).await.affected()?;
        }
        Ok(())
    } postgres {
        let sql = format!(
            "INSERT INTO bot_users (tenant_id, user_id, username, first_name, language_code, first_seen, last_seen, blocked, blocked_at, start_payload) \
             SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[], \
               $7::bigint[], $8::boolean[], $9::bigint[], $10::text[]) {UPSERT_USERS_SET}"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .persistent(false)
            .bind(users.iter().map(|u| u.tenant_id.as_str()).collect::<Vec<_>>())
            .bind(users.iter().map(|u| u.user_id).collect::<Vec<_>>())
            .bind(users.iter().map(|u| u.username.as_deref()).collect::<Vec<_>>())
            .bind(users.iter().map(|u| u.first_name.as_deref()).collect::<Vec<_>>())
            .bind(users.iter().map(|u| u.language.as_deref()).collect::<Vec<_>>())
            .bind(users.iter().map(|u| u.now).collect::<Vec<_>>())
            .bind(users.iter().map(|u| u.now).collect::<Vec<_>>())
            .bind(users.iter().map(|u| u.blocked).collect::<Vec<_>>())
            .bind(users.iter().map(|u| u.blocked.then_some(u.now)).collect::<Vec<_>>())
            .bind(users.iter().map(|u| u.start_payload.as_deref()).collect::<Vec<_>>())
            .execute(&mut **conn)
            .await
            .affected()?;
        Ok(())
    })
}

/// How processing an update ended: `done`, `failed` (with the reason), or back to `pending` for
/// a retry at `retry_at` (the claim then expires at that moment).
#[derive(Debug, Clone)]
pub struct Finish {
    pub bot_id: String,
    pub update_id: i64,
    /// The update's chat: once it is finished, the chat's next pending update is looked up.
    pub chat_id: Option<i64>,
    /// The user it came from, written in the same transaction as the outcome.
    pub user: Option<UserTouch>,
    pub status: UpdateStatus,
    pub error: Option<String>,
    pub retry_at: Option<i64>,
    pub now: i64,
}

impl Finish {
    pub fn outcome(&self) -> UpdateOutcome<'_> {
        UpdateOutcome {
            status: self.status,
            error: self.error.as_deref(),
            retry_at: self.retry_at,
        }
    }
}

/// Record many outcomes of one bot that ended the same way (`status`, `error`, `retry_at`) in
/// one statement keyed by the primary key (SQLite would not use the key for an
/// `UPDATE … FROM (VALUES …)` join). `processed_at` is `now` for all of them: the moment the
/// batch is written.
pub async fn finish_updates(
    tx: &mut Tx,
    bot_id: &str,
    update_ids: &[i64],
    outcome: UpdateOutcome<'_>,
    now: i64,
) -> DbResult<()> {
    let UpdateOutcome {
        status,
        error,
        retry_at,
    } = outcome;
    on_tx!(tx, conn => sqlite {
        for chunk in pow2_chunks(update_ids, 256) {
            let sql = format!(
                "UPDATE bot_updates SET status = ?, error = ?, claimed_until = ?, processed_at = ? \
                 WHERE bot_id = ? AND update_id IN ({})",
                sqlite_list("?", chunk.len())
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(status)
                .bind(error)
                .bind(retry_at)
                .bind(now)
                .bind(bot_id);
            for id in chunk {
                q = q.bind(*id);
            }
            q.execute(&mut **conn).await.affected()?;
        }
        Ok(())
    } postgres {
        sqlx::query(
            "UPDATE bot_updates SET status = $1, error = $2, claimed_until = $3, processed_at = $4 \
             WHERE bot_id = $5 AND update_id = ANY($6)",
        )
        .persistent(false)
        .bind(status)
        .bind(error)
        .bind(retry_at)
        .bind(now)
        .bind(bot_id)
        .bind(update_ids)
        .execute(&mut **conn)
        .await
        .affected()?;
        Ok(())
    })
}

//! SQL for broadcasts and their per-recipient ledger; every function takes the tenant id and
//! every query is scoped by it (the ledger, which has no tenant column, through its broadcast:
//! `EXISTS (SELECT 1 FROM broadcast_jobs WHERE tenant_id = $1 AND id = $2)`, one primary-key
//! probe per statement).
use crate::db::{Affected, Db, DbResult, Tx, placeholders};
use crate::ids::TenantId;
use crate::{on_pool, on_tx};

/// Where a broadcast is: queued (or resumed), sending, paused, or ended one of three ways.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BroadcastState {
    Queued,
    Running,
    Paused,
    Completed,
    Failed,
    Cancelled,
}

impl BroadcastState {
    pub fn as_str(self) -> &'static str {
        match self {
            BroadcastState::Queued => "queued",
            BroadcastState::Running => "running",
            BroadcastState::Paused => "paused",
            BroadcastState::Completed => "completed",
            BroadcastState::Failed => "failed",
            BroadcastState::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "queued" => BroadcastState::Queued,
            "running" => BroadcastState::Running,
            "paused" => BroadcastState::Paused,
            "completed" => BroadcastState::Completed,
            "failed" => BroadcastState::Failed,
            "cancelled" => BroadcastState::Cancelled,
            _ => return None,
        })
    }

    /// Still to be (or being) sent.
    pub fn is_active(self) -> bool {
        matches!(self, BroadcastState::Queued | BroadcastState::Running)
    }
}

crate::text_enum!(BroadcastState);

/// Where one recipient's message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecipientStatus {
    Pending,
    /// Claimed by the sender; the request may be in flight.
    Sending,
    Sent,
    Blocked,
    Failed,
    /// The request may have reached Telegram (a network error, a crash mid-send): never resent.
    Uncertain,
    Cancelled,
}

impl RecipientStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RecipientStatus::Pending => "pending",
            RecipientStatus::Sending => "sending",
            RecipientStatus::Sent => "sent",
            RecipientStatus::Blocked => "blocked",
            RecipientStatus::Failed => "failed",
            RecipientStatus::Uncertain => "uncertain",
            RecipientStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "pending" => RecipientStatus::Pending,
            "sending" => RecipientStatus::Sending,
            "sent" => RecipientStatus::Sent,
            "blocked" => RecipientStatus::Blocked,
            "failed" => RecipientStatus::Failed,
            "uncertain" => RecipientStatus::Uncertain,
            "cancelled" => RecipientStatus::Cancelled,
            _ => return None,
        })
    }
}

crate::text_enum!(RecipientStatus);

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BroadcastRow {
    pub id: String,
    pub tenant_id: TenantId,
    pub status: BroadcastState,
    pub job_key: String,
    pub message: String,
    pub parse_mode: Option<String>,
    pub photo: Option<String>,
    pub buttons_json: Option<String>,
    pub rate_per_sec: f64,
    pub recipients: i64,
    pub created_by: Option<String>,
    pub error: Option<String>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, tenant_id, status, job_key, message, parse_mode, photo, buttons_json, rate_per_sec, recipients, \
     created_by, error, created_at, started_at, finished_at, updated_at";

/// The audience: the tenant's bot users who have not blocked the bot.
pub async fn audience_size(db: &Db, tenant_id: &TenantId) -> DbResult<i64> {
    Ok(on_pool!(db, pool => sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM bot_users WHERE tenant_id = $1 AND blocked = FALSE"
    ).bind(tenant_id).fetch_one(pool).await)?)
}

pub async fn insert(tx: &mut Tx, row: &BroadcastRow) -> DbResult<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO broadcast_jobs (id, tenant_id, status, job_key, message, parse_mode, photo, buttons_json, rate_per_sec, \
           recipients, created_by, error, created_at, started_at, finished_at, updated_at) \
         VALUES ($1, $2, $3, $12, $4, $5, $6, $7, $8, $9, $10, NULL, $11, NULL, NULL, $11)"
    ).bind(&row.id).bind(&row.tenant_id).bind(row.status).bind(&row.message).bind(&row.parse_mode)
        .bind(&row.photo).bind(&row.buttons_json).bind(row.rate_per_sec).bind(row.recipients)
        .bind(&row.created_by).bind(row.created_at).bind(&row.job_key)
        .execute(&mut **conn).await.affected())?;
    Ok(())
}

/// Snapshot the audience into the ledger (one `pending` row each); returns how many.
pub async fn insert_recipients(
    tx: &mut Tx,
    tenant_id: &TenantId,
    broadcast_id: &str,
    now: i64,
) -> DbResult<u64> {
    Ok(on_tx!(tx, conn => sqlx::query(
        "INSERT INTO broadcast_recipients (broadcast_id, user_id, username, status, attempts, updated_at) \
         SELECT $2, user_id, username, 'pending', 0, $3 FROM bot_users WHERE tenant_id = $1 AND blocked = FALSE"
    ).bind(tenant_id).bind(broadcast_id).bind(now)
        .execute(&mut **conn).await.affected())?)
}

pub async fn set_recipient_count(
    tx: &mut Tx,
    tenant_id: &TenantId,
    id: &str,
    count: i64,
) -> DbResult<()> {
    on_tx!(tx, conn => sqlx::query("UPDATE broadcast_jobs SET recipients = $3 WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id).bind(id).bind(count).execute(&mut **conn).await.affected())?;
    Ok(())
}

pub async fn get(db: &Db, tenant_id: &TenantId, id: &str) -> DbResult<Option<BroadcastRow>> {
    let sql = format!("SELECT {COLUMNS} FROM broadcast_jobs WHERE tenant_id = $1 AND id = $2");
    Ok(
        on_pool!(db, pool => sqlx::query_as::<_, BroadcastRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(tenant_id).bind(id).fetch_optional(pool).await)?,
    )
}

pub async fn list(db: &Db, tenant_id: &TenantId, limit: i64) -> DbResult<Vec<BroadcastRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM broadcast_jobs WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
    );
    Ok(
        on_pool!(db, pool => sqlx::query_as::<_, BroadcastRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(tenant_id).bind(limit).fetch_all(pool).await)?,
    )
}

/// Move a broadcast from one of `from` to `to`; returns whether it moved.
pub async fn transition(
    db: &Db,
    tenant_id: &TenantId,
    id: &str,
    from: &[BroadcastState],
    to: BroadcastState,
    now: i64,
) -> DbResult<bool> {
    let marks = placeholders(5, from.len());
    let sql = format!(
        "UPDATE broadcast_jobs SET status = $3, updated_at = $4, \
           started_at = CASE WHEN $3 = 'running' AND started_at IS NULL THEN $4 ELSE started_at END, \
           finished_at = CASE WHEN $3 IN ('completed', 'cancelled', 'failed') THEN $4 ELSE finished_at END \
         WHERE tenant_id = $1 AND id = $2 AND status IN ({marks})"
    );
    let n = on_pool!(db, pool => {
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.clone())).bind(tenant_id).bind(id).bind(to).bind(now);
        for status in from {
            query = query.bind(*status);
        }
        query.execute(pool).await.affected()
    })?;
    Ok(n == 1)
}

pub async fn set_error(
    db: &Db,
    tenant_id: &TenantId,
    id: &str,
    error: &str,
    now: i64,
) -> DbResult<()> {
    on_pool!(db, pool => sqlx::query("UPDATE broadcast_jobs SET error = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id).bind(id).bind(error).bind(now).execute(pool).await.affected())?;
    Ok(())
}

pub async fn status_of(
    db: &Db,
    tenant_id: &TenantId,
    id: &str,
) -> DbResult<Option<BroadcastState>> {
    Ok(
        on_pool!(db, pool => sqlx::query_scalar::<_, BroadcastState>(
        "SELECT status FROM broadcast_jobs WHERE tenant_id = $1 AND id = $2"
    ).bind(tenant_id).bind(id).fetch_optional(pool).await)?,
    )
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StatusCount {
    pub status: RecipientStatus,
    pub count: i64,
}

pub async fn counts(
    db: &Db,
    tenant_id: &TenantId,
    broadcast_id: &str,
) -> DbResult<Vec<StatusCount>> {
    Ok(on_pool!(db, pool => sqlx::query_as::<_, StatusCount>(
        "SELECT status, COUNT(*) AS count FROM broadcast_recipients WHERE broadcast_id = $2 \
           AND EXISTS (SELECT 1 FROM broadcast_jobs WHERE tenant_id = $1 AND id = $2) GROUP BY status"
    ).bind(tenant_id).bind(broadcast_id).fetch_all(pool).await)?)
}

/// Rows left `sending` by a runner that died: the message may or may not have gone out, so they
/// become `uncertain` and are never sent again.
pub async fn mark_in_flight_uncertain(
    db: &Db,
    tenant_id: &TenantId,
    broadcast_id: &str,
    now: i64,
) -> DbResult<u64> {
    Ok(on_pool!(db, pool => sqlx::query(
        "UPDATE broadcast_recipients SET status = 'uncertain', \
           error = 'in flight when the sender stopped; not re-sent to avoid a duplicate', updated_at = $3 \
         WHERE broadcast_id = $2 AND status = 'sending' \
           AND EXISTS (SELECT 1 FROM broadcast_jobs WHERE tenant_id = $1 AND id = $2)"
    ).bind(tenant_id).bind(broadcast_id).bind(now).execute(pool).await.affected())?)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PendingRow {
    pub user_id: i64,
}

pub async fn next_pending(
    db: &Db,
    tenant_id: &TenantId,
    broadcast_id: &str,
    after_user: i64,
    limit: i64,
) -> DbResult<Vec<i64>> {
    Ok(on_pool!(db, pool => sqlx::query_scalar::<_, i64>(
        "SELECT user_id FROM broadcast_recipients WHERE broadcast_id = $2 AND status = 'pending' AND user_id > $3 \
           AND EXISTS (SELECT 1 FROM broadcast_jobs WHERE tenant_id = $1 AND id = $2) \
         ORDER BY user_id LIMIT $4"
    ).bind(tenant_id).bind(broadcast_id).bind(after_user).bind(limit).fetch_all(pool).await)?)
}

/// Claim recipients for sending (durably, before their requests go out); returns the ids that
/// were still `pending` (the others are skipped).
pub async fn mark_sending(
    tx: &mut Tx,
    tenant_id: &TenantId,
    broadcast_id: &str,
    user_ids: &[i64],
    now: i64,
) -> DbResult<Vec<i64>> {
    if user_ids.is_empty() {
        return Ok(Vec::new());
    }
    let marks = placeholders(4, user_ids.len());
    let sql = format!(
        "UPDATE broadcast_recipients SET status = 'sending', attempts = attempts + 1, updated_at = $3 \
         WHERE broadcast_id = $2 AND status = 'pending' AND user_id IN ({marks}) \
           AND EXISTS (SELECT 1 FROM broadcast_jobs WHERE tenant_id = $1 AND id = $2) RETURNING user_id"
    );
    Ok(on_tx!(tx, conn => {
        let mut query = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.clone()))
            .bind(tenant_id).bind(broadcast_id).bind(now);
        for user_id in user_ids {
            query = query.bind(*user_id);
        }
        query.fetch_all(&mut **conn).await
    })?)
}

/// How one send ended, for [`mark_results`].
pub struct SendResult<'a> {
    pub user_id: i64,
    /// `sent`, `blocked`, `failed` or `uncertain`.
    pub status: RecipientStatus,
    pub error: Option<&'a str>,
    pub message_id: Option<i64>,
}

/// Record how sends ended, in one statement (rows still `sending` only).
pub async fn mark_results(
    tx: &mut Tx,
    tenant_id: &TenantId,
    broadcast_id: &str,
    results: &[SendResult<'_>],
    now: i64,
) -> DbResult<()> {
    if results.is_empty() {
        return Ok(());
    }
    // VALUES columns are named column1.. on both backends; the casts type the parameters alike.
    let values = (0..results.len())
        .map(|i| {
            let p = 4 + i * 4;
            format!(
                "(CAST(${} AS BIGINT), ${}, ${}, CAST(${} AS BIGINT))",
                p,
                p + 1,
                p + 2,
                p + 3
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "UPDATE broadcast_recipients SET status = v.column2, error = v.column3, message_id = v.column4, updated_at = $3 \
         FROM (VALUES {values}) AS v \
         WHERE broadcast_recipients.broadcast_id = $2 AND broadcast_recipients.user_id = v.column1 \
           AND broadcast_recipients.status = 'sending' \
           AND EXISTS (SELECT 1 FROM broadcast_jobs WHERE tenant_id = $1 AND id = $2)"
    );
    on_tx!(tx, conn => {
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
            .bind(tenant_id).bind(broadcast_id).bind(now);
        for r in results {
            query = query.bind(r.user_id).bind(r.status).bind(r.error).bind(r.message_id);
        }
        query.execute(&mut **conn).await.affected()
    })?;
    Ok(())
}

/// A cancelled broadcast's untouched rows.
pub async fn cancel_pending(
    db: &Db,
    tenant_id: &TenantId,
    broadcast_id: &str,
    now: i64,
) -> DbResult<u64> {
    Ok(on_pool!(db, pool => sqlx::query(
        "UPDATE broadcast_recipients SET status = 'cancelled', updated_at = $3 WHERE broadcast_id = $2 AND status = 'pending' \
           AND EXISTS (SELECT 1 FROM broadcast_jobs WHERE tenant_id = $1 AND id = $2)"
    ).bind(tenant_id).bind(broadcast_id).bind(now).execute(pool).await.affected())?)
}

/// 403 from Telegram: the users blocked the bot; they leave the audience until they write again.
pub async fn mark_users_blocked(
    tx: &mut Tx,
    tenant_id: &TenantId,
    user_ids: &[i64],
    now: i64,
) -> DbResult<()> {
    if user_ids.is_empty() {
        return Ok(());
    }
    let marks = placeholders(3, user_ids.len());
    let sql = format!(
        "UPDATE bot_users SET blocked = TRUE, blocked_at = $2 WHERE tenant_id = $1 AND user_id IN ({marks})"
    );
    on_tx!(tx, conn => {
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.clone())).bind(tenant_id).bind(now);
        for user_id in user_ids {
            query = query.bind(*user_id);
        }
        query.execute(&mut **conn).await.affected()
    })?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReportRow {
    pub user_id: i64,
    pub username: Option<String>,
    pub status: String,
    pub error: Option<String>,
    pub updated_at: i64,
}

/// Every ledger row in user id order, through `line` into `out`.
pub async fn stream_report<F>(
    db: &Db,
    tenant_id: &TenantId,
    broadcast_id: &str,
    out: &tokio::sync::mpsc::Sender<String>,
    line: F,
) -> DbResult<()>
where
    F: Fn(ReportRow) -> String + Send + Sync,
{
    use futures_util::TryStreamExt;
    on_pool!(db, pool => {
        let mut rows = sqlx::query_as::<_, ReportRow>(
            "SELECT user_id, username, status, error, updated_at FROM broadcast_recipients \
             WHERE broadcast_id = $2 AND EXISTS (SELECT 1 FROM broadcast_jobs WHERE tenant_id = $1 AND id = $2) \
             ORDER BY user_id"
        ).bind(tenant_id).bind(broadcast_id).fetch(pool);
        while let Some(row) = rows.try_next().await? {
            if out.send(line(row)).await.is_err() {
                break;
            }
        }
    });
    Ok(())
}

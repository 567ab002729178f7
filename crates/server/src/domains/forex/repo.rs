//! SQL of the forex service. Every workspace table is read and written with its tenant id;
//! `market_bars` is public market data shared by the workspaces that follow a symbol.
use promostack_signals::bars::Bar;

use crate::db::{Affected, Db, DbResult, Tx};
use crate::{on_pool, on_tx};

/// Where a channel post is. `sending` is committed before the request goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PostStatus {
    Pending,
    Sending,
    Sent,
    /// Found `sending` after a crash: it may have reached Telegram, so it is never resent.
    Uncertain,
    /// Telegram refused it for good (a 400, the bot removed from the channel).
    Failed,
}

impl PostStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PostStatus::Pending => "pending",
            PostStatus::Sending => "sending",
            PostStatus::Sent => "sent",
            PostStatus::Uncertain => "uncertain",
            PostStatus::Failed => "failed",
        }
    }
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "pending" => PostStatus::Pending,
            "sending" => PostStatus::Sending,
            "sent" => PostStatus::Sent,
            "uncertain" => PostStatus::Uncertain,
            "failed" => PostStatus::Failed,
            _ => return None,
        })
    }
}
crate::text_enum!(PostStatus);

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConfigRow {
    pub tenant_id: String,
    pub enabled: bool,
    pub settings_json: String,
    pub queued_strategy: Option<String>,
    pub paused: bool,
    pub last_bar_close: Option<i64>,
    pub next_signal_seq: i64,
    pub last_schedule_at: Option<i64>,
    pub version: i64,
    pub updated_at: i64,
}

const CONFIG_COLUMNS: &str = "tenant_id, enabled, settings_json, queued_strategy, paused, last_bar_close, next_signal_seq, last_schedule_at, version, updated_at";

pub async fn config(db: &Db, tenant_id: &str) -> DbResult<Option<ConfigRow>> {
    let sql = format!("SELECT {CONFIG_COLUMNS} FROM forex_config WHERE tenant_id = $1");
    Ok(
        on_pool!(db, pool => sqlx::query_as::<_, ConfigRow>(sqlx::AssertSqlSafe(sql))
        .bind(tenant_id).fetch_optional(pool).await)?,
    )
}

/// The config row inside a cycle's transaction (the cycle re-reads what it compares).
pub async fn config_in(tx: &mut Tx, tenant_id: &str) -> DbResult<Option<ConfigRow>> {
    let sql = format!("SELECT {CONFIG_COLUMNS} FROM forex_config WHERE tenant_id = $1");
    Ok(
        on_tx!(tx, conn => sqlx::query_as::<_, ConfigRow>(sqlx::AssertSqlSafe(sql))
        .bind(tenant_id).fetch_optional(&mut **conn).await)?,
    )
}

/// Every workspace with forex on, for the leader's cycle (not for any request).
pub async fn enabled_configs(db: &Db) -> DbResult<Vec<ConfigRow>> {
    let sql = format!(
        "SELECT {CONFIG_COLUMNS} FROM forex_config WHERE enabled = TRUE ORDER BY tenant_id"
    );
    Ok(
        on_pool!(db, pool => sqlx::query_as::<_, ConfigRow>(sqlx::AssertSqlSafe(sql))
        .fetch_all(pool).await)?,
    )
}

/// Create or replace the settings; the engine state columns are kept.
pub async fn save_settings(
    db: &Db,
    tenant_id: &str,
    enabled: bool,
    settings_json: &str,
    now: i64,
) -> DbResult<()> {
    on_pool!(db, pool => sqlx::query(
        "INSERT INTO forex_config (tenant_id, enabled, settings_json, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (tenant_id) DO UPDATE SET enabled = excluded.enabled, settings_json = excluded.settings_json, \
           version = forex_config.version + 1, updated_at = excluded.updated_at"
    ).bind(tenant_id).bind(enabled).bind(settings_json).bind(now).execute(pool).await.affected())?;
    Ok(())
}

pub async fn set_queued(
    db: &Db,
    tenant_id: &str,
    strategy: Option<&str>,
    now: i64,
) -> DbResult<u64> {
    Ok(on_pool!(db, pool => sqlx::query(
        "UPDATE forex_config SET queued_strategy = $2, version = version + 1, updated_at = $3 WHERE tenant_id = $1"
    ).bind(tenant_id).bind(strategy).bind(now).execute(pool).await.affected())?)
}

pub async fn set_paused(db: &Db, tenant_id: &str, paused: bool, now: i64) -> DbResult<u64> {
    Ok(on_pool!(db, pool => sqlx::query(
        "UPDATE forex_config SET paused = $2, updated_at = $3 WHERE tenant_id = $1"
    ).bind(tenant_id).bind(paused).bind(now).execute(pool).await.affected())?)
}

/// Record a cycle's progress, only if no other cycle moved it since `seen_version` was read
/// (a leader that lost its lease mid-cycle changes nothing).
#[allow(clippy::too_many_arguments)]
pub async fn advance(
    tx: &mut Tx,
    tenant_id: &str,
    seen_version: i64,
    last_bar_close: Option<i64>,
    next_signal_seq: i64,
    settings_json: &str,
    queued_strategy: Option<&str>,
    now: i64,
) -> DbResult<u64> {
    Ok(on_tx!(tx, conn => sqlx::query(
        "UPDATE forex_config SET last_bar_close = $3, next_signal_seq = $4, settings_json = $5, \
           queued_strategy = $6, version = version + 1, updated_at = $7 \
         WHERE tenant_id = $1 AND version = $2"
    ).bind(tenant_id).bind(seen_version).bind(last_bar_close).bind(next_signal_seq)
        .bind(settings_json).bind(queued_strategy).bind(now)
        .execute(&mut **conn).await.affected())?)
}

pub async fn set_last_schedule(tx: &mut Tx, tenant_id: &str, at: i64) -> DbResult<u64> {
    Ok(on_tx!(tx, conn => sqlx::query(
        "UPDATE forex_config SET last_schedule_at = $2 WHERE tenant_id = $1"
    ).bind(tenant_id).bind(at).execute(&mut **conn).await.affected())?)
}

// ---- market bars ----

pub async fn newest_bar(db: &Db, symbol: &str, timeframe: &str) -> DbResult<Option<i64>> {
    Ok(on_pool!(db, pool => sqlx::query_scalar::<_, Option<i64>>(
        "SELECT MAX(open_time) FROM market_bars WHERE symbol = $1 AND timeframe = $2"
    ).bind(symbol).bind(timeframe).fetch_one(pool).await)?)
}

/// Store new bars (a bar already stored is left as it is).
pub async fn insert_bars(
    db: &Db,
    symbol: &str,
    timeframe: &str,
    bars: &[Bar],
    source: &str,
    now: i64,
) -> DbResult<u64> {
    let mut tx = db.begin().await?;
    let mut added = 0;
    for bar in bars {
        added += on_tx!(&mut tx, conn => sqlx::query(
            "INSERT INTO market_bars (symbol, timeframe, open_time, open, high, low, close, source, fetched_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (symbol, timeframe, open_time) DO NOTHING"
        ).bind(symbol).bind(timeframe).bind(bar.time).bind(bar.open).bind(bar.high).bind(bar.low)
            .bind(bar.close).bind(source).bind(now).execute(&mut **conn).await.affected())?;
    }
    tx.commit().await?;
    Ok(added)
}

#[derive(sqlx::FromRow)]
struct BarRow {
    open_time: i64,
    open: f64,
    high: f64,
    low: f64,
    close: f64,
}

/// The newest `limit` bars, oldest first.
pub async fn recent_bars(db: &Db, symbol: &str, timeframe: &str, limit: i64) -> DbResult<Vec<Bar>> {
    let mut rows = on_pool!(db, pool => sqlx::query_as::<_, BarRow>(
        "SELECT open_time, open, high, low, close FROM market_bars WHERE symbol = $1 AND timeframe = $2 \
         ORDER BY open_time DESC LIMIT $3"
    ).bind(symbol).bind(timeframe).bind(limit).fetch_all(pool).await)?;
    rows.reverse();
    Ok(rows
        .into_iter()
        .map(|r| Bar {
            time: r.open_time,
            open: r.open,
            high: r.high,
            low: r.low,
            close: r.close,
        })
        .collect())
}

/// Keep the newest `keep` bars of a series.
pub async fn prune_bars(db: &Db, symbol: &str, timeframe: &str, keep: i64) -> DbResult<u64> {
    Ok(on_pool!(db, pool => sqlx::query(
        "DELETE FROM market_bars WHERE symbol = $1 AND timeframe = $2 AND open_time < \
           (SELECT open_time FROM market_bars WHERE symbol = $1 AND timeframe = $2 ORDER BY open_time DESC LIMIT 1 OFFSET $3)"
    ).bind(symbol).bind(timeframe).bind(keep).execute(pool).await.affected())?)
}

// ---- signals and their events ----

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SignalRow {
    pub id: String,
    pub tenant_id: String,
    pub seq: i64,
    pub symbol: String,
    pub timeframe: String,
    pub strategy: String,
    pub direction: String,
    pub entry: f64,
    pub stop_loss: f64,
    pub tp1: f64,
    pub tp2: f64,
    pub tp3: f64,
    pub tp_split_json: String,
    pub pip_size: f64,
    pub status: String,
    pub targets_hit: i64,
    pub opened_at: i64,
    pub closed_at: Option<i64>,
    pub exit_price: Option<f64>,
    pub net_pips: Option<f64>,
    pub original_indicators_json: String,
    pub state_json: Option<String>,
    pub updated_at: i64,
}

const SIGNAL_COLUMNS: &str = "id, tenant_id, seq, symbol, timeframe, strategy, direction, entry, stop_loss, tp1, tp2, tp3, tp_split_json, pip_size, status, targets_hit, opened_at, closed_at, exit_price, net_pips, original_indicators_json, state_json, updated_at";

pub async fn insert_signal(tx: &mut Tx, r: &SignalRow) -> DbResult<()> {
    let sql = format!(
        "INSERT INTO forex_signals ({SIGNAL_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)"
    );
    on_tx!(tx, conn => sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&r.id).bind(&r.tenant_id).bind(r.seq).bind(&r.symbol).bind(&r.timeframe).bind(&r.strategy)
        .bind(&r.direction).bind(r.entry).bind(r.stop_loss).bind(r.tp1).bind(r.tp2).bind(r.tp3)
        .bind(&r.tp_split_json).bind(r.pip_size).bind(&r.status).bind(r.targets_hit).bind(r.opened_at)
        .bind(r.closed_at).bind(r.exit_price).bind(r.net_pips).bind(&r.original_indicators_json)
        .bind(&r.state_json).bind(r.updated_at)
        .execute(&mut **conn).await.affected())?;
    Ok(())
}

/// The open signal's running state, or its close.
#[allow(clippy::too_many_arguments)]
pub async fn update_signal(
    tx: &mut Tx,
    tenant_id: &str,
    id: &str,
    status: &str,
    targets_hit: i64,
    stop_loss: f64,
    closed_at: Option<i64>,
    exit_price: Option<f64>,
    net_pips: Option<f64>,
    state_json: Option<&str>,
    now: i64,
) -> DbResult<u64> {
    Ok(on_tx!(tx, conn => sqlx::query(
        "UPDATE forex_signals SET status = $3, targets_hit = $4, stop_loss = $5, closed_at = $6, exit_price = $7, \
           net_pips = $8, state_json = $9, updated_at = $10 WHERE tenant_id = $1 AND id = $2"
    ).bind(tenant_id).bind(id).bind(status).bind(targets_hit).bind(stop_loss).bind(closed_at)
        .bind(exit_price).bind(net_pips).bind(state_json).bind(now)
        .execute(&mut **conn).await.affected())?)
}

pub async fn open_signal(db: &Db, tenant_id: &str) -> DbResult<Option<SignalRow>> {
    let sql = format!(
        "SELECT {SIGNAL_COLUMNS} FROM forex_signals WHERE tenant_id = $1 AND status = 'open' ORDER BY seq DESC LIMIT 1"
    );
    Ok(
        on_pool!(db, pool => sqlx::query_as::<_, SignalRow>(sqlx::AssertSqlSafe(sql))
        .bind(tenant_id).fetch_optional(pool).await)?,
    )
}

pub async fn open_signal_in(tx: &mut Tx, tenant_id: &str) -> DbResult<Option<SignalRow>> {
    let sql = format!(
        "SELECT {SIGNAL_COLUMNS} FROM forex_signals WHERE tenant_id = $1 AND status = 'open' ORDER BY seq DESC LIMIT 1"
    );
    Ok(
        on_tx!(tx, conn => sqlx::query_as::<_, SignalRow>(sqlx::AssertSqlSafe(sql))
        .bind(tenant_id).fetch_optional(&mut **conn).await)?,
    )
}

pub async fn signal(db: &Db, tenant_id: &str, id: &str) -> DbResult<Option<SignalRow>> {
    let sql =
        format!("SELECT {SIGNAL_COLUMNS} FROM forex_signals WHERE tenant_id = $1 AND id = $2");
    Ok(
        on_pool!(db, pool => sqlx::query_as::<_, SignalRow>(sqlx::AssertSqlSafe(sql))
        .bind(tenant_id).bind(id).fetch_optional(pool).await)?,
    )
}

/// Filters of the signal history.
#[derive(Debug, Clone, Default)]
pub struct SignalFilter {
    pub status: Option<String>,
    pub direction: Option<String>,
    pub strategy: Option<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
}

/// Newest first; `(rows, total)`.
pub async fn list_signals(
    db: &Db,
    tenant_id: &str,
    f: &SignalFilter,
    limit: i64,
    offset: i64,
) -> DbResult<(Vec<SignalRow>, i64)> {
    let filter = "tenant_id = $1 AND ($2 IS NULL OR status = $2) AND ($3 IS NULL OR direction = $3) \
         AND ($4 IS NULL OR strategy = $4) AND ($5 IS NULL OR opened_at >= $5) AND ($6 IS NULL OR opened_at < $6)";
    let sql = format!(
        "SELECT {SIGNAL_COLUMNS} FROM forex_signals WHERE {filter} ORDER BY opened_at DESC, seq DESC LIMIT $7 OFFSET $8"
    );
    let count = format!("SELECT COUNT(*) FROM forex_signals WHERE {filter}");
    let rows = on_pool!(db, pool => sqlx::query_as::<_, SignalRow>(sqlx::AssertSqlSafe(sql))
        .bind(tenant_id).bind(&f.status).bind(&f.direction).bind(&f.strategy).bind(f.from).bind(f.to)
        .bind(limit).bind(offset).fetch_all(pool).await)?;
    let total = on_pool!(db, pool => sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(count))
        .bind(tenant_id).bind(&f.status).bind(&f.direction).bind(&f.strategy).bind(f.from).bind(f.to)
        .fetch_one(pool).await)?;
    Ok((rows, total))
}

/// Signals closed in [from, to), oldest first (recaps, pips charts).
pub async fn closed_between(
    db: &Db,
    tenant_id: &str,
    from: i64,
    to: i64,
) -> DbResult<Vec<SignalRow>> {
    let sql = format!(
        "SELECT {SIGNAL_COLUMNS} FROM forex_signals WHERE tenant_id = $1 AND closed_at >= $2 AND closed_at < $3 ORDER BY closed_at, seq"
    );
    Ok(
        on_pool!(db, pool => sqlx::query_as::<_, SignalRow>(sqlx::AssertSqlSafe(sql))
        .bind(tenant_id).bind(from).bind(to).fetch_all(pool).await)?,
    )
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    pub id: String,
    pub tenant_id: String,
    pub signal_id: String,
    pub seq: i64,
    pub kind: String,
    pub at: i64,
    pub price: f64,
    pub move_pips: f64,
    pub realized_pips: f64,
    pub progress_percent: f64,
    pub detail_json: String,
}

pub async fn insert_event(tx: &mut Tx, e: &EventRow) -> DbResult<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO forex_signal_events (id, tenant_id, signal_id, seq, kind, at, price, move_pips, realized_pips, progress_percent, detail_json) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    ).bind(&e.id).bind(&e.tenant_id).bind(&e.signal_id).bind(e.seq).bind(&e.kind).bind(e.at)
        .bind(e.price).bind(e.move_pips).bind(e.realized_pips).bind(e.progress_percent).bind(&e.detail_json)
        .execute(&mut **conn).await.affected())?;
    Ok(())
}

pub async fn event_count(tx: &mut Tx, tenant_id: &str, signal_id: &str) -> DbResult<i64> {
    Ok(on_tx!(tx, conn => sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM forex_signal_events WHERE tenant_id = $1 AND signal_id = $2"
    ).bind(tenant_id).bind(signal_id).fetch_one(&mut **conn).await)?)
}

pub async fn events_of(db: &Db, tenant_id: &str, signal_id: &str) -> DbResult<Vec<EventRow>> {
    Ok(on_pool!(db, pool => sqlx::query_as::<_, EventRow>(
        "SELECT id, tenant_id, signal_id, seq, kind, at, price, move_pips, realized_pips, progress_percent, detail_json \
         FROM forex_signal_events WHERE tenant_id = $1 AND signal_id = $2 ORDER BY seq"
    ).bind(tenant_id).bind(signal_id).fetch_all(pool).await)?)
}

// ---- the post outbox ----

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PostRow {
    pub id: String,
    pub tenant_id: String,
    pub post_key: String,
    pub kind: String,
    pub signal_id: Option<String>,
    pub reply_to_key: Option<String>,
    /// The template text, or what was sent once it went out.
    pub text: String,
    /// Facts for the AI-written note (`commentary::NoteContext`), when this post is one.
    pub ai_context_json: Option<String>,
    pub status: PostStatus,
    pub attempts: i64,
    pub message_id: Option<i64>,
    pub error: Option<String>,
    pub due_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

const POST_COLUMNS: &str = "id, tenant_id, post_key, kind, signal_id, reply_to_key, text, ai_context_json, status, attempts, message_id, error, due_at, created_at, updated_at";

/// Enqueue a post; an existing `post_key` wins (returns false).
pub async fn insert_post(tx: &mut Tx, p: &PostRow) -> DbResult<bool> {
    let sql = format!(
        "INSERT INTO forex_posts ({POST_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
         ON CONFLICT (tenant_id, post_key) DO NOTHING"
    );
    let added = on_tx!(tx, conn => sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&p.id).bind(&p.tenant_id).bind(&p.post_key).bind(&p.kind).bind(&p.signal_id)
        .bind(&p.reply_to_key).bind(&p.text).bind(&p.ai_context_json).bind(p.status).bind(p.attempts).bind(p.message_id)
        .bind(&p.error).bind(p.due_at).bind(p.created_at).bind(p.updated_at)
        .execute(&mut **conn).await.affected())?;
    Ok(added == 1)
}

/// Pending posts due by `now`, across workspaces, oldest first (the leader's poster).
pub async fn due_posts(db: &Db, now: i64, limit: i64) -> DbResult<Vec<PostRow>> {
    let sql = format!(
        "SELECT {POST_COLUMNS} FROM forex_posts WHERE status = 'pending' AND due_at <= $1 ORDER BY due_at, created_at, post_key LIMIT $2"
    );
    Ok(
        on_pool!(db, pool => sqlx::query_as::<_, PostRow>(sqlx::AssertSqlSafe(sql))
        .bind(now).bind(limit).fetch_all(pool).await)?,
    )
}

/// Posts left `sending` by a runner that died: they may have gone out, so never again.
pub async fn mark_stale_sending_uncertain(db: &Db, before: i64, now: i64) -> DbResult<u64> {
    Ok(on_pool!(db, pool => sqlx::query(
        "UPDATE forex_posts SET status = 'uncertain', error = 'the process stopped while this was being sent; not resent', updated_at = $2 \
         WHERE status = 'sending' AND updated_at < $1"
    ).bind(before).bind(now).execute(pool).await.affected())?)
}

/// Claim a pending post for sending with the text that will go out (committed before the
/// request). False: someone else has it.
pub async fn mark_sending(
    db: &Db,
    tenant_id: &str,
    id: &str,
    text: &str,
    now: i64,
) -> DbResult<bool> {
    let n = on_pool!(db, pool => sqlx::query(
        "UPDATE forex_posts SET status = 'sending', text = $3, attempts = attempts + 1, updated_at = $4 \
         WHERE tenant_id = $1 AND id = $2 AND status = 'pending'"
    ).bind(tenant_id).bind(id).bind(text).bind(now).execute(pool).await.affected())?;
    Ok(n == 1)
}

pub async fn finish_post(
    db: &Db,
    tenant_id: &str,
    id: &str,
    status: PostStatus,
    message_id: Option<i64>,
    error: Option<&str>,
    now: i64,
) -> DbResult<u64> {
    Ok(on_pool!(db, pool => sqlx::query(
        "UPDATE forex_posts SET status = $3, message_id = $4, error = $5, updated_at = $6 WHERE tenant_id = $1 AND id = $2"
    ).bind(tenant_id).bind(id).bind(status).bind(message_id).bind(error).bind(now)
        .execute(pool).await.affected())?)
}

/// Back to pending for a later try (Telegram down, rate limited, no bot connected yet).
pub async fn retry_post_at(
    db: &Db,
    tenant_id: &str,
    id: &str,
    due_at: i64,
    error: &str,
    now: i64,
) -> DbResult<u64> {
    Ok(on_pool!(db, pool => sqlx::query(
        "UPDATE forex_posts SET status = 'pending', due_at = $3, error = $4, updated_at = $5 WHERE tenant_id = $1 AND id = $2"
    ).bind(tenant_id).bind(id).bind(due_at).bind(error).bind(now).execute(pool).await.affected())?)
}

pub async fn message_id_of(db: &Db, tenant_id: &str, post_key: &str) -> DbResult<Option<i64>> {
    Ok(on_pool!(db, pool => sqlx::query_scalar::<_, Option<i64>>(
        "SELECT message_id FROM forex_posts WHERE tenant_id = $1 AND post_key = $2"
    ).bind(tenant_id).bind(post_key).fetch_optional(pool).await)?
    .flatten())
}

//! The broadcast job: sends one broadcast through the tenant's bot at the broadcast's rate,
//! recording each recipient in the ledger before and after its request (docs/broadcasts.md).
//!
//! Crash safety: a row is marked `sending` (committed) before its request goes out and gets
//! its outcome right after. A runner that dies leaves at most its in-flight rows `sending`; the
//! next runner marks those `uncertain` and never sends them again, then carries on with the
//! `pending` rows. So nobody is sent the message twice by a restart, and nobody is dropped
//! silently: every row ends sent, blocked, failed, uncertain or cancelled.
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::repo;
use super::service::{JOB_KIND, Message};
use crate::db::Db;
use crate::http::AppState;
use crate::integrations::telegram::{BotClient, TelegramError};
use crate::time::Clock;
use crate::workers::jobs::{JobContext, JobHandler, JobOutcome};

/// Requests in flight at once (latency must not lower the rate).
const MAX_IN_FLIGHT: usize = 64;
/// Pending rows read per query.
const PAGE: i64 = 500;
/// How often the sender re-reads the broadcast's status (pause / cancel).
const CONTROL_EVERY: Duration = Duration::from_millis(200);
/// 429s one recipient may get before it is marked failed.
const MAX_RATE_LIMITED: u32 = 8;
/// 5xx answers one recipient may get before it is marked failed.
const MAX_SERVER_RETRIES: u32 = 3;

/// Paces sends at a fixed rate, and holds everything while Telegram's `retry_after` runs.
struct Pacer {
    interval: Duration,
    next: Mutex<Instant>,
    hold_until: Mutex<Option<Instant>>,
}

impl Pacer {
    fn new(rate_per_sec: f64) -> Self {
        Self {
            interval: Duration::from_secs_f64(1.0 / rate_per_sec.max(0.01)),
            next: Mutex::new(Instant::now()),
            hold_until: Mutex::new(None),
        }
    }

    /// Wait for the next send slot; a hold that starts meanwhile is honoured before returning.
    async fn wait(&self) {
        loop {
            let hold = *self.hold_until.lock().expect("pacer lock");
            if let Some(until) = hold
                && until > Instant::now()
            {
                tokio::time::sleep_until(until).await;
                continue;
            }
            let at = {
                let mut next = self.next.lock().expect("pacer lock");
                // After a hold, start again from now rather than bursting to catch up.
                let at = (*next).max(Instant::now() - self.interval);
                *next = at + self.interval;
                at
            };
            tokio::time::sleep_until(at).await;
            let held = self
                .hold_until
                .lock()
                .expect("pacer lock")
                .is_some_and(|until| until > Instant::now());
            if !held {
                return;
            }
        }
    }

    /// Telegram said "retry after `secs`": nobody sends until then.
    fn hold(&self, secs: u64) {
        let until = Instant::now() + Duration::from_secs(secs.max(1));
        let mut hold = self.hold_until.lock().expect("pacer lock");
        if hold.is_none_or(|h| h < until) {
            *hold = Some(until);
        }
    }
}

/// The JSON parameters of the message, without `chat_id`.
pub fn request_body(message: &Message) -> (&'static str, Value) {
    let mut params = match &message.photo {
        Some(photo) => json!({"photo": photo, "caption": message.text}),
        None => json!({"text": message.text}),
    };
    if let Some(mode) = message.parse_mode {
        params["parse_mode"] = json!(mode.telegram_name());
    }
    if !message.buttons.is_empty() {
        let rows: Vec<Vec<Value>> = message
            .buttons
            .iter()
            .map(|row| {
                row.iter()
                    .map(|b| json!({"text": b.text.trim(), "url": b.url.trim()}))
                    .collect()
            })
            .collect();
        params["reply_markup"] = json!({"inline_keyboard": rows});
    }
    let method = if message.photo.is_some() {
        "sendPhoto"
    } else {
        "sendMessage"
    };
    (method, params)
}

pub struct BroadcastSender;

impl JobHandler for BroadcastSender {
    fn kind(&self) -> &'static str {
        JOB_KIND
    }

    async fn run(&self, state: &AppState, ctx: &JobContext) -> anyhow::Result<JobOutcome> {
        let payload = ctx.job.payload_json();
        let id = payload["broadcast_id"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("broadcast job without broadcast_id"))?
            .to_owned();
        let tenant_id = ctx
            .job
            .tenant_id
            .clone()
            .ok_or_else(|| anyhow::anyhow!("broadcast job without tenant"))?;
        run_broadcast(state, ctx, &tenant_id, &id).await
    }

    async fn after_parked(&self, state: &AppState, ctx: &JobContext) -> anyhow::Result<()> {
        // Resumed between our last look and the park: wake the job again.
        let payload = ctx.job.payload_json();
        if let Some(id) = payload["broadcast_id"].as_str()
            && repo::status_of(&state.db, id).await?.as_deref() == Some("queued")
        {
            let mut tx = state.db.begin().await?;
            crate::workers::jobs::requeue(&mut tx, &ctx.job_key(), state.clock.now()).await?;
            tx.commit().await?;
        }
        Ok(())
    }
}

enum Stop {
    Finished,
    Paused,
    Cancelled,
    ClaimLost,
}

async fn run_broadcast(
    state: &AppState,
    ctx: &JobContext,
    tenant_id: &str,
    id: &str,
) -> anyhow::Result<JobOutcome> {
    let db = &state.db;
    let clock = &state.clock;
    let Some(row) = repo::get(db, tenant_id, id).await? else {
        return Ok(JobOutcome::Done);
    };
    match row.status.as_str() {
        "cancelled" => {
            repo::mark_in_flight_uncertain(db, id, clock.now()).await?;
            repo::cancel_pending(db, id, clock.now()).await?;
            return Ok(JobOutcome::Cancelled);
        }
        "paused" => return Ok(JobOutcome::Parked),
        "completed" | "failed" => return Ok(JobOutcome::Done),
        _ => {}
    }
    let uncertain = repo::mark_in_flight_uncertain(db, id, clock.now()).await?;
    if uncertain > 0 {
        tracing::warn!(broadcast = %id, uncertain, "resumed after a crash; rows in flight marked uncertain");
    }
    let Some(bot) = state
        .telegram
        .bot_for_tenant(tenant_id)
        .await
        .map_err(|e| anyhow::anyhow!("loading the tenant's bot: {e}"))?
    else {
        repo::set_error(
            db,
            id,
            "no Telegram bot is configured for this workspace",
            clock.now(),
        )
        .await?;
        repo::transition(
            db,
            tenant_id,
            id,
            &["queued", "running"],
            "failed",
            clock.now(),
        )
        .await?;
        return Ok(JobOutcome::Done);
    };
    repo::transition(
        db,
        tenant_id,
        id,
        &["queued", "running"],
        "running",
        clock.now(),
    )
    .await?;
    tracing::info!(broadcast = %id, recipients = row.recipients, rate = row.rate_per_sec, "broadcast sending");
    let message = Message::from_row(&row);
    let (method, params) = request_body(&message);
    let sending = Arc::new(Sending {
        db: db.clone(),
        clock: clock.clone(),
        client: bot.client.clone(),
        tenant_id: tenant_id.to_owned(),
        broadcast_id: id.to_owned(),
        method,
        params,
        pacer: Pacer::new(row.rate_per_sec),
    });
    loop {
        let stop = dispatch(&sending, ctx).await?;
        let now = clock.now();
        match stop {
            Stop::ClaimLost => return Ok(JobOutcome::Done),
            Stop::Cancelled => {
                repo::cancel_pending(db, id, now).await?;
                return Ok(JobOutcome::Cancelled);
            }
            Stop::Paused => {
                // Resumed while the in-flight sends drained: carry on.
                if repo::status_of(db, id).await?.as_deref() == Some("queued") {
                    repo::transition(db, tenant_id, id, &["queued"], "running", now).await?;
                    continue;
                }
                tracing::info!(broadcast = %id, "broadcast paused");
                return Ok(JobOutcome::Parked);
            }
            Stop::Finished => {
                if repo::transition(db, tenant_id, id, &["running"], "completed", now).await? {
                    tracing::info!(broadcast = %id, "broadcast completed");
                    return Ok(JobOutcome::Done);
                }
                // Paused or cancelled right as the last row went out.
                match repo::status_of(db, id).await?.as_deref() {
                    Some("paused") => return Ok(JobOutcome::Parked),
                    Some("cancelled") => return Ok(JobOutcome::Cancelled),
                    _ => return Ok(JobOutcome::Done),
                }
            }
        }
    }
}

struct Sending {
    db: Db,
    clock: Clock,
    client: BotClient,
    tenant_id: String,
    broadcast_id: String,
    method: &'static str,
    params: Value,
    pacer: Pacer,
}

/// Send every pending row until none is left or the broadcast was paused or cancelled; waits
/// for the requests in flight before it returns.
async fn dispatch(sending: &Arc<Sending>, ctx: &JobContext) -> anyhow::Result<Stop> {
    let limit = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let mut tasks = JoinSet::new();
    let mut cursor = i64::MIN;
    let mut checked = Instant::now();
    let mut stop = Stop::Finished;
    'pages: loop {
        let page = repo::next_pending(&sending.db, &sending.broadcast_id, cursor, PAGE).await?;
        if page.is_empty() {
            break;
        }
        for user_id in page {
            cursor = user_id;
            if ctx.claim_lost() {
                stop = Stop::ClaimLost;
                break 'pages;
            }
            // Slow broadcasts look before every send (a pause stops the very next one), fast
            // ones every CONTROL_EVERY (a status read per send would cap the rate).
            let control_every = if sending.pacer.interval >= Duration::from_millis(50) {
                Duration::ZERO
            } else {
                CONTROL_EVERY
            };
            if checked.elapsed() >= control_every {
                checked = Instant::now();
                match repo::status_of(&sending.db, &sending.broadcast_id)
                    .await?
                    .as_deref()
                {
                    Some("paused") => {
                        stop = Stop::Paused;
                        break 'pages;
                    }
                    Some("cancelled") | None => {
                        stop = Stop::Cancelled;
                        break 'pages;
                    }
                    _ => {}
                }
            }
            sending.pacer.wait().await;
            let permit = limit.clone().acquire_owned().await?;
            let sending = sending.clone();
            tasks.spawn(async move {
                let result = send_one(&sending, user_id).await;
                drop(permit);
                result
            });
            while let Some(done) = tasks.try_join_next() {
                done??;
            }
        }
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    Ok(stop)
}

async fn send_one(sending: &Sending, user_id: i64) -> anyhow::Result<()> {
    let db = &sending.db;
    let id = &sending.broadcast_id;
    if !repo::mark_sending(db, id, user_id, sending.clock.now()).await? {
        return Ok(());
    }
    let mut params = sending.params.clone();
    params["chat_id"] = json!(user_id);
    let mut rate_limited = 0;
    let mut server_errors = 0;
    loop {
        let result = sending
            .client
            .call_once::<crate::integrations::telegram::types::Message>(
                sending.method,
                params.clone(),
                Some(user_id),
            )
            .await;
        let now = sending.clock.now();
        let (status, error, message_id) = match result {
            Ok(message) => ("sent", None, Some(message.message_id)),
            Err(TelegramError::Blocked { description }) => {
                repo::mark_user_blocked(db, &sending.tenant_id, user_id, now).await?;
                ("blocked", Some(description), None)
            }
            // A 429 means Telegram did not deliver it: everyone waits `retry_after`, then this
            // row goes again (cannot duplicate).
            Err(TelegramError::RetryAfter { secs }) if rate_limited < MAX_RATE_LIMITED => {
                rate_limited += 1;
                metrics::counter!("broadcast_rate_limited_total").increment(1);
                tracing::info!(broadcast = %id, retry_after = secs, "Telegram asked the broadcast to slow down");
                sending.pacer.hold(secs);
                sending.pacer.wait().await;
                continue;
            }
            // Telegram's 5xx answers mean the request was not processed; retry a few times.
            Err(TelegramError::Server { .. }) if server_errors < MAX_SERVER_RETRIES => {
                server_errors += 1;
                tokio::time::sleep(Duration::from_millis(250 << server_errors)).await;
                sending.pacer.wait().await;
                continue;
            }
            // The request may have reached Telegram: resending could duplicate it.
            Err(err @ TelegramError::Network(_)) => (
                "uncertain",
                Some(format!("{err}; not resent to avoid a duplicate")),
                None,
            ),
            Err(err) => ("failed", Some(err.to_string()), None),
        };
        metrics::counter!("broadcast_messages_total", "outcome" => status).increment(1);
        repo::mark_result(db, id, user_id, status, error.as_deref(), message_id, now).await?;
        return Ok(());
    }
}

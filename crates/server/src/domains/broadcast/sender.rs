//! The broadcast job: sends one broadcast through the tenant's bot at the broadcast's rate,
//! recording each recipient in the ledger before and after its request (docs/broadcasts.md).
//!
//! Crash safety: a row is marked `sending` (committed) before its request goes out and gets
//! its outcome after. A runner that dies leaves at most its in-flight rows `sending` (never more
//! than [`MAX_IN_FLIGHT`]); the next runner marks those `uncertain` and never sends them again,
//! then carries on with the `pending` rows. So nobody is sent the message twice by a restart, and
//! nobody is dropped silently: every row ends sent, blocked, failed, uncertain or cancelled.
//!
//! Holding the rate whatever the database's latency: sends follow an absolute schedule (send k
//! is due at t0 + k / rate), up to [`MAX_IN_FLIGHT`] run at once, and their ledger writes go
//! through one writer that commits everything queued meanwhile in one transaction (group
//! commit), so a slow commit makes batches bigger instead of sends later. The broadcast's status
//! (pause / cancel) and its pending rows are read by background tasks, off the schedule's path.
use super::repo::{BroadcastState, RecipientStatus};
use crate::ids::TenantId;
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::{Semaphore, mpsc, oneshot, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::repo;
use super::service::{JOB_KIND, Message};
use crate::db::Db;
use crate::integrations::telegram::{BotClient, TelegramError};
use crate::state::AppState;
use crate::time::Clock;
use crate::workers::jobs::{JobContext, JobHandler, JobOutcome};

/// Sends in flight at once. A row counts from its `sending` commit until its outcome is
/// committed, so this also bounds the rows a crash can leave `uncertain` (in practice about
/// rate × (claim lead + request latency + a commit): one or two at 30 msg/s).
pub const MAX_IN_FLIGHT: usize = 64;
/// A row is claimed (`sending` committed) twice the recent claim latency before its slot,
/// within these bounds, so the commit does not delay its request (it still must commit first:
/// a slower commit makes it late) while few rows wait `sending` ahead of their request.
const CLAIM_LEAD: (Duration, Duration) = (Duration::from_millis(5), Duration::from_millis(50));
/// Pending rows read per query.
const PAGE: i64 = 500;
/// How often the broadcast's status is re-read (pause / cancel take effect within this).
const CONTROL_EVERY: Duration = Duration::from_millis(100);
/// How far behind its schedule the sender may fall and still catch up (a late timer, a busy
/// moment), rounded down to whole intervals and at least one. Further behind (a 429 hold, a
/// pause, a long stall) the schedule restarts from now, so catching up never bursts more than
/// this much.
const MAX_LAG: Duration = Duration::from_millis(40);
/// Ledger writes committed in one transaction at most.
const MAX_BATCH: usize = 256;
/// 429s one recipient may get before it is marked failed.
const MAX_RATE_LIMITED: u32 = 8;
/// 5xx answers one recipient may get before it is marked failed.
const MAX_SERVER_RETRIES: u32 = 3;

/// Paces sends on an absolute schedule, and holds everything while Telegram's `retry_after`
/// runs.
struct Pacer {
    interval: Duration,
    max_lag: Duration,
    state: Mutex<PacerState>,
}

struct PacerState {
    /// When the next slot is due.
    next: Instant,
    hold_until: Option<Instant>,
    /// The latest departure handed out to a late request.
    last_late: Instant,
}

impl Pacer {
    fn new(rate_per_sec: f64) -> Self {
        let interval = Duration::from_secs_f64(1.0 / rate_per_sec.max(0.01));
        let slots = (MAX_LAG.as_secs_f64() / interval.as_secs_f64())
            .floor()
            .max(1.0);
        Self {
            interval,
            max_lag: interval.mul_f64(slots),
            state: Mutex::new(PacerState {
                next: Instant::now(),
                hold_until: None,
                last_late: Instant::now(),
            }),
        }
    }

    /// Take the next send slot, returning `lead` before it is due, with its due time. Slots are
    /// due at fixed intervals from the schedule's start, so a late wake-up does not push later
    /// slots back (no drift). A slot that a hold overlaps is given up for one after the hold.
    async fn slot(&self, lead: Duration) -> Instant {
        loop {
            let slot = {
                let mut state = self.state.lock().expect("pacer lock");
                let now = Instant::now();
                match state.hold_until.filter(|until| *until > now) {
                    Some(until) => Err(until),
                    None => {
                        if state.next + self.max_lag < now {
                            state.next = now;
                        }
                        let at = state.next;
                        state.next = at + self.interval;
                        Ok(at)
                    }
                }
            };
            match slot {
                Err(until) => tokio::time::sleep_until(until).await,
                Ok(at) => {
                    tokio::time::sleep_until(at.checked_sub(lead).unwrap_or(at)).await;
                    if !self.held() {
                        return at;
                    }
                }
            }
        }
    }

    /// Wait until a claimed row due at `due` may go out; false when a hold is on (the row then
    /// takes a new slot after it). Rows whose claims came back late leave at once, but half an
    /// interval apart, so a stalled commit releases them at no more than twice the rate.
    async fn depart(&self, due: Instant) -> bool {
        let at = {
            let mut state = self.state.lock().expect("pacer lock");
            let now = Instant::now();
            if state.hold_until.is_some_and(|until| until > now) {
                return false;
            }
            if due >= now {
                due
            } else {
                let at = now.max(state.last_late + self.interval / 2);
                state.last_late = at;
                at
            }
        };
        tokio::time::sleep_until(at).await;
        !self.held()
    }

    fn held(&self) -> bool {
        let state = self.state.lock().expect("pacer lock");
        state.hold_until.is_some_and(|until| until > Instant::now())
    }

    /// Telegram said "retry after `secs`": nobody sends until then, and the schedule restarts
    /// there.
    fn hold(&self, secs: u64) {
        let until = Instant::now() + Duration::from_secs(secs.max(1));
        let mut state = self.state.lock().expect("pacer lock");
        if state.hold_until.is_none_or(|h| h < until) {
            state.hold_until = Some(until);
        }
        state.next = state.next.max(until);
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
            .as_deref()
            .map(TenantId::parse)
            .ok_or_else(|| anyhow::anyhow!("broadcast job without tenant"))??;
        run_broadcast(state, ctx, &tenant_id, &id).await
    }

    async fn after_parked(&self, state: &AppState, ctx: &JobContext) -> anyhow::Result<()> {
        // Resumed between our last look and the park: wake the job again.
        let payload = ctx.job.payload_json();
        if let Some(id) = payload["broadcast_id"].as_str()
            && let Some(Ok(tenant_id)) = ctx.job.tenant_id.as_deref().map(TenantId::parse)
            && repo::status_of(&state.db, &tenant_id, id).await? == Some(BroadcastState::Queued)
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
    /// Telegram answered 401: the token was revoked; nothing more can be sent with it.
    TokenRejected,
}

async fn run_broadcast(
    state: &AppState,
    ctx: &JobContext,
    tenant_id: &TenantId,
    id: &str,
) -> anyhow::Result<JobOutcome> {
    let db = &state.db;
    let clock = &state.clock;
    let Some(row) = repo::get(db, tenant_id, id).await? else {
        return Ok(JobOutcome::Done);
    };
    match row.status {
        BroadcastState::Cancelled => {
            repo::mark_in_flight_uncertain(db, tenant_id, id, clock.now()).await?;
            repo::cancel_pending(db, tenant_id, id, clock.now()).await?;
            return Ok(JobOutcome::Cancelled);
        }
        BroadcastState::Paused => return Ok(JobOutcome::Parked),
        BroadcastState::Completed | BroadcastState::Failed => return Ok(JobOutcome::Done),
        BroadcastState::Queued | BroadcastState::Running => {}
    }
    let uncertain = repo::mark_in_flight_uncertain(db, tenant_id, id, clock.now()).await?;
    if uncertain > 0 {
        tracing::warn!(broadcast = %id, uncertain, "resumed after a crash; rows in flight marked uncertain");
    }
    // The workspace's Coupon Bot, through the one resolver every domain uses.
    let bot = match state
        .connections
        .resolver()
        .credentials(tenant_id, crate::domains::connections::BotRole::CouponBot)
        .await
    {
        Ok(bot) => Some(bot),
        Err(e @ crate::domains::error::DomainError::Conflict { .. }) => {
            tracing::warn!(broadcast = %id, error = %e, "broadcast has no bot to send with");
            None
        }
        Err(e) => return Err(anyhow::anyhow!("loading the workspace's bot: {e}")),
    };
    let Some(bot) = bot else {
        repo::set_error(
            db,
            tenant_id,
            id,
            "no Coupon Bot is connected: connect a Coupon Bot under Settings → Connections",
            clock.now(),
        )
        .await?;
        repo::transition(
            db,
            tenant_id,
            id,
            &[BroadcastState::Queued, BroadcastState::Running],
            BroadcastState::Failed,
            clock.now(),
        )
        .await?;
        return Ok(JobOutcome::Done);
    };
    repo::transition(
        db,
        tenant_id,
        id,
        &[BroadcastState::Queued, BroadcastState::Running],
        BroadcastState::Running,
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
        claim_micros: AtomicU64::new(10_000),
        token_rejected: std::sync::atomic::AtomicBool::new(false),
    });
    loop {
        let stop = dispatch(&sending, ctx).await?;
        let now = clock.now();
        match stop {
            Stop::ClaimLost => return Ok(JobOutcome::Done),
            // Pause (the rows not sent stay pending) and mark the connection, so every domain
            // stops using the token; resuming after the bot is connected again carries on.
            Stop::TokenRejected => {
                state
                    .connections
                    .resolver()
                    .token_rejected(tenant_id, crate::domains::connections::BotRole::CouponBot)
                    .await
                    .map_err(|e| anyhow::anyhow!("marking the rejected token: {e}"))?;
                repo::set_error(
                    db,
                    tenant_id,
                    id,
                    "Telegram rejected the Coupon Bot's token (401): connect the bot again under Settings → Connections, then resume this broadcast",
                    now,
                )
                .await?;
                repo::transition(
                    db,
                    tenant_id,
                    id,
                    &[BroadcastState::Running, BroadcastState::Queued],
                    BroadcastState::Paused,
                    now,
                )
                .await?;
                tracing::warn!(broadcast = %id, "broadcast paused: the bot token was rejected");
                return Ok(JobOutcome::Parked);
            }
            Stop::Cancelled => {
                repo::cancel_pending(db, tenant_id, id, now).await?;
                return Ok(JobOutcome::Cancelled);
            }
            Stop::Paused => {
                // Resumed while the in-flight sends drained: carry on.
                if repo::status_of(db, tenant_id, id).await? == Some(BroadcastState::Queued) {
                    repo::transition(
                        db,
                        tenant_id,
                        id,
                        &[BroadcastState::Queued],
                        BroadcastState::Running,
                        now,
                    )
                    .await?;
                    continue;
                }
                tracing::info!(broadcast = %id, "broadcast paused");
                return Ok(JobOutcome::Parked);
            }
            Stop::Finished => {
                if repo::transition(
                    db,
                    tenant_id,
                    id,
                    &[BroadcastState::Running],
                    BroadcastState::Completed,
                    now,
                )
                .await?
                {
                    tracing::info!(broadcast = %id, "broadcast completed");
                    return Ok(JobOutcome::Done);
                }
                // Paused or cancelled right as the last row went out.
                match repo::status_of(db, tenant_id, id).await? {
                    Some(BroadcastState::Paused) => return Ok(JobOutcome::Parked),
                    Some(BroadcastState::Cancelled) => return Ok(JobOutcome::Cancelled),
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
    tenant_id: TenantId,
    broadcast_id: String,
    method: &'static str,
    params: Value,
    pacer: Pacer,
    /// Moving average of how long a claim takes to commit, in µs.
    claim_micros: AtomicU64,
    /// Set by the first 401: the dispatcher stops claiming rows.
    token_rejected: std::sync::atomic::AtomicBool,
}

impl Sending {
    fn claim_lead(&self) -> Duration {
        (Duration::from_micros(self.claim_micros.load(Ordering::Relaxed)) * 2)
            .clamp(CLAIM_LEAD.0, CLAIM_LEAD.1)
    }

    fn claim_took(&self, took: Duration) {
        let old = self.claim_micros.load(Ordering::Relaxed);
        let sample = u64::try_from(took.as_micros()).unwrap_or(u64::MAX / 8);
        self.claim_micros
            .store(old - old / 8 + sample / 8, Ordering::Relaxed);
    }
}

/// What the broadcast's status says the sender should do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Control {
    Run,
    Pause,
    Cancel,
}

/// Re-read the broadcast's status every [`CONTROL_EVERY`] in the background.
fn watch_control(
    background: &mut JoinSet<()>,
    db: Db,
    tenant_id: TenantId,
    id: String,
) -> watch::Receiver<Control> {
    let (tx, rx) = watch::channel(Control::Run);
    background.spawn(async move {
        loop {
            match repo::status_of(&db, &tenant_id, &id).await {
                Ok(status) => {
                    let control = match status {
                        Some(BroadcastState::Paused) => Control::Pause,
                        Some(BroadcastState::Cancelled) | None => Control::Cancel,
                        _ => Control::Run,
                    };
                    if tx.send(control).is_err() {
                        return;
                    }
                }
                // Transient: the ledger writer reports a database that stays down.
                Err(err) => {
                    tracing::warn!(broadcast = %id, "reading the broadcast's status: {err}")
                }
            }
            tokio::time::sleep(CONTROL_EVERY).await;
        }
    });
    rx
}

/// Page through the pending rows in the background, about a page ahead of the sender.
fn read_pending(
    background: &mut JoinSet<()>,
    db: Db,
    tenant_id: TenantId,
    id: String,
) -> mpsc::Receiver<anyhow::Result<i64>> {
    let (tx, rx) = mpsc::channel(PAGE as usize);
    background.spawn(async move {
        let mut cursor = i64::MIN;
        loop {
            let page = match repo::next_pending(&db, &tenant_id, &id, cursor, PAGE).await {
                Ok(page) if page.is_empty() => return,
                Ok(page) => page,
                Err(err) => {
                    let _ = tx.send(Err(err.into())).await;
                    return;
                }
            };
            for user_id in page {
                cursor = user_id;
                if tx.send(Ok(user_id)).await.is_err() {
                    return;
                }
            }
        }
    });
    rx
}

/// How one send ended, for the ledger.
struct Outcome {
    user_id: i64,
    status: RecipientStatus,
    error: Option<String>,
    message_id: Option<i64>,
    /// A 403: the user blocked the bot.
    blocked: bool,
}

enum LedgerOp {
    Claim {
        user_id: i64,
        reply: oneshot::Sender<bool>,
    },
    Record {
        outcome: Outcome,
        reply: oneshot::Sender<()>,
    },
}

/// The ledger's single writer: every claim and outcome queued while a transaction commits goes
/// into the next one (group commit). Each caller still waits for its own write to be durable.
#[derive(Clone)]
struct Ledger {
    ops: mpsc::UnboundedSender<LedgerOp>,
}

impl Ledger {
    fn start(sending: &Sending) -> (Ledger, tokio::task::JoinHandle<anyhow::Result<()>>) {
        let (ops, rx) = mpsc::unbounded_channel();
        let writer = tokio::spawn(write_ledger(
            sending.db.clone(),
            sending.clock.clone(),
            sending.tenant_id.clone(),
            sending.broadcast_id.clone(),
            rx,
        ));
        (Ledger { ops }, writer)
    }

    /// Mark the row `sending`, durably; false if it is no longer pending.
    async fn claim(&self, user_id: i64) -> anyhow::Result<bool> {
        let (reply, answer) = oneshot::channel();
        self.ops
            .send(LedgerOp::Claim { user_id, reply })
            .map_err(|_| anyhow::anyhow!("the ledger writer stopped"))?;
        answer
            .await
            .map_err(|_| anyhow::anyhow!("the ledger writer stopped"))
    }

    /// Record the outcome, durably.
    async fn record(&self, outcome: Outcome) -> anyhow::Result<()> {
        let (reply, answer) = oneshot::channel();
        self.ops
            .send(LedgerOp::Record { outcome, reply })
            .map_err(|_| anyhow::anyhow!("the ledger writer stopped"))?;
        answer
            .await
            .map_err(|_| anyhow::anyhow!("the ledger writer stopped"))
    }
}

async fn write_ledger(
    db: Db,
    clock: Clock,
    tenant_id: TenantId,
    id: String,
    mut rx: mpsc::UnboundedReceiver<LedgerOp>,
) -> anyhow::Result<()> {
    while let Some(first) = rx.recv().await {
        let mut ops = vec![first];
        while ops.len() < MAX_BATCH
            && let Ok(op) = rx.try_recv()
        {
            ops.push(op);
        }
        let claims: Vec<i64> = ops
            .iter()
            .filter_map(|op| match op {
                LedgerOp::Claim { user_id, .. } => Some(*user_id),
                LedgerOp::Record { .. } => None,
            })
            .collect();
        let now = clock.now();
        let mut tx = db.begin().await?;
        let claimed: HashSet<i64> = repo::mark_sending(&mut tx, &tenant_id, &id, &claims, now)
            .await?
            .into_iter()
            .collect();
        let outcomes: Vec<&Outcome> = ops
            .iter()
            .filter_map(|op| match op {
                LedgerOp::Record { outcome, .. } => Some(outcome),
                LedgerOp::Claim { .. } => None,
            })
            .collect();
        let blocked: Vec<i64> = outcomes
            .iter()
            .filter(|o| o.blocked)
            .map(|o| o.user_id)
            .collect();
        repo::mark_users_blocked(&mut tx, &tenant_id, &blocked, now).await?;
        let results: Vec<repo::SendResult<'_>> = outcomes
            .iter()
            .map(|o| repo::SendResult {
                user_id: o.user_id,
                status: o.status,
                error: o.error.as_deref(),
                message_id: o.message_id,
            })
            .collect();
        repo::mark_results(&mut tx, &tenant_id, &id, &results, now).await?;
        tx.commit().await?;
        metrics::histogram!("broadcast_ledger_batch_size").record(ops.len() as f64);
        for op in ops {
            match op {
                LedgerOp::Claim { user_id, reply } => {
                    let _ = reply.send(claimed.contains(&user_id));
                }
                LedgerOp::Record { reply, .. } => {
                    let _ = reply.send(());
                }
            }
        }
    }
    Ok(())
}

/// Send every pending row until none is left or the broadcast was paused or cancelled; waits
/// for the requests in flight (and their ledger writes) before it returns.
async fn dispatch(sending: &Arc<Sending>, ctx: &JobContext) -> anyhow::Result<Stop> {
    let mut background = JoinSet::new();
    let control = watch_control(
        &mut background,
        sending.db.clone(),
        sending.tenant_id.clone(),
        sending.broadcast_id.clone(),
    );
    let mut pending = read_pending(
        &mut background,
        sending.db.clone(),
        sending.tenant_id.clone(),
        sending.broadcast_id.clone(),
    );
    let (ledger, writer) = Ledger::start(sending);
    let limit = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let mut tasks = JoinSet::new();
    let mut failure = None;
    let mut stop = Stop::Finished;
    while let Some(next) = pending.recv().await {
        let user_id = match next {
            Ok(user_id) => user_id,
            Err(err) => {
                failure = Some(err);
                break;
            }
        };
        let permit = limit.clone().acquire_owned().await?;
        let due = sending.pacer.slot(sending.claim_lead()).await;
        if ctx.claim_lost() {
            stop = Stop::ClaimLost;
            break;
        }
        if sending.token_rejected.load(Ordering::Relaxed) {
            stop = Stop::TokenRejected;
            break;
        }
        match *control.borrow() {
            Control::Pause => {
                stop = Stop::Paused;
                break;
            }
            Control::Cancel => {
                stop = Stop::Cancelled;
                break;
            }
            Control::Run => {}
        }
        let sending = sending.clone();
        let ledger = ledger.clone();
        tasks.spawn(async move {
            let result = send_one(&sending, &ledger, user_id, due).await;
            drop(permit);
            result
        });
        while let Some(done) = tasks.try_join_next() {
            if let Err(err) = done.map_err(anyhow::Error::from).and_then(|r| r) {
                failure.get_or_insert(err);
            }
        }
        if failure.is_some() {
            break;
        }
    }
    drop(background);
    while let Some(done) = tasks.join_next().await {
        if let Err(err) = done.map_err(anyhow::Error::from).and_then(|r| r) {
            failure.get_or_insert(err);
        }
    }
    drop(ledger);
    // The writer's own error explains the senders' "writer stopped".
    writer.await??;
    // A 401 on the last rows: they went back to pending, so this is not the end.
    if matches!(stop, Stop::Finished) && sending.token_rejected.load(Ordering::Relaxed) {
        stop = Stop::TokenRejected;
    }
    match failure {
        Some(err) => Err(err),
        None => Ok(stop),
    }
}

async fn send_one(
    sending: &Sending,
    ledger: &Ledger,
    user_id: i64,
    due: Instant,
) -> anyhow::Result<()> {
    let id = &sending.broadcast_id;
    let started = Instant::now();
    if !ledger.claim(user_id).await? {
        return Ok(());
    }
    sending.claim_took(started.elapsed());
    let mut due = due;
    let mut params = sending.params.clone();
    params["chat_id"] = json!(user_id);
    let mut rate_limited = 0;
    let mut server_errors = 0;
    loop {
        while !sending.pacer.depart(due).await {
            due = sending.pacer.slot(Duration::ZERO).await;
        }
        let result = sending
            .client
            .call_once::<crate::integrations::telegram::types::Message>(
                sending.method,
                params.clone(),
                Some(user_id),
            )
            .await;
        let (status, error, message_id) = match result {
            Ok(message) => (RecipientStatus::Sent, None, Some(message.message_id)),
            Err(TelegramError::Blocked { description }) => {
                (RecipientStatus::Blocked, Some(description), None)
            }
            // A 429 means Telegram did not deliver it: everyone waits `retry_after`, then this
            // row goes again (cannot duplicate).
            Err(TelegramError::RetryAfter { secs }) if rate_limited < MAX_RATE_LIMITED => {
                rate_limited += 1;
                metrics::counter!("broadcast_rate_limited_total").increment(1);
                tracing::info!(broadcast = %id, retry_after = secs, "Telegram asked the broadcast to slow down");
                sending.pacer.hold(secs);
                due = sending.pacer.slot(Duration::ZERO).await;
                continue;
            }
            // Telegram's 5xx answers mean the request was not processed; retry a few times.
            Err(TelegramError::Server { .. }) if server_errors < MAX_SERVER_RETRIES => {
                server_errors += 1;
                tokio::time::sleep(Duration::from_millis(250 << server_errors)).await;
                due = sending.pacer.slot(Duration::ZERO).await;
                continue;
            }
            // The request may have reached Telegram: resending could duplicate it.
            Err(err @ TelegramError::Network(_)) => (
                RecipientStatus::Uncertain,
                Some(format!("{err}; not resent to avoid a duplicate")),
                None,
            ),
            // Telegram refused the token, so nothing was delivered: the row goes back to
            // pending for when the broadcast resumes with a working token.
            Err(err @ TelegramError::Unauthorized) => {
                sending.token_rejected.store(true, Ordering::Relaxed);
                (RecipientStatus::Pending, Some(err.to_string()), None)
            }
            Err(err) => (RecipientStatus::Failed, Some(err.to_string()), None),
        };
        metrics::counter!("broadcast_messages_total", "outcome" => status.as_str()).increment(1);
        return ledger
            .record(Outcome {
                user_id,
                status,
                error,
                message_id,
                blocked: status == RecipientStatus::Blocked,
            })
            .await;
    }
}

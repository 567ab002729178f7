//! A durable job queue in the `jobs` table, run on the leader (docs/design.md §9). Any feature
//! enqueues work with an idempotency key (enqueueing twice yields one job) and registers a
//! [`JobHandler`] for its `kind`; [`JobRunner`] is the leader worker that reaps abandoned
//! claims and runs due jobs.
//!
//! Claiming is the only backend-specific SQL: `FOR UPDATE SKIP LOCKED` on PostgreSQL (several
//! runners never block on, or take, the same row), `BEGIN IMMEDIATE` on SQLite (one writer).
//! A claim carries a random token; the runner renews `heartbeat_at` while the handler runs and
//! every write checks the token, so a runner that lost its claim (the reaper handed the job to
//! another) cannot finish it. The reaper re-queues `running` jobs whose heartbeat is older than
//! [`JobTimings::stale_after_ms`] — the process that held them died.
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::Value;

use super::Worker;
use crate::db::{Affected, Db, DbResult, Tx, begin_immediate, new_id};
use crate::state::AppState;
use crate::time::Millis;
use crate::{on_pool, on_tx};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobTimings {
    /// How often a running job's heartbeat is renewed.
    pub heartbeat_every_ms: u64,
    /// A running job whose heartbeat is older than this is considered abandoned.
    pub stale_after_ms: i64,
    /// Back-off before a failed attempt is retried (doubles per attempt).
    pub retry_backoff_ms: i64,
}

impl Default for JobTimings {
    fn default() -> Self {
        Self {
            heartbeat_every_ms: 5_000,
            stale_after_ms: 30_000,
            retry_backoff_ms: 10_000,
        }
    }
}

/// Where a job is in the queue. Status literals in the queue's SQL text are these values'
/// `as_str()` forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    /// Waiting for `run_at` and a runner.
    Queued,
    /// Held by a runner (claim token, heartbeat).
    Running,
    /// Stopped without finishing; not claimable until [`requeue`] wakes it.
    Parked,
    Done,
    Failed,
    Cancelled,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Parked => "parked",
            JobStatus::Done => "done",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "queued" => JobStatus::Queued,
            "running" => JobStatus::Running,
            "parked" => JobStatus::Parked,
            "done" => JobStatus::Done,
            "failed" => JobStatus::Failed,
            "cancelled" => JobStatus::Cancelled,
            _ => return None,
        })
    }
}

crate::text_enum!(JobStatus);

/// What to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: &'static str,
    pub tenant_id: Option<String>,
    pub idempotency_key: String,
    pub payload: Value,
    pub run_at: Millis,
    pub max_attempts: i64,
}

/// A job this runner holds.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedJob {
    pub id: String,
    pub kind: String,
    pub tenant_id: Option<String>,
    pub idempotency_key: String,
    pub payload: String,
    pub attempts: i64,
    pub max_attempts: i64,
    pub claim_token: String,
}

impl ClaimedJob {
    pub fn payload_json(&self) -> Value {
        serde_json::from_str(&self.payload).unwrap_or(Value::Null)
    }
}

/// How a handler's run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    Done,
    /// Stop without finishing; the job waits (not claimable) until [`requeue`] wakes it.
    Parked,
    Cancelled,
}

/// Insert `job` unless one with its idempotency key exists; returns the job id and whether it
/// was created now.
pub async fn enqueue(tx: &mut Tx, job: &NewJob, now: Millis) -> DbResult<(String, bool)> {
    let id = new_id();
    let inserted: Option<String> = on_tx!(tx, conn => sqlx::query_scalar(
        "INSERT INTO jobs (id, tenant_id, kind, idempotency_key, payload, status, run_at, attempts, max_attempts, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 'queued', $6, 0, $7, $8, $8) \
         ON CONFLICT (idempotency_key) DO NOTHING RETURNING id"
    ).bind(&id).bind(&job.tenant_id).bind(job.kind).bind(&job.idempotency_key)
        .bind(job.payload.to_string()).bind(job.run_at).bind(job.max_attempts).bind(now)
        .fetch_optional(&mut **conn).await)?;
    if let Some(id) = inserted {
        return Ok((id, true));
    }
    let existing: String = on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT id FROM jobs WHERE idempotency_key = $1"
    ).bind(&job.idempotency_key).fetch_one(&mut **conn).await)?;
    Ok((existing, false))
}

const CLAIM_RETURNING: &str =
    "RETURNING id, kind, tenant_id, idempotency_key, payload, attempts, max_attempts, claim_token";

/// Claim the next due job for `holder`, if any.
pub async fn claim(db: &Db, holder: &str, now: Millis) -> DbResult<Option<ClaimedJob>> {
    let token = new_id();
    let job = on_pool!(db, pool => sqlite {
        // `begin_immediate` takes the write lock before the SELECT, so two runners cannot pick
        // the same row.
        let mut tx = begin_immediate(pool).await?;
        let sql = format!(
            "UPDATE jobs SET status = 'running', claimed_by = $1, claim_token = $2, heartbeat_at = $3, \
               attempts = attempts + 1, updated_at = $3 \
             WHERE id = (SELECT id FROM jobs WHERE status = 'queued' AND run_at <= $3 \
                         ORDER BY run_at, id LIMIT 1) {CLAIM_RETURNING}"
        );
        let job = sqlx::query_as::<_, ClaimedJob>(sqlx::AssertSqlSafe(sql))
            .bind(holder)
            .bind(&token)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
        tx.commit().await?;
        job
    } postgres {
        let sql = format!(
            "UPDATE jobs SET status = 'running', claimed_by = $1, claim_token = $2, heartbeat_at = $3, \
               attempts = attempts + 1, updated_at = $3 \
             WHERE id = (SELECT id FROM jobs WHERE status = 'queued' AND run_at <= $3 \
                         ORDER BY run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) {CLAIM_RETURNING}"
        );
        sqlx::query_as::<_, ClaimedJob>(sqlx::AssertSqlSafe(sql))
            .bind(holder)
            .bind(&token)
            .bind(now)
            .fetch_optional(pool)
            .await?
    });
    Ok(job)
}

/// Renew the claim; `false` when it is no longer ours.
pub async fn heartbeat(db: &Db, job: &ClaimedJob, now: Millis) -> DbResult<bool> {
    let n = on_pool!(db, pool => sqlx::query(
        "UPDATE jobs SET heartbeat_at = $3, updated_at = $3 WHERE id = $1 AND claim_token = $2 AND status = 'running'"
    ).bind(&job.id).bind(&job.claim_token).bind(now).execute(pool).await.affected())?;
    Ok(n == 1)
}

/// Record the end of a run (only while the claim is still ours).
pub async fn finish(
    db: &Db,
    job: &ClaimedJob,
    result: &Result<JobOutcome, String>,
    timings: JobTimings,
    now: Millis,
) -> DbResult<bool> {
    let (status, run_at, error) = match result {
        Ok(JobOutcome::Done) => (JobStatus::Done, now, None),
        Ok(JobOutcome::Parked) => (JobStatus::Parked, now, None),
        Ok(JobOutcome::Cancelled) => (JobStatus::Cancelled, now, None),
        Err(err) if job.attempts < job.max_attempts => {
            let backoff = timings.retry_backoff_ms << (job.attempts - 1).clamp(0, 10);
            (JobStatus::Queued, now + backoff, Some(err.as_str()))
        }
        Err(err) => (JobStatus::Failed, now, Some(err.as_str())),
    };
    let n = on_pool!(db, pool => sqlx::query(
        "UPDATE jobs SET status = $3, run_at = $4, last_error = $5, claimed_by = NULL, claim_token = NULL, \
           heartbeat_at = NULL, updated_at = $6 WHERE id = $1 AND claim_token = $2"
    ).bind(&job.id).bind(&job.claim_token).bind(status).bind(run_at).bind(error).bind(now)
        .execute(pool).await.affected())?;
    Ok(n == 1)
}

/// Re-queue `running` jobs whose heartbeat stopped; jobs out of attempts fail. Returns how many
/// were re-queued or failed.
pub async fn reap(db: &Db, now: Millis, stale_after_ms: i64) -> DbResult<u64> {
    let cutoff = now - stale_after_ms;
    let n = on_pool!(db, pool => sqlx::query(
        "UPDATE jobs SET \
           status = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END, \
           last_error = 'abandoned: the runner stopped sending heartbeats', \
           claimed_by = NULL, claim_token = NULL, heartbeat_at = NULL, run_at = $2, updated_at = $2 \
         WHERE status = 'running' AND heartbeat_at < $1"
    ).bind(cutoff).bind(now).execute(pool).await.affected())?;
    Ok(n)
}

/// Make a parked (or finished) job due again, e.g. a resumed broadcast.
pub async fn requeue(tx: &mut Tx, idempotency_key: &str, now: Millis) -> DbResult<bool> {
    let n = on_tx!(tx, conn => sqlx::query(
        "UPDATE jobs SET status = 'queued', run_at = $2, attempts = 0, last_error = NULL, updated_at = $2 \
         WHERE idempotency_key = $1 AND status IN ('parked', 'done', 'failed', 'cancelled')"
    ).bind(idempotency_key).bind(now).execute(&mut **conn).await.affected())?;
    Ok(n == 1)
}

/// Park a queued job no runner holds yet (a paused broadcast).
pub async fn park_idle(tx: &mut Tx, idempotency_key: &str, now: Millis) -> DbResult<bool> {
    let n = on_tx!(tx, conn => sqlx::query(
        "UPDATE jobs SET status = 'parked', updated_at = $2 WHERE idempotency_key = $1 AND status = 'queued'"
    ).bind(idempotency_key).bind(now).execute(&mut **conn).await.affected())?;
    Ok(n == 1)
}

/// The payload of the job with this key.
pub async fn payload_by_key(db: &Db, idempotency_key: &str) -> DbResult<Option<Value>> {
    let payload: Option<String> = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT payload FROM jobs WHERE idempotency_key = $1"
    ).bind(idempotency_key).fetch_optional(pool).await)?;
    Ok(payload.and_then(|p| serde_json::from_str(&p).ok()))
}

/// Cancel a job that is not running (a running one is stopped by its handler).
pub async fn cancel_idle(tx: &mut Tx, idempotency_key: &str, now: Millis) -> DbResult<bool> {
    let n = on_tx!(tx, conn => sqlx::query(
        "UPDATE jobs SET status = 'cancelled', updated_at = $2 WHERE idempotency_key = $1 AND status IN ('queued', 'parked')"
    ).bind(idempotency_key).bind(now).execute(&mut **conn).await.affected())?;
    Ok(n == 1)
}

/// Handed to a handler: the job, and a flag that flips when the claim was lost (the handler
/// should stop at its next safe point).
pub struct JobContext {
    pub job: ClaimedJob,
    lost: Arc<AtomicBool>,
}

impl JobContext {
    pub fn claim_lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }

    pub fn job_key(&self) -> String {
        self.job.idempotency_key.clone()
    }
}

/// The code that runs one kind of job.
pub trait JobHandler: Send + Sync + 'static {
    fn kind(&self) -> &'static str;
    fn run(
        &self,
        state: &AppState,
        ctx: &JobContext,
    ) -> impl Future<Output = anyhow::Result<JobOutcome>> + Send;

    /// Called once a `Parked` outcome is recorded: a handler whose job may have been woken
    /// between its decision and the record re-queues it here.
    fn after_parked(
        &self,
        _state: &AppState,
        _ctx: &JobContext,
    ) -> impl Future<Output = anyhow::Result<()>> + Send {
        async { Ok(()) }
    }
}

type RunFuture<'a> =
    std::pin::Pin<Box<dyn Future<Output = anyhow::Result<JobOutcome>> + Send + 'a>>;

type AfterFuture<'a> = std::pin::Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send + 'a>>;

trait DynHandler: Send + Sync {
    fn run<'a>(&'a self, state: &'a AppState, ctx: &'a JobContext) -> RunFuture<'a>;
    fn after_parked<'a>(&'a self, state: &'a AppState, ctx: &'a JobContext) -> AfterFuture<'a>;
}

impl<H: JobHandler> DynHandler for H {
    fn run<'a>(&'a self, state: &'a AppState, ctx: &'a JobContext) -> RunFuture<'a> {
        Box::pin(JobHandler::run(self, state, ctx))
    }
    fn after_parked<'a>(&'a self, state: &'a AppState, ctx: &'a JobContext) -> AfterFuture<'a> {
        Box::pin(JobHandler::after_parked(self, state, ctx))
    }
}

/// The leader worker: each step reaps abandoned claims, then claims and runs due jobs one at a
/// time until none is due. (One job at a time per leader keeps bulk sends within one bot's
/// rate; see docs/broadcasts.md.)
#[derive(Clone, Default)]
pub struct JobRunner {
    handlers: HashMap<&'static str, Arc<dyn DynHandler>>,
}

impl JobRunner {
    pub fn with(mut self, handler: impl JobHandler) -> Self {
        self.handlers.insert(handler.kind(), Arc::new(handler));
        self
    }

    /// Claim and run one due job; `Ok(false)` when none was due.
    pub async fn run_one(&self, state: &AppState) -> anyhow::Result<bool> {
        let timings = state.ctx.config.jobs;
        let Some(job) = claim(&state.db, &state.instance_id, state.clock.now()).await? else {
            return Ok(false);
        };
        let lost = Arc::new(AtomicBool::new(false));
        let ctx = JobContext {
            job: job.clone(),
            lost: lost.clone(),
        };
        let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
        let beat = {
            let db = state.db.clone();
            let clock = state.clock.clone();
            let job = job.clone();
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_millis(timings.heartbeat_every_ms)) => {}
                        _ = stop_rx.changed() => return,
                    }
                    match heartbeat(&db, &job, clock.now()).await {
                        Ok(true) => {}
                        Ok(false) => {
                            tracing::warn!(job = %job.id, "job claim lost; stopping");
                            lost.store(true, Ordering::SeqCst);
                            return;
                        }
                        // A blip: the next beat may succeed well before the claim goes stale.
                        Err(err) => {
                            tracing::warn!(job = %job.id, error = %err, "job heartbeat failed")
                        }
                    }
                }
            })
        };
        let result = match self.handlers.get(job.kind.as_str()) {
            Some(handler) => handler.run(state, &ctx).await.map_err(|e| format!("{e:#}")),
            None => Err(format!("no handler for job kind '{}'", job.kind)),
        };
        let _ = stop_tx.send(true);
        let _ = beat.await;
        if let Err(err) = &result {
            metrics::counter!("job_failures_total", "kind" => job.kind.clone()).increment(1);
            tracing::warn!(job = %job.id, kind = %job.kind, error = %err, "job attempt failed");
        }
        let recorded = finish(&state.db, &job, &result, timings, state.clock.now()).await?;
        if recorded
            && result == Ok(JobOutcome::Parked)
            && let Some(handler) = self.handlers.get(job.kind.as_str())
        {
            handler.after_parked(state, &ctx).await?;
        }
        Ok(true)
    }
}

impl Worker for JobRunner {
    fn name(&self) -> &'static str {
        "jobs"
    }
    fn interval(&self) -> Duration {
        Duration::from_millis(500)
    }
    async fn step(&self, state: &AppState) -> anyhow::Result<()> {
        let timings = state.ctx.config.jobs;
        let reaped = reap(&state.db, state.clock.now(), timings.stale_after_ms).await?;
        if reaped > 0 {
            tracing::warn!(reaped, "re-queued abandoned jobs");
        }
        while self.run_one(state).await? {}
        Ok(())
    }
}

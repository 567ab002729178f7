//! Leader election with a lease row (docs/design.md §9): works on SQLite and PostgreSQL, and behind
//! PgBouncer, unlike session advisory locks. The epoch grows on every takeover and serves as a
//! fencing token.
use std::time::Duration;

use tokio::sync::watch;

use super::{Registry, Worker};
use crate::db::{Affected, Db, DbResult};
use crate::on_pool;
use crate::state::AppState;
use crate::time::Millis;

pub const LEASE_NAME: &str = "workers";

/// Take or renew the lease for `holder`; `Some(epoch)` when we hold it afterwards.
pub async fn try_acquire(
    db: &Db,
    name: &str,
    holder: &str,
    now: Millis,
    ttl_ms: i64,
) -> DbResult<Option<i64>> {
    Ok(on_pool!(db, pool => sqlx::query_scalar::<_, i64>(
        "INSERT INTO leases (name, holder, epoch, expires_at) VALUES ($1, $2, 1, $3) \
         ON CONFLICT (name) DO UPDATE SET \
           epoch = CASE WHEN leases.holder = excluded.holder THEN leases.epoch ELSE leases.epoch + 1 END, \
           holder = excluded.holder, expires_at = excluded.expires_at \
         WHERE leases.holder = excluded.holder OR leases.expires_at < $4 \
         RETURNING epoch"
    ).bind(name).bind(holder).bind(now + ttl_ms).bind(now).fetch_optional(pool).await)?)
}

/// Give the lease up at once (graceful shutdown) so a standby need not wait for expiry.
pub async fn release(db: &Db, name: &str, holder: &str) -> DbResult<()> {
    on_pool!(db, pool => sqlx::query("UPDATE leases SET expires_at = 0 WHERE name = $1 AND holder = $2")
        .bind(name).bind(holder).execute(pool).await.affected())?;
    Ok(())
}

/// Campaign for the lease until `shutdown`; while leader, run the registry's workers.
pub async fn run(state: AppState, registry: Registry, mut shutdown: watch::Receiver<bool>) {
    let timings = state.ctx.config.leader;
    let holder = state.instance_id.clone();
    let mut workers: Option<(watch::Sender<bool>, tokio::task::JoinSet<()>)> = None;
    loop {
        let now = state.clock.now();
        let result = try_acquire(&state.db, LEASE_NAME, &holder, now, timings.ttl_ms).await;
        let leading = match result {
            Ok(Some(epoch)) => {
                if workers.is_none() {
                    tracing::info!(epoch, instance = %holder, "became leader; starting workers");
                    let (stop_tx, stop_rx) = watch::channel(false);
                    workers = Some((stop_tx, registry.spawn_all(&state, stop_rx)));
                    state.leadership.set_running(registry.names());
                }
                state.leadership.set(true, epoch);
                true
            }
            Ok(None) => false,
            Err(err) => {
                tracing::warn!(error = %err, "lease renewal failed");
                false
            }
        };
        if !leading {
            if let Some((stop, mut set)) = workers.take() {
                tracing::warn!(instance = %holder, "lost the leader lease; stopping workers");
                let _ = stop.send(true);
                while set.join_next().await.is_some() {}
            }
            state.leadership.set(false, state.leadership.epoch());
            state.leadership.set_running(Vec::new());
        }
        let wait = if leading {
            timings.renew_every_ms
        } else {
            timings.retry_every_ms
        };
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(wait)) => {}
            _ = shutdown.changed() => break,
        }
    }
    if let Some((stop, mut set)) = workers.take() {
        let _ = stop.send(true);
        while set.join_next().await.is_some() {}
        if let Err(err) = release(&state.db, LEASE_NAME, &holder).await {
            tracing::warn!(error = %err, "could not release the leader lease");
        }
    }
    state.leadership.set(false, state.leadership.epoch());
    state.leadership.set_running(Vec::new());
}

/// Leader-only housekeeping: delete lease rows of other names that expired over a day ago
/// (leases of retired workers), keeping the table small.
pub struct StaleLeasePruner;

impl Worker for StaleLeasePruner {
    fn name(&self) -> &'static str {
        "stale-lease-pruner"
    }
    fn interval(&self) -> Duration {
        Duration::from_secs(3600)
    }
    async fn step(&self, state: &AppState) -> anyhow::Result<()> {
        let cutoff = state.clock.now() - 24 * 3600 * 1000;
        on_pool!(&state.db, pool => sqlx::query("DELETE FROM leases WHERE name <> $1 AND expires_at < $2")
            .bind(LEASE_NAME).bind(cutoff).execute(pool).await.affected())?;
        Ok(())
    }
}

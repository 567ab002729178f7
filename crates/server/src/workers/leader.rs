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
    match campaign(db, name, holder, now, ttl_ms).await? {
        Lease::Held { epoch } => Ok(Some(epoch)),
        Lease::Busy { .. } => Ok(None),
    }
}

/// The outcome of one campaign round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lease {
    /// We hold it (taken or renewed).
    Held { epoch: i64 },
    /// Another instance holds it until `expires_at`: retry then, not on a fixed tick.
    Busy { expires_at: Millis },
}

pub async fn campaign(
    db: &Db,
    name: &str,
    holder: &str,
    now: Millis,
    ttl_ms: i64,
) -> DbResult<Lease> {
    let epoch = on_pool!(db, pool => sqlx::query_scalar::<_, i64>(
        "INSERT INTO leases (name, holder, epoch, expires_at) VALUES ($1, $2, 1, $3) \
         ON CONFLICT (name) DO UPDATE SET \
           epoch = CASE WHEN leases.holder = excluded.holder THEN leases.epoch ELSE leases.epoch + 1 END, \
           holder = excluded.holder, expires_at = excluded.expires_at \
         WHERE leases.holder = excluded.holder OR leases.expires_at < $4 \
         RETURNING epoch"
    ).bind(name).bind(holder).bind(now + ttl_ms).bind(now).fetch_optional(pool).await)?;
    if let Some(epoch) = epoch {
        return Ok(Lease::Held { epoch });
    }
    let expires_at = on_pool!(db, pool => sqlx::query_scalar::<_, i64>(
        "SELECT expires_at FROM leases WHERE name = $1"
    ).bind(name).fetch_optional(pool).await)?;
    Ok(Lease::Busy {
        expires_at: expires_at.unwrap_or(now),
    })
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
        // A renewal that hangs counts as failed, so a leader cut off from the database stops
        // its workers within two renewal periods, before its lease can expire (ttl > 2 renewals).
        let round = tokio::time::timeout(
            Duration::from_millis(timings.renew_every_ms),
            campaign(&state.db, LEASE_NAME, &holder, now, timings.ttl_ms),
        )
        .await;
        let mut busy_until = None;
        let leading = match round {
            Ok(Ok(Lease::Held { epoch })) => {
                if workers.is_none() {
                    tracing::info!(epoch, instance = %holder, "became leader; starting workers");
                    let (stop_tx, stop_rx) = watch::channel(false);
                    workers = Some((stop_tx, registry.spawn_all(&state, stop_rx)));
                    state.leadership.set_running(registry.names());
                }
                state.leadership.set(true, epoch);
                true
            }
            Ok(Ok(Lease::Busy { expires_at })) => {
                busy_until = Some(expires_at);
                false
            }
            Ok(Err(err)) => {
                tracing::warn!(error = %err, "lease renewal failed");
                false
            }
            Err(_) => {
                tracing::warn!("lease renewal timed out");
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
            standby_wait(busy_until, state.clock.now(), timings.retry_every_ms)
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

/// A standby tries again just after the holder's lease expires (so a dead leader is replaced
/// one TTL after its last renewal), at most `max_ms` later (the holder renews meanwhile), and
/// after `max_ms` when the database could not say.
fn standby_wait(busy_until: Option<Millis>, now: Millis, max_ms: u64) -> u64 {
    match busy_until {
        Some(expires_at) => (expires_at - now + 25).clamp(50, max_ms as i64) as u64,
        None => max_ms.min(1_000),
    }
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

#[cfg(test)]
mod tests {
    use super::standby_wait;

    #[test]
    fn standby_retries_at_expiry() {
        assert_eq!(standby_wait(Some(10_000), 4_000, 10_000), 6_025);
        assert_eq!(
            standby_wait(Some(3_000), 4_000, 10_000),
            50,
            "already expired"
        );
        assert_eq!(standby_wait(Some(60_000), 0, 10_000), 10_000, "bounded");
        assert_eq!(standby_wait(None, 0, 10_000), 1_000, "database error: soon");
    }
}

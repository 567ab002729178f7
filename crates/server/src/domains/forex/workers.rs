//! The forex service on the leader: one tick a second (market data, due cycles, posts). The
//! first tick of each leadership marks posts an earlier leader left `sending` as uncertain.
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use crate::state::AppState;
use crate::workers::Worker;

pub struct ForexWorker {
    recovered_epoch: AtomicI64,
}

impl Default for ForexWorker {
    fn default() -> Self {
        ForexWorker {
            recovered_epoch: AtomicI64::new(i64::MIN),
        }
    }
}

impl Worker for ForexWorker {
    fn name(&self) -> &'static str {
        "forex"
    }

    /// The market clock decides what is due; a second keeps a 1-bar-a-second replay smooth.
    fn interval(&self) -> Duration {
        Duration::from_secs(1)
    }

    async fn step(&self, state: &AppState) -> anyhow::Result<()> {
        let epoch = state.leadership.epoch();
        if self.recovered_epoch.swap(epoch, Ordering::SeqCst) != epoch {
            state.forex.recover_posts().await?;
        }
        let report = state.forex.tick().await?;
        if report.events > 0 || report.posts.sent > 0 {
            tracing::info!(
                cycles = report.cycles,
                events = report.events,
                posts_sent = report.posts.sent,
                "forex tick"
            );
        }
        Ok(())
    }
}

//! The process-wide render budget: rendering is CPU and memory heavy (a 16 MP background is a
//! 64 MB pixmap before decoding scratch), so at most `slots` renders run at once and at most
//! `bytes` of estimated pixel memory are in flight. A render waits for its share up to
//! `wait`; past that it is refused with 503 and `retry-after`, so a burst of hostile renders
//! queues or is turned away instead of taking the process to gigabytes (docs/rendering.md).
use std::time::Duration;

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::RenderBudgetConfig;
use crate::domains::error::{DomainError, DomainResult};

const MIB: usize = 1024 * 1024;

pub struct RenderBudget {
    slots: Arc<Semaphore>,
    mebibytes: Arc<Semaphore>,
    total_mib: u32,
    wait: Duration,
}

/// Held while a render runs; its share returns on drop. Owned, so it moves into the blocking
/// task: a client that hangs up does not free the share while the render still runs.
pub struct Admission {
    _slot: OwnedSemaphorePermit,
    _bytes: OwnedSemaphorePermit,
}

impl RenderBudget {
    pub fn new(config: RenderBudgetConfig) -> Self {
        let total_mib = (config.bytes / MIB).clamp(1, u32::MAX as usize) as u32;
        Self {
            slots: Arc::new(Semaphore::new(config.slots.max(1))),
            mebibytes: Arc::new(Semaphore::new(total_mib as usize)),
            total_mib,
            wait: Duration::from_millis(config.wait_ms),
        }
    }

    /// Wait for a slot and `estimate` bytes (a render larger than the whole budget waits for
    /// all of it, so it runs alone).
    pub async fn admit(&self, estimate: usize) -> DomainResult<Admission> {
        let mib = (estimate.div_ceil(MIB) as u64).clamp(1, u64::from(self.total_mib)) as u32;
        let admitted = tokio::time::timeout(self.wait, async {
            let bytes = self.mebibytes.clone().acquire_many_owned(mib).await;
            let slot = self.slots.clone().acquire_owned().await;
            (slot, bytes)
        })
        .await;
        match admitted {
            Ok((Ok(slot), Ok(bytes))) => Ok(Admission {
                _slot: slot,
                _bytes: bytes,
            }),
            Ok(_) => Err(DomainError::internal("render budget closed")),
            Err(_) => {
                metrics::counter!("render_budget_refused_total").increment(1);
                Err(DomainError::Overloaded {
                    retry_after_secs: self.wait.as_secs().clamp(1, 30),
                })
            }
        }
    }
}

/// What a render on a cached background costs (text drawn on a copy, encoder planes).
pub const CACHED_RENDER: usize = 16 * MIB;

/// Estimated peak bytes of rendering a `width`×`height` background with an optional logo of
/// `logo` pixels: decoding (up to 12 bytes a pixel for a 16-bit source), the pixmap, and the
/// encoder's planes.
pub fn estimate(width: u32, height: u32, logo: Option<(u32, u32)>) -> usize {
    let background = u64::from(width) * u64::from(height) * 20;
    let logo = logo.map_or(0, |(w, h)| u64::from(w) * u64::from(h) * 16);
    usize::try_from(background + logo).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn refuses_past_the_wait_and_frees_on_drop() {
        let budget = RenderBudget::new(RenderBudgetConfig {
            slots: 1,
            bytes: 100 * MIB,
            wait_ms: 50,
        });
        let first = budget.admit(10 * MIB).await.unwrap();
        let refused = budget.admit(10 * MIB).await.err().unwrap();
        assert!(matches!(
            refused,
            DomainError::Overloaded {
                retry_after_secs: 1
            }
        ));
        drop(first);
        assert!(
            budget.admit(500 * MIB).await.is_ok(),
            "larger than all: runs alone"
        );
    }
}

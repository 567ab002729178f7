//! Time as unix milliseconds (the portable BIGINT column type) behind a clock tests can set.
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

#[derive(Clone, Debug, Default)]
pub struct Clock {
    fixed: Option<Arc<AtomicI64>>,
}

impl Clock {
    pub fn system() -> Self {
        Self { fixed: None }
    }

    /// A clock that stays at `at` until moved with [`Clock::advance`].
    pub fn fixed(at: Millis) -> Self {
        Self {
            fixed: Some(Arc::new(AtomicI64::new(at))),
        }
    }

    pub fn now(&self) -> Millis {
        match &self.fixed {
            Some(at) => at.load(Ordering::SeqCst),
            None => system_now(),
        }
    }

    pub fn advance(&self, by_ms: i64) {
        if let Some(at) = &self.fixed {
            at.fetch_add(by_ms, Ordering::SeqCst);
        }
    }
}

pub fn system_now() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

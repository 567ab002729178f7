//! Entry attempts per client address: at most `limit` in a fixed window. Every attempt counts,
//! accepted or refused, so the public form cannot be used to probe links or flood the table.
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use crate::time::Millis;

pub struct AttemptLimiter {
    limit: u32,
    window_ms: i64,
    attempts: Mutex<HashMap<IpAddr, (Millis, u32)>>,
}

impl AttemptLimiter {
    pub fn new(limit: u32, window_ms: i64) -> Self {
        Self {
            limit,
            window_ms,
            attempts: Mutex::new(HashMap::new()),
        }
    }

    /// Count one attempt from `ip`; `Err(seconds to wait)` once the window's budget is spent.
    pub fn attempt(&self, ip: IpAddr, now: Millis) -> Result<(), u64> {
        let mut attempts = self.attempts.lock().expect("limiter lock");
        // Bound memory under a spray of addresses: drop expired windows first.
        if attempts.len() > 10_000 {
            attempts.retain(|_, (start, _)| now - *start < self.window_ms);
        }
        let entry = attempts.entry(ip).or_insert((now, 0));
        if now - entry.0 >= self.window_ms {
            *entry = (now, 0);
        }
        if entry.1 >= self.limit {
            return Err(((self.window_ms - (now - entry.0)) / 1000).max(1) as u64);
        }
        entry.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_per_address_and_window() {
        let limiter = AttemptLimiter::new(3, 60_000);
        let ip: IpAddr = [10, 0, 0, 1].into();
        for _ in 0..3 {
            assert!(limiter.attempt(ip, 0).is_ok());
        }
        assert_eq!(limiter.attempt(ip, 30_000), Err(30));
        assert!(limiter.attempt([10, 0, 0, 2].into(), 30_000).is_ok());
        assert!(limiter.attempt(ip, 60_000).is_ok(), "a new window");
    }
}

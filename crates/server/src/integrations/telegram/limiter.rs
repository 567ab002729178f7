//! Outgoing-message pacing per bot, after Telegram's published limits: about 30 messages a
//! second overall, one a second in one chat, 20 a minute in one group. Each limit is a GCRA
//! ("virtual scheduling"): a send reserves the earliest moment every limit allows and sleeps
//! until then, so concurrent senders queue fairly without polling. A 429's `retry_after` pushes
//! the chat's next slot out. Per-process counts (docs/design.md §9: bulk sends run on the leader).
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub per_second: u32,
    pub per_chat_per_second: u32,
    pub per_group_per_minute: u32,
}

impl Limits {
    /// Telegram's limits for ordinary bots.
    pub const TELEGRAM: Limits = Limits {
        per_second: 30,
        per_chat_per_second: 1,
        per_group_per_minute: 20,
    };
    /// No pacing (fakes and benchmarks only; `TELEGRAM_RATE_LIMIT=off`).
    pub const UNLIMITED: Limits = Limits {
        per_second: 0,
        per_chat_per_second: 0,
        per_group_per_minute: 0,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::TELEGRAM
    }
}

/// One GCRA cell: `tat` is the theoretical arrival time of the next send.
#[derive(Debug, Clone, Copy)]
struct Cell {
    tat: Instant,
}

impl Cell {
    /// Earliest moment at or after `now` a send conforms, for `count` sends per `period`
    /// (a burst of up to `count`).
    fn earliest(&self, now: Instant, count: u32, period: Duration) -> Instant {
        let interval = period / count;
        let tolerance = interval * (count - 1);
        now.max(self.tat.checked_sub(tolerance).unwrap_or(now))
    }

    fn reserve(&mut self, at: Instant, count: u32, period: Duration) {
        let interval = period / count;
        self.tat = self.tat.max(at) + interval;
    }
}

#[derive(Default)]
struct State {
    overall: Option<Cell>,
    chats: HashMap<i64, Cell>,
    groups: HashMap<i64, Cell>,
    /// Chats Telegram told us to leave alone until then (429 `retry_after`), whatever the limits.
    held: HashMap<i64, Instant>,
}

pub struct RateLimiter {
    limits: Limits,
    state: Mutex<State>,
}

/// Where a message goes, as far as pacing is concerned.
#[derive(Debug, Clone, Copy)]
pub struct Destination {
    pub chat_id: i64,
    pub is_group: bool,
}

const PRUNE_ABOVE: usize = 10_000;

impl RateLimiter {
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            state: Mutex::new(State::default()),
        }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Reserve the next slot in `to`'s chat (per-chat, per-group and any 429 hold) and return
    /// how long to wait for it. The overall budget is taken separately, once that wait is over,
    /// so a chat queued far ahead never holds back the other chats.
    pub fn reserve_chat(&self, to: Destination) -> Duration {
        self.reserve_chat_at(to, Instant::now())
    }

    fn reserve_chat_at(&self, to: Destination, now: Instant) -> Duration {
        let l = self.limits;
        let mut state = self.state.lock().expect("limiter lock");
        let fresh = Cell { tat: now };
        let mut at = now;
        if let Some(until) = state.held.get(&to.chat_id) {
            at = at.max(*until);
        }
        let second = Duration::from_secs(1);
        let minute = Duration::from_secs(60);
        if l.per_chat_per_second > 0 {
            let cell = state.chats.get(&to.chat_id).copied().unwrap_or(fresh);
            at = at.max(cell.earliest(now, l.per_chat_per_second, second));
        }
        if to.is_group && l.per_group_per_minute > 0 {
            let cell = state.groups.get(&to.chat_id).copied().unwrap_or(fresh);
            at = at.max(cell.earliest(now, l.per_group_per_minute, minute));
        }
        if l.per_chat_per_second > 0 {
            state.chats.entry(to.chat_id).or_insert(fresh).reserve(
                at,
                l.per_chat_per_second,
                second,
            );
        }
        if to.is_group && l.per_group_per_minute > 0 {
            state.groups.entry(to.chat_id).or_insert(fresh).reserve(
                at,
                l.per_group_per_minute,
                minute,
            );
        }
        if state.chats.len() > PRUNE_ABOVE {
            state.chats.retain(|_, cell| cell.tat > now);
        }
        if state.groups.len() > PRUNE_ABOVE {
            state.groups.retain(|_, cell| cell.tat > now);
        }
        if state.held.len() > PRUNE_ABOVE {
            state.held.retain(|_, until| *until > now);
        }
        at - now
    }

    /// Reserve a slot of the bot's overall budget, now; returns the wait.
    pub fn reserve_overall(&self) -> Duration {
        self.reserve_overall_at(Instant::now())
    }

    fn reserve_overall_at(&self, now: Instant) -> Duration {
        let l = self.limits;
        if l.per_second == 0 {
            return Duration::ZERO;
        }
        let mut state = self.state.lock().expect("limiter lock");
        let cell = state.overall.get_or_insert(Cell { tat: now });
        let at = cell.earliest(now, l.per_second, Duration::from_secs(1));
        cell.reserve(at, l.per_second, Duration::from_secs(1));
        at - now
    }

    /// Wait for the next slot to `to`.
    pub async fn acquire(&self, to: Destination) {
        let wait = self.reserve_chat(to);
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        let wait = self.reserve_overall();
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    /// Telegram said "retry after `secs`" for this chat: nothing more goes there before then.
    pub fn penalize(&self, chat_id: i64, secs: u64) {
        self.penalize_at(chat_id, secs, Instant::now())
    }

    fn penalize_at(&self, chat_id: i64, secs: u64, now: Instant) {
        let until = now + Duration::from_secs(secs);
        let mut state = self.state.lock().expect("limiter lock");
        let held = state.held.entry(chat_id).or_insert(until);
        *held = (*held).max(until);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn to(chat_id: i64, is_group: bool) -> Destination {
        Destination { chat_id, is_group }
    }

    #[test]
    fn one_message_a_second_in_one_chat() {
        let limiter = RateLimiter::new(Limits::TELEGRAM);
        let now = Instant::now();
        let waits: Vec<_> = (0..3)
            .map(|_| limiter.reserve_chat_at(to(7, false), now))
            .collect();
        assert_eq!(
            waits,
            [0, 1000, 2000].map(Duration::from_millis),
            "queued a second apart"
        );
        // Another chat is not held up by the first one's queue.
        assert_eq!(limiter.reserve_chat_at(to(8, false), now), Duration::ZERO);
    }

    #[test]
    fn thirty_a_second_overall_as_a_burst_then_paced() {
        let limiter = RateLimiter::new(Limits::TELEGRAM);
        let now = Instant::now();
        let waits: Vec<_> = (0..31).map(|_| limiter.reserve_overall_at(now)).collect();
        assert!(waits[..30].iter().all(|w| w.is_zero()), "{waits:?}");
        assert_eq!(
            waits[30],
            Duration::from_secs(1) / 30,
            "the 31st waits one interval"
        );
        let later = now + Duration::from_secs(2);
        assert_eq!(limiter.reserve_overall_at(later), Duration::ZERO, "refills");
    }

    #[test]
    fn twenty_a_minute_in_a_group() {
        let limiter = RateLimiter::new(Limits {
            per_chat_per_second: 0,
            ..Limits::TELEGRAM
        });
        let now = Instant::now();
        let waits: Vec<_> = (0..21)
            .map(|_| limiter.reserve_chat_at(to(-100, true), now))
            .collect();
        assert!(waits[..20].iter().all(|w| w.is_zero()), "{waits:?}");
        assert_eq!(waits[20], Duration::from_secs(3));
    }

    #[test]
    fn retry_after_holds_the_chat() {
        let limiter = RateLimiter::new(Limits::TELEGRAM);
        let now = Instant::now();
        limiter.penalize_at(5, 7, now);
        assert_eq!(
            limiter.reserve_chat_at(to(5, false), now),
            Duration::from_secs(7)
        );
        assert_eq!(limiter.reserve_chat_at(to(6, false), now), Duration::ZERO);
        let unlimited = RateLimiter::new(Limits::UNLIMITED);
        assert!((0..1000).all(|_| unlimited.reserve_chat_at(to(1, true), now).is_zero()));
        unlimited.penalize_at(1, 2, now);
        assert_eq!(
            unlimited.reserve_chat_at(to(1, true), now),
            Duration::from_secs(2),
            "retry_after holds even without pacing"
        );
    }
}

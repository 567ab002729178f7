//! Every interval and threshold of the signal lifecycle, in one place. The service's scheduler
//! should use the `*_INTERVAL_SECONDS` values; the lifecycle uses the rest.

/// How often the service asks the strategy for a new signal (15-minute bars).
pub const SIGNAL_CHECK_INTERVAL_SECONDS: i64 = 15 * 60;
/// How often the service feeds the current price to an open signal.
pub const MONITOR_INTERVAL_SECONDS: i64 = 60;

/// First thesis re-validation, minutes after the signal opened.
pub const FIRST_REVALIDATION_MINUTES: i64 = 90;
/// Later re-validations, every this many minutes.
pub const REVALIDATION_INTERVAL_MINUTES: i64 = 30;
/// An open signal is closed at the market price this long after it opened.
pub const HARD_TIMEOUT_MINUTES: i64 = 180;

/// Progress updates at these percentages of the way from entry to TP1.
pub const PROGRESS_ZONES_PERCENT: [f64; 3] = [30.0, 60.0, 85.0];
/// Breakeven advisory (move the stop to entry) at this percentage of the way to TP1.
pub const BREAKEVEN_ZONE_PERCENT: f64 = 70.0;
/// Minimum time between two guidance messages (progress zones; the breakeven advisory is never
/// held back but does restart the cooldown).
pub const GUIDANCE_COOLDOWN_MINUTES: i64 = 10;

/// Position closed at TP1, TP2, TP3 (percent), unless a strategy's parameters say otherwise.
pub const DEFAULT_TP_SPLIT_PERCENT: [f64; 3] = [50.0, 30.0, 20.0];

pub const fn minutes(m: i64) -> i64 {
    m * 60
}

//! Every interval and threshold of the signal lifecycle, in one place. The service's scheduler
//! should use the `*_INTERVAL_SECONDS` values; the lifecycle uses the rest.
use serde::{Deserialize, Serialize};

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

/// Progress updates at these percentages of the way from entry to TP1. The seeds disagree
/// (30/60/85 in one, a 40 % milestone in another): all four are kept.
pub const PROGRESS_ZONES_PERCENT: [f64; 4] = [30.0, 40.0, 60.0, 85.0];
/// Breakeven advisory (move the stop to entry) at this percentage of the way to TP1.
pub const BREAKEVEN_ZONE_PERCENT: f64 = 70.0;
/// Minimum time between two guidance messages (progress zones; the breakeven advisory is never
/// held back but does restart the cooldown).
pub const GUIDANCE_COOLDOWN_MINUTES: i64 = 10;

/// Position closed at TP1, TP2, TP3 (percent), unless a strategy's parameters say otherwise.
pub const DEFAULT_TP_SPLIT_PERCENT: [f64; 3] = [50.0, 30.0, 20.0];

/// The lifecycle's intervals and thresholds as a setting (part of [`StrategyParams`], so the
/// service stores and hot-reloads them). Defaults are the constants above.
///
/// [`StrategyParams`]: crate::strategy::StrategyParams
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LifecycleTiming {
    pub first_revalidation_minutes: i64,
    pub revalidation_interval_minutes: i64,
    pub hard_timeout_minutes: i64,
    /// Ascending, each in (0, 100).
    pub progress_zones_percent: Vec<f64>,
    pub breakeven_zone_percent: f64,
    pub guidance_cooldown_minutes: i64,
}

impl Default for LifecycleTiming {
    fn default() -> Self {
        LifecycleTiming {
            first_revalidation_minutes: FIRST_REVALIDATION_MINUTES,
            revalidation_interval_minutes: REVALIDATION_INTERVAL_MINUTES,
            hard_timeout_minutes: HARD_TIMEOUT_MINUTES,
            progress_zones_percent: PROGRESS_ZONES_PERCENT.to_vec(),
            breakeven_zone_percent: BREAKEVEN_ZONE_PERCENT,
            guidance_cooldown_minutes: GUIDANCE_COOLDOWN_MINUTES,
        }
    }
}

impl LifecycleTiming {
    /// The first field at fault and why.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        let minutes_ok = |v: i64| (1..=7 * 24 * 60).contains(&v);
        for (field, v) in [
            (
                "first_revalidation_minutes",
                self.first_revalidation_minutes,
            ),
            (
                "revalidation_interval_minutes",
                self.revalidation_interval_minutes,
            ),
            ("hard_timeout_minutes", self.hard_timeout_minutes),
        ] {
            if !minutes_ok(v) {
                return Err((field, "must be 1 to 10080 minutes".to_string()));
            }
        }
        if !(0..=24 * 60).contains(&self.guidance_cooldown_minutes) {
            return Err((
                "guidance_cooldown_minutes",
                "must be 0 to 1440 minutes".to_string(),
            ));
        }
        let zones = &self.progress_zones_percent;
        if zones.len() > 8
            || zones
                .iter()
                .any(|z| !z.is_finite() || *z <= 0.0 || *z >= 100.0)
            || zones.windows(2).any(|w| w[0] >= w[1])
        {
            return Err((
                "progress_zones_percent",
                "at most 8 ascending percentages, each above 0 and below 100".to_string(),
            ));
        }
        let b = self.breakeven_zone_percent;
        if !b.is_finite() || b <= 0.0 || b >= 100.0 {
            return Err((
                "breakeven_zone_percent",
                "must be above 0 and below 100".to_string(),
            ));
        }
        Ok(())
    }
}

pub const fn minutes(m: i64) -> i64 {
    m * 60
}

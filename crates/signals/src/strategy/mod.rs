//! Strategies behind one trait, registered by name. Adding a strategy = one file in this folder
//! plus one line in `register_strategies!` below.
mod params;

use serde::Serialize;

pub use params::{ParamsError, StrategyParams};

use crate::direction::Direction;
use crate::registry::{self, IndicatorId, ThesisReport};
use crate::snapshot::IndicatorSnapshot;

/// What a strategy proposes at a bar close.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SignalCandidate {
    pub direction: Direction,
    /// Human-readable reasons (indicator values that agreed), for messages.
    pub reasons: Vec<String>,
}

/// Entry, stop and three targets.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct Levels {
    pub entry: f64,
    pub stop_loss: f64,
    pub take_profits: [f64; 3],
}

pub trait Strategy: Sync {
    /// Registry key, e.g. "aggressive".
    fn name(&self) -> &'static str;
    fn description(&self) -> &'static str;
    fn default_params(&self) -> StrategyParams;
    /// Registry entries whose validation logic judges this strategy's open signals.
    fn thesis_indicators(&self) -> &'static [IndicatorId];

    /// A signal at this bar close, or none. Must return none when a needed value is missing.
    fn check_for_signal(
        &self,
        snapshot: &IndicatorSnapshot,
        params: &StrategyParams,
    ) -> Option<SignalCandidate>;

    /// Stop and targets from ATR multiples. `None` if the result would not be finite, ordered
    /// and distinct from the entry (a zero ATR, say).
    fn tp_sl(
        &self,
        direction: Direction,
        entry: f64,
        atr: f64,
        params: &StrategyParams,
    ) -> Option<Levels> {
        let s = direction.sign();
        let at = |m: f64| entry + s * m * atr;
        let levels = Levels {
            entry,
            stop_loss: entry - s * params.atr_sl_multiplier * atr,
            take_profits: [
                at(params.atr_tp1_multiplier),
                at(params.atr_tp2_multiplier),
                at(params.atr_tp3_multiplier),
            ],
        };
        let all = [
            levels.entry,
            levels.stop_loss,
            levels.take_profits[0],
            levels.take_profits[1],
            levels.take_profits[2],
        ];
        let ordered = s * (levels.entry - levels.stop_loss) > 0.0
            && s * (levels.take_profits[0] - entry) > 0.0
            && s * (levels.take_profits[1] - levels.take_profits[0]) > 0.0
            && s * (levels.take_profits[2] - levels.take_profits[1]) > 0.0;
        (all.iter().all(|v| v.is_finite()) && ordered && levels.stop_loss > 0.0).then_some(levels)
    }

    /// Re-validate an open signal's thesis with the registry's validation logic.
    fn validate_thesis(
        &self,
        direction: Direction,
        original: &IndicatorSnapshot,
        current: &IndicatorSnapshot,
        params: &StrategyParams,
    ) -> ThesisReport {
        registry::validate(
            self.thesis_indicators(),
            direction,
            original,
            current,
            params,
        )
    }
}

macro_rules! register_strategies {
    ($($module:ident :: $ty:ident),+ $(,)?) => {
        $(mod $module; pub use $module::$ty;)+
        /// Every strategy, by registry order.
        pub static STRATEGIES: &[&dyn Strategy] = &[$(&$module::$ty),+];
    };
}

register_strategies! {
    aggressive::Aggressive,
    conservative::Conservative,
    trend_pullback::TrendPullback,
}

pub fn strategy_by_name(name: &str) -> Option<&'static dyn Strategy> {
    let wanted = name.trim().to_ascii_lowercase().replace('-', "_");
    STRATEGIES.iter().copied().find(|s| s.name() == wanted)
}

pub fn strategy_names() -> Vec<&'static str> {
    STRATEGIES.iter().map(|s| s.name()).collect()
}

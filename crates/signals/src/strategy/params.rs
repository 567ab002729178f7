//! Strategy parameters: a serde value the service stores and hot-reloads. Every strategy starts
//! from its own `default_params()`; a partial JSON object can override any field.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::bars::{UnixSeconds, hour_of_day};
use crate::registry::IndicatorId;
use crate::timing::{DEFAULT_TP_SPLIT_PERCENT, LifecycleTiming};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StrategyParams {
    pub rsi_oversold: f64,
    pub rsi_overbought: f64,
    pub adx_threshold: f64,
    pub stoch_oversold: f64,
    pub stoch_overbought: f64,
    /// "Touching" a Bollinger band: close within this many ATRs of it.
    pub bb_touch_atr: f64,
    /// trend_pullback: close within this many ATRs of EMA20.
    pub pullback_atr: f64,
    /// trend_pullback: RSI must not be beyond this (buy: above it; sell: below 100 minus it).
    pub pullback_rsi_floor: f64,
    pub atr_sl_multiplier: f64,
    pub atr_tp1_multiplier: f64,
    pub atr_tp2_multiplier: f64,
    pub atr_tp3_multiplier: f64,
    /// Percent of the position closed at TP1, TP2, TP3; sums to 100.
    pub tp_split_percent: [f64; 3],
    pub session_filter_enabled: bool,
    /// New signals only when the hour (UTC) of the decision is in [start, end).
    pub session_start_hour_utc: u8,
    pub session_end_hour_utc: u8,
    /// Apply the breakeven advisory to the tracked signal (stop moves to entry).
    pub move_sl_to_entry_at_breakeven: bool,
    /// Close the signal at market when re-validation finds the thesis broken.
    pub close_on_broken_thesis: bool,
    /// Per-configuration overrides of the registry's `enabled`.
    pub indicators_enabled: BTreeMap<IndicatorId, bool>,
    /// Re-validation, timeout and guidance thresholds of each signal opened with these values.
    pub timing: LifecycleTiming,
}

impl Default for StrategyParams {
    /// Neutral base values; each strategy's `default_params` adjusts them.
    fn default() -> Self {
        StrategyParams {
            rsi_oversold: 40.0,
            rsi_overbought: 60.0,
            adx_threshold: 15.0,
            stoch_oversold: 20.0,
            stoch_overbought: 80.0,
            bb_touch_atr: 0.5,
            pullback_atr: 1.0,
            pullback_rsi_floor: 30.0,
            atr_sl_multiplier: 1.0,
            atr_tp1_multiplier: 1.2,
            atr_tp2_multiplier: 2.0,
            atr_tp3_multiplier: 2.5,
            tp_split_percent: DEFAULT_TP_SPLIT_PERCENT,
            session_filter_enabled: true,
            session_start_hour_utc: 8,
            session_end_hour_utc: 21,
            move_sl_to_entry_at_breakeven: true,
            close_on_broken_thesis: true,
            indicators_enabled: BTreeMap::new(),
            timing: LifecycleTiming::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParamsError {
    #[error("invalid strategy parameters: {field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("invalid strategy parameters JSON: {0}")]
    Json(String),
}

impl StrategyParams {
    pub fn validate(&self) -> Result<(), ParamsError> {
        let bad = |field: &'static str, m: &str| {
            Err(ParamsError::Invalid {
                field,
                message: m.to_string(),
            })
        };
        let finite = [
            ("rsi_oversold", self.rsi_oversold),
            ("rsi_overbought", self.rsi_overbought),
            ("adx_threshold", self.adx_threshold),
            ("stoch_oversold", self.stoch_oversold),
            ("stoch_overbought", self.stoch_overbought),
            ("bb_touch_atr", self.bb_touch_atr),
            ("pullback_atr", self.pullback_atr),
            ("pullback_rsi_floor", self.pullback_rsi_floor),
            ("atr_sl_multiplier", self.atr_sl_multiplier),
            ("atr_tp1_multiplier", self.atr_tp1_multiplier),
            ("atr_tp2_multiplier", self.atr_tp2_multiplier),
            ("atr_tp3_multiplier", self.atr_tp3_multiplier),
        ];
        if let Some((field, _)) = finite.iter().find(|(_, v)| !v.is_finite()) {
            return bad(field, "must be a finite number");
        }
        for (field, v) in [
            ("rsi_oversold", self.rsi_oversold),
            ("rsi_overbought", self.rsi_overbought),
            ("adx_threshold", self.adx_threshold),
            ("stoch_oversold", self.stoch_oversold),
            ("stoch_overbought", self.stoch_overbought),
            ("pullback_rsi_floor", self.pullback_rsi_floor),
        ] {
            if !(0.0..=100.0).contains(&v) {
                return bad(field, "must be between 0 and 100");
            }
        }
        if self.bb_touch_atr < 0.0 || self.pullback_atr < 0.0 {
            let field = if self.bb_touch_atr < 0.0 {
                "bb_touch_atr"
            } else {
                "pullback_atr"
            };
            return bad(field, "must not be negative");
        }
        if self.atr_sl_multiplier <= 0.0 {
            return bad("atr_sl_multiplier", "ATR multipliers must be positive");
        }
        if self.atr_tp1_multiplier <= 0.0 {
            return bad("atr_tp1_multiplier", "ATR multipliers must be positive");
        }
        if self.atr_tp1_multiplier >= self.atr_tp2_multiplier {
            return bad(
                "atr_tp2_multiplier",
                "TP multipliers must increase: tp1 < tp2 < tp3",
            );
        }
        if self.atr_tp2_multiplier >= self.atr_tp3_multiplier {
            return bad(
                "atr_tp3_multiplier",
                "TP multipliers must increase: tp1 < tp2 < tp3",
            );
        }
        if self
            .tp_split_percent
            .iter()
            .any(|p| !p.is_finite() || *p < 0.0)
            || (self.tp_split_percent.iter().sum::<f64>() - 100.0).abs() > 1e-9
        {
            return bad(
                "tp_split_percent",
                "must be three non-negative numbers summing to 100",
            );
        }
        if self.session_start_hour_utc > 23 {
            return bad("session_start_hour_utc", "must be 0 to 23");
        }
        if self.session_end_hour_utc > 24 {
            return bad("session_end_hour_utc", "must be 0 to 24");
        }
        if let Err((field, message)) = self.timing.check() {
            return Err(ParamsError::Invalid { field, message });
        }
        Ok(())
    }

    /// `base` with the fields present in `overrides` (a JSON object) replaced, then validated.
    pub fn with_overrides(
        base: &StrategyParams,
        overrides: &serde_json::Value,
    ) -> Result<Self, ParamsError> {
        let mut merged =
            serde_json::to_value(base).map_err(|e| ParamsError::Json(e.to_string()))?;
        match (merged.as_object_mut(), overrides.as_object()) {
            (Some(m), Some(o)) => {
                for (k, v) in o {
                    m.insert(k.clone(), v.clone());
                }
            }
            (_, None) if overrides.is_null() => {}
            _ => {
                return Err(ParamsError::Json(
                    "overrides must be a JSON object".to_string(),
                ));
            }
        }
        let params: StrategyParams =
            serde_json::from_value(merged).map_err(|e| ParamsError::Json(e.to_string()))?;
        params.validate()?;
        Ok(params)
    }

    /// Whether a new signal may be issued at `time` (session filter; an end before the start
    /// wraps past midnight).
    pub fn in_session(&self, time: UnixSeconds) -> bool {
        if !self.session_filter_enabled {
            return true;
        }
        let h = hour_of_day(time);
        let (s, e) = (self.session_start_hour_utc, self.session_end_hour_utc);
        if s <= e {
            s <= h && h < e
        } else {
            h >= s || h < e
        }
    }

    /// TP split as fractions of the position.
    pub fn tp_fractions(&self) -> [f64; 3] {
        self.tp_split_percent.map(|p| p / 100.0)
    }
}

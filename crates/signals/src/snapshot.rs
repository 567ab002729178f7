//! The indicator values at one bar close: what strategies read, what an open signal stores
//! (as JSON) to re-validate its thesis later. A value is `None` during its warm-up, so NaN
//! cannot reach a strategy.
use serde::{Deserialize, Serialize};

use crate::bars::UnixSeconds;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IndicatorSnapshot {
    /// Close time of the bar these values were computed on.
    pub time: UnixSeconds,
    pub close: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ema_20: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ema_50: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ema_200: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rsi_14: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub macd: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub macd_signal: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub macd_hist: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adx_14: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plus_di_14: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minus_di_14: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bb_upper: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bb_middle: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bb_lower: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stoch_k: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stoch_d: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub atr_14: Option<f64>,
}

impl IndicatorSnapshot {
    /// JSON for storage with an open signal (`original_indicators_json`).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_string())
    }

    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(json)
    }
}

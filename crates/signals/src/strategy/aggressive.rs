//! Mean reversion with loose thresholds: RSI 40/60 in a market with some trend strength
//! (ADX >= 15), confirmed by a Bollinger band touch or a stochastic extreme.
use super::{SignalCandidate, Strategy, StrategyParams};
use crate::registry::{IndicatorId, vote};
use crate::snapshot::IndicatorSnapshot;

pub struct Aggressive;

impl Strategy for Aggressive {
    fn name(&self) -> &'static str {
        "aggressive"
    }

    fn description(&self) -> &'static str {
        "More signals: RSI 40/60 with ADX >= 15, confirmed by a Bollinger touch or a stochastic extreme; SL 1.0 ATR, TP 1.2/2.0/2.5 ATR."
    }

    fn default_params(&self) -> StrategyParams {
        StrategyParams::default()
    }

    fn thesis_indicators(&self) -> &'static [IndicatorId] {
        &[IndicatorId::Rsi, IndicatorId::Adx, IndicatorId::Macd, IndicatorId::Stochastic, IndicatorId::Bollinger, IndicatorId::Atr]
    }

    fn check_for_signal(&self, snapshot: &IndicatorSnapshot, params: &StrategyParams) -> Option<SignalCandidate> {
        let (direction, reasons) = vote(
            snapshot,
            params,
            &[IndicatorId::Adx, IndicatorId::Rsi],
            &[IndicatorId::Bollinger, IndicatorId::Stochastic],
            1,
        )?;
        Some(SignalCandidate { direction, reasons })
    }
}

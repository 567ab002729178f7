//! Mean reversion with tight thresholds: RSI 35/65, ADX >= 20, and both a Bollinger band touch
//! and a stochastic extreme; wider stop and targets.
use super::{SignalCandidate, Strategy, StrategyParams};
use crate::registry::{IndicatorId, vote};
use crate::snapshot::IndicatorSnapshot;

pub struct Conservative;

impl Strategy for Conservative {
    fn name(&self) -> &'static str {
        "conservative"
    }

    fn description(&self) -> &'static str {
        "Fewer signals: RSI 35/65 with ADX >= 20, a Bollinger touch and a stochastic extreme together; SL 1.5 ATR, TP 1.5/2.5/3.5 ATR."
    }

    fn default_params(&self) -> StrategyParams {
        StrategyParams {
            rsi_oversold: 35.0,
            rsi_overbought: 65.0,
            adx_threshold: 20.0,
            atr_sl_multiplier: 1.5,
            atr_tp1_multiplier: 1.5,
            atr_tp2_multiplier: 2.5,
            atr_tp3_multiplier: 3.5,
            session_end_hour_utc: 20,
            ..StrategyParams::default()
        }
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
            2,
        )?;
        Some(SignalCandidate { direction, reasons })
    }
}

//! Trend pullback for gold (docs/strategies.md): trade in the direction of an established trend
//! (EMA50 vs EMA200, +DI vs -DI, ADX >= 20) after price has pulled back to the fast mean
//! (close within `pullback_atr` ATR of EMA20, RSI back under 50 but not collapsed, stochastic
//! reset below 40). The stop sits beyond the pullback, 1.5 ATR away.
use super::{SignalCandidate, Strategy, StrategyParams};
use crate::direction::Direction;
use crate::registry::{IndicatorId, vote};
use crate::snapshot::IndicatorSnapshot;

pub struct TrendPullback;

impl Strategy for TrendPullback {
    fn name(&self) -> &'static str {
        "trend_pullback"
    }

    fn description(&self) -> &'static str {
        "Gold trend pullback: with EMA50/200, DI and ADX >= 20 agreeing on the trend, enter when price pulls back to EMA20 (RSI under 50 but above 30, stochastic reset); SL 1.5 ATR, TP 1.5/2.5/4.0 ATR."
    }

    fn default_params(&self) -> StrategyParams {
        StrategyParams {
            rsi_oversold: 50.0,
            rsi_overbought: 50.0,
            pullback_rsi_floor: 30.0,
            adx_threshold: 20.0,
            stoch_oversold: 40.0,
            stoch_overbought: 60.0,
            pullback_atr: 0.5,
            atr_sl_multiplier: 1.5,
            atr_tp1_multiplier: 1.5,
            atr_tp2_multiplier: 2.5,
            atr_tp3_multiplier: 4.0,
            session_start_hour_utc: 7,
            session_end_hour_utc: 20,
            ..StrategyParams::default()
        }
    }

    fn thesis_indicators(&self) -> &'static [IndicatorId] {
        &[IndicatorId::EmaTrend, IndicatorId::Dmi, IndicatorId::Adx, IndicatorId::Rsi, IndicatorId::Macd, IndicatorId::Atr]
    }

    fn check_for_signal(&self, snapshot: &IndicatorSnapshot, params: &StrategyParams) -> Option<SignalCandidate> {
        // Pullback geometry first (cheap, and false on most bars): close near EMA20.
        let (ema_20, atr, rsi) = (snapshot.ema_20?, snapshot.atr_14?, snapshot.rsi_14?);
        if (snapshot.close - ema_20).abs() > params.pullback_atr * atr {
            return None;
        }
        let (direction, mut reasons) = vote(
            snapshot,
            params,
            &[IndicatorId::EmaTrend, IndicatorId::Dmi, IndicatorId::Adx, IndicatorId::Rsi],
            &[IndicatorId::Stochastic],
            1,
        )?;
        // RSI under 50 (over 50 for a sell) but not collapsed.
        let rsi_ok = match direction {
            Direction::Buy => rsi > params.pullback_rsi_floor,
            Direction::Sell => rsi < 100.0 - params.pullback_rsi_floor,
        };
        if !rsi_ok {
            return None;
        }
        reasons.push(format!("pullback to EMA20 {ema_20:.5}"));
        Some(SignalCandidate { direction, reasons })
    }
}

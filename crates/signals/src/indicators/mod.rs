//! Technical indicators, each in two forms that give the same numbers:
//! - batch: a function over a slice, returning one value per input (NaN during warm-up),
//!   written in the shape of TA-Lib's loops so the two agree to rounding;
//! - streaming: a struct whose `update` takes one new bar in O(1) (amortised for the
//!   stochastic's window extremes) and returns `None` during warm-up.
//!
//! Definitions follow TA-Lib (default compatibility, no unstable period): EMA seeded with the SMA
//! of its first N inputs, Wilder smoothing for RSI/ATR/ADX, population standard deviation, and
//! TA-Lib's zero tests (`TA_IS_ZERO`: |x| < 1e-8) where TA-Lib uses them. Warm-up lengths
//! (TA-Lib's "lookback") are given by each indicator's `lookback` function.
mod adx;
mod atr;
mod bbands;
mod ema;
mod macd;
mod ring;
mod rsi;
mod sma;
mod standard;
mod stoch;

pub use adx::{Dmi, DmiColumns, DmiValue, adx_lookback, dmi, dmi_lookback, dmi_with};
pub use atr::{Atr, atr, atr_lookback, atr_with, true_range};
pub use bbands::{
    BandsColumns, BandsValue, BollingerBands, bollinger_bands, bollinger_bands_with,
    bollinger_lookback,
};
pub use ema::{Ema, ema, ema_lookback, ema_with};
pub use macd::{Macd, MacdColumns, MacdValue, macd, macd_lookback, macd_with};
pub use rsi::{Rsi, rsi, rsi_lookback, rsi_with};
pub use sma::{Sma, sma, sma_lookback, sma_with};
pub use standard::{STANDARD_COLUMN_NAMES, StandardColumns, StandardIndicators, standard_columns};
pub use stoch::{
    SlowStochastic, StochColumns, StochValue, slow_stochastic, slow_stochastic_with, stoch_lookback,
};

/// Prepare an output column in `buf` (reusing its memory): capacity for `n` values, NaN for
/// the first `lookback` (warm-up), the rest to be filled by `push` (one write per value).
#[inline]
pub(crate) fn warm_vec(mut buf: Vec<f64>, n: usize, lookback: usize) -> Vec<f64> {
    buf.clear();
    buf.reserve(n);
    buf.resize(lookback.min(n), f64::NAN);
    buf
}

/// TA-Lib's `TA_IS_ZERO`: the tolerance it uses before dividing by a sum of moves.
#[inline]
pub(crate) fn talib_is_zero(v: f64) -> bool {
    -0.000_000_01 < v && v < 0.000_000_01
}

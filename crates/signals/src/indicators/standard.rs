//! The standard indicator set of `promostack indicators` and of every strategy:
//! EMA 20/50/200, RSI 14, MACD(12,26,9), ADX/+DI/-DI 14, Bollinger(20, 2.0), slow
//! Stochastic(14,3,3), ATR 14, in batch (columns) and streaming (snapshots) form.
use super::{
    Atr, BandsColumns, BollingerBands, Dmi, DmiColumns, Ema, Macd, MacdColumns, Rsi,
    SlowStochastic, StochColumns, atr_with, bollinger_bands_with, dmi_with, ema_with, macd_with,
    rsi_with, slow_stochastic_with,
};
use crate::bars::{Bar, UnixSeconds};
use crate::snapshot::IndicatorSnapshot;

pub const EMA_FAST: usize = 20;
pub const EMA_MID: usize = 50;
pub const EMA_SLOW: usize = 200;
pub const RSI_PERIOD: usize = 14;
pub const MACD_FAST: usize = 12;
pub const MACD_SLOW: usize = 26;
pub const MACD_SIGNAL: usize = 9;
pub const ADX_PERIOD: usize = 14;
pub const BB_PERIOD: usize = 20;
pub const BB_DEVIATIONS: f64 = 2.0;
pub const STOCH_K: usize = 14;
pub const STOCH_SLOW_K: usize = 3;
pub const STOCH_SLOW_D: usize = 3;
pub const ATR_PERIOD: usize = 14;

/// Column names after `time`, in the order of docs/design.md §7.
pub const STANDARD_COLUMN_NAMES: [&str; 16] = [
    "ema_20",
    "ema_50",
    "ema_200",
    "rsi_14",
    "macd",
    "macd_signal",
    "macd_hist",
    "adx_14",
    "plus_di_14",
    "minus_di_14",
    "bb_upper",
    "bb_middle",
    "bb_lower",
    "stoch_k",
    "stoch_d",
    "atr_14",
];

/// Batch output: one vector per column, each as long as the input, NaN during warm-up.
#[derive(Clone, Debug, Default)]
pub struct StandardColumns {
    pub ema_20: Vec<f64>,
    pub ema_50: Vec<f64>,
    pub ema_200: Vec<f64>,
    pub rsi_14: Vec<f64>,
    pub macd: Vec<f64>,
    pub macd_signal: Vec<f64>,
    pub macd_hist: Vec<f64>,
    pub adx_14: Vec<f64>,
    pub plus_di_14: Vec<f64>,
    pub minus_di_14: Vec<f64>,
    pub bb_upper: Vec<f64>,
    pub bb_middle: Vec<f64>,
    pub bb_lower: Vec<f64>,
    pub stoch_k: Vec<f64>,
    pub stoch_d: Vec<f64>,
    pub atr_14: Vec<f64>,
    /// High, low and close of the last `compute`, kept for their memory.
    scratch: [Vec<f64>; 3],
}

impl StandardColumns {
    /// The columns in `STANDARD_COLUMN_NAMES` order.
    pub fn columns(&self) -> [&[f64]; 16] {
        [
            &self.ema_20,
            &self.ema_50,
            &self.ema_200,
            &self.rsi_14,
            &self.macd,
            &self.macd_signal,
            &self.macd_hist,
            &self.adx_14,
            &self.plus_di_14,
            &self.minus_di_14,
            &self.bb_upper,
            &self.bb_middle,
            &self.bb_lower,
            &self.stoch_k,
            &self.stoch_d,
            &self.atr_14,
        ]
    }

    pub fn len(&self) -> usize {
        self.ema_20.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ema_20.is_empty()
    }
}

pub fn standard_columns(bars: &[Bar]) -> StandardColumns {
    let mut cols = StandardColumns::default();
    cols.compute(bars);
    cols
}

impl StandardColumns {
    /// Recompute every column for `bars`, reusing this value's memory (no page faults on a
    /// second call of the same size: the service can keep one per symbol).
    pub fn compute(&mut self, bars: &[Bar]) {
        let take = std::mem::take;
        let mut high = take(&mut self.scratch[0]);
        let mut low = take(&mut self.scratch[1]);
        let mut close = take(&mut self.scratch[2]);
        for (v, f) in [(&mut high, 0), (&mut low, 1), (&mut close, 2)] {
            v.clear();
            v.extend(bars.iter().map(|b| match f {
                0 => b.high,
                1 => b.low,
                _ => b.close,
            }));
        }
        self.ema_20 = ema_with(&close, EMA_FAST, take(&mut self.ema_20));
        self.ema_50 = ema_with(&close, EMA_MID, take(&mut self.ema_50));
        self.ema_200 = ema_with(&close, EMA_SLOW, take(&mut self.ema_200));
        self.rsi_14 = rsi_with(&close, RSI_PERIOD, take(&mut self.rsi_14));
        let m = macd_with(
            &close,
            MACD_FAST,
            MACD_SLOW,
            MACD_SIGNAL,
            MacdColumns {
                macd: take(&mut self.macd),
                signal: take(&mut self.macd_signal),
                hist: take(&mut self.macd_hist),
            },
        );
        (self.macd, self.macd_signal, self.macd_hist) = (m.macd, m.signal, m.hist);
        let d = dmi_with(
            &high,
            &low,
            &close,
            ADX_PERIOD,
            DmiColumns {
                plus_di: take(&mut self.plus_di_14),
                minus_di: take(&mut self.minus_di_14),
                adx: take(&mut self.adx_14),
            },
        );
        (self.plus_di_14, self.minus_di_14, self.adx_14) = (d.plus_di, d.minus_di, d.adx);
        let bb = bollinger_bands_with(
            &close,
            BB_PERIOD,
            BB_DEVIATIONS,
            BandsColumns {
                upper: take(&mut self.bb_upper),
                middle: take(&mut self.bb_middle),
                lower: take(&mut self.bb_lower),
            },
        );
        (self.bb_upper, self.bb_middle, self.bb_lower) = (bb.upper, bb.middle, bb.lower);
        let st = slow_stochastic_with(
            &high,
            &low,
            &close,
            STOCH_K,
            STOCH_SLOW_K,
            STOCH_SLOW_D,
            StochColumns {
                k: take(&mut self.stoch_k),
                d: take(&mut self.stoch_d),
            },
        );
        (self.stoch_k, self.stoch_d) = (st.k, st.d);
        self.atr_14 = atr_with(&high, &low, &close, ATR_PERIOD, take(&mut self.atr_14));
        self.scratch = [high, low, close];
    }
}

/// Streaming form: feed closed bars in order, get a snapshot per bar.
#[derive(Clone, Debug)]
pub struct StandardIndicators {
    ema_20: Ema,
    ema_50: Ema,
    ema_200: Ema,
    rsi: Rsi,
    macd: Macd,
    dmi: Dmi,
    bands: BollingerBands,
    stoch: SlowStochastic,
    atr: Atr,
}

impl Default for StandardIndicators {
    fn default() -> Self {
        Self::new()
    }
}

impl StandardIndicators {
    pub fn new() -> Self {
        StandardIndicators {
            ema_20: Ema::new(EMA_FAST),
            ema_50: Ema::new(EMA_MID),
            ema_200: Ema::new(EMA_SLOW),
            rsi: Rsi::new(RSI_PERIOD),
            macd: Macd::new(MACD_FAST, MACD_SLOW, MACD_SIGNAL),
            dmi: Dmi::new(ADX_PERIOD),
            bands: BollingerBands::new(BB_PERIOD, BB_DEVIATIONS),
            stoch: SlowStochastic::new(STOCH_K, STOCH_SLOW_K, STOCH_SLOW_D),
            atr: Atr::new(ATR_PERIOD),
        }
    }

    /// Feed one closed bar; `close_time` is when the bar closed (stored in the snapshot).
    #[inline]
    pub fn update(&mut self, bar: &Bar, close_time: UnixSeconds) -> IndicatorSnapshot {
        let c = bar.close;
        let m = self.macd.update(c);
        let d = self.dmi.update(bar.high, bar.low, c);
        let bb = self.bands.update(c);
        let st = self.stoch.update(bar.high, bar.low, c);
        IndicatorSnapshot {
            time: close_time,
            close: c,
            ema_20: self.ema_20.update(c),
            ema_50: self.ema_50.update(c),
            ema_200: self.ema_200.update(c),
            rsi_14: self.rsi.update(c),
            macd: m.map(|v| v.macd),
            macd_signal: m.map(|v| v.signal),
            macd_hist: m.map(|v| v.hist),
            adx_14: d.and_then(|v| v.adx),
            plus_di_14: d.map(|v| v.plus_di),
            minus_di_14: d.map(|v| v.minus_di),
            bb_upper: bb.map(|v| v.upper),
            bb_middle: bb.map(|v| v.middle),
            bb_lower: bb.map(|v| v.lower),
            stoch_k: st.map(|v| v.k),
            stoch_d: st.map(|v| v.d),
            atr_14: self.atr.update(bar.high, bar.low, c),
        }
    }
}

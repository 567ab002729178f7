//! Directional movement (TA-Lib PLUS_DI, MINUS_DI, ADX), computed together in one pass.
//! The N-1 first directional moves and true ranges are summed, then Wilder-smoothed
//! (`s - s/N + x`); DI is output from bar N, ADX (Wilder mean of DX) from bar 2N-1.
//! As in TA-Lib, a bar whose smoothed true range (or DI sum) is zero gives DI 0 and leaves
//! the ADX unchanged.
use super::{talib_is_zero, true_range, warm_vec};

/// Warm-up of +DI/-DI.
pub const fn dmi_lookback(period: usize) -> usize {
    period
}

/// Warm-up of ADX.
pub const fn adx_lookback(period: usize) -> usize {
    2 * period - 1
}

#[derive(Clone, Debug, Default)]
pub struct DmiColumns {
    pub plus_di: Vec<f64>,
    pub minus_di: Vec<f64>,
    pub adx: Vec<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DmiValue {
    pub plus_di: f64,
    pub minus_di: f64,
    /// `None` until the ADX warm-up (2N-1 bars) is over.
    pub adx: Option<f64>,
}

#[inline]
fn directional_moves(high: f64, low: f64, prev_high: f64, prev_low: f64) -> (f64, f64) {
    let diff_p = high - prev_high;
    let diff_m = prev_low - low;
    let plus = if diff_p > 0.0 && diff_p > diff_m {
        diff_p
    } else {
        0.0
    };
    let minus = if diff_m > 0.0 && diff_p < diff_m {
        diff_m
    } else {
        0.0
    };
    (plus, minus)
}

/// (+DI, -DI, DX) from smoothed sums; DX `None` where TA-Lib skips it.
#[inline]
fn indexes(plus_dm: f64, minus_dm: f64, tr: f64) -> (f64, f64, Option<f64>) {
    if talib_is_zero(tr) {
        return (0.0, 0.0, None);
    }
    let minus_di = 100.0 * (minus_dm / tr);
    let plus_di = 100.0 * (plus_dm / tr);
    let sum = minus_di + plus_di;
    let dx = if talib_is_zero(sum) {
        None
    } else {
        Some(100.0 * ((minus_di - plus_di).abs() / sum))
    };
    (plus_di, minus_di, dx)
}

pub fn dmi(high: &[f64], low: &[f64], close: &[f64], period: usize) -> DmiColumns {
    dmi_with(high, low, close, period, DmiColumns::default())
}

/// `dmi` writing into `buf`'s memory.
pub fn dmi_with(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    period: usize,
    buf: DmiColumns,
) -> DmiColumns {
    assert!(period >= 2, "ADX/DI period must be at least 2");
    let n = close.len().min(high.len()).min(low.len());
    let mut cols = DmiColumns {
        plus_di: warm_vec(buf.plus_di, n, dmi_lookback(period)),
        minus_di: warm_vec(buf.minus_di, n, dmi_lookback(period)),
        adx: warm_vec(buf.adx, n, adx_lookback(period)),
    };
    if n <= period {
        return cols;
    }
    let p = period as f64;
    let (mut plus_dm, mut minus_dm, mut tr) = (0.0, 0.0, 0.0);
    for i in 1..period {
        let (pd, md) = directional_moves(high[i], low[i], high[i - 1], low[i - 1]);
        plus_dm += pd;
        minus_dm += md;
        tr += true_range(high[i], low[i], close[i - 1]);
    }
    let mut sum_dx = 0.0;
    let mut adx = 0.0;
    let adx_start = adx_lookback(period);
    for i in period..n {
        let (pd, md) = directional_moves(high[i], low[i], high[i - 1], low[i - 1]);
        plus_dm = plus_dm - plus_dm / p + pd;
        minus_dm = minus_dm - minus_dm / p + md;
        tr = tr - tr / p + true_range(high[i], low[i], close[i - 1]);
        let (plus_di, minus_di, dx) = indexes(plus_dm, minus_dm, tr);
        cols.plus_di.push(plus_di);
        cols.minus_di.push(minus_di);
        if i < adx_start {
            sum_dx += dx.unwrap_or(0.0);
        } else if i == adx_start {
            sum_dx += dx.unwrap_or(0.0);
            adx = sum_dx / p;
            cols.adx.push(adx);
        } else {
            if let Some(dx) = dx {
                adx = (adx * (p - 1.0) + dx) / p;
            }
            cols.adx.push(adx);
        }
    }
    cols
}

#[derive(Clone, Debug)]
pub struct Dmi {
    period: usize,
    seen: usize,
    prev_high: f64,
    prev_low: f64,
    prev_close: f64,
    plus_dm: f64,
    minus_dm: f64,
    tr: f64,
    sum_dx: f64,
    adx: f64,
}

impl Dmi {
    pub fn new(period: usize) -> Self {
        assert!(period >= 2, "ADX/DI period must be at least 2");
        Dmi {
            period,
            seen: 0,
            prev_high: 0.0,
            prev_low: 0.0,
            prev_close: 0.0,
            plus_dm: 0.0,
            minus_dm: 0.0,
            tr: 0.0,
            sum_dx: 0.0,
            adx: 0.0,
        }
    }

    #[inline]
    pub fn update(&mut self, high: f64, low: f64, close: f64) -> Option<DmiValue> {
        let i = self.seen;
        self.seen = self.seen.saturating_add(1);
        if i == 0 {
            (self.prev_high, self.prev_low, self.prev_close) = (high, low, close);
            return None;
        }
        let (pd, md) = directional_moves(high, low, self.prev_high, self.prev_low);
        let tr = true_range(high, low, self.prev_close);
        (self.prev_high, self.prev_low, self.prev_close) = (high, low, close);
        if i < self.period {
            self.plus_dm += pd;
            self.minus_dm += md;
            self.tr += tr;
            return None;
        }
        let p = self.period as f64;
        self.plus_dm = self.plus_dm - self.plus_dm / p + pd;
        self.minus_dm = self.minus_dm - self.minus_dm / p + md;
        self.tr = self.tr - self.tr / p + tr;
        let (plus_di, minus_di, dx) = indexes(self.plus_dm, self.minus_dm, self.tr);
        let adx_start = adx_lookback(self.period);
        let adx = if i < adx_start {
            self.sum_dx += dx.unwrap_or(0.0);
            None
        } else if i == adx_start {
            self.sum_dx += dx.unwrap_or(0.0);
            self.adx = self.sum_dx / p;
            Some(self.adx)
        } else {
            if let Some(dx) = dx {
                self.adx = (self.adx * (p - 1.0) + dx) / p;
            }
            Some(self.adx)
        };
        Some(DmiValue {
            plus_di,
            minus_di,
            adx,
        })
    }
}

//! Average true range (TA-Lib ATR): the first value is the mean of the first N true ranges
//! (bars 1..=N, each needing the previous close), then Wilder smoothing.
use super::warm_vec;

pub const fn atr_lookback(period: usize) -> usize {
    period
}

/// TA-Lib's TRUE_RANGE: the largest of high-low, |high-prev close|, |low-prev close|.
#[inline]
pub fn true_range(high: f64, low: f64, prev_close: f64) -> f64 {
    let mut out = high - low;
    let t = (high - prev_close).abs();
    if t > out {
        out = t;
    }
    let t = (low - prev_close).abs();
    if t > out {
        out = t;
    }
    out
}

pub fn atr(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Vec<f64> {
    atr_with(high, low, close, period, Vec::new())
}

/// `atr` writing into `buf`'s memory.
pub fn atr_with(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    period: usize,
    buf: Vec<f64>,
) -> Vec<f64> {
    assert!(period >= 1, "ATR period must be at least 1");
    let n = close.len().min(high.len()).min(low.len());
    let mut out = warm_vec(buf, n, atr_lookback(period));
    if n <= period {
        return out;
    }
    let p = period as f64;
    let mut sum = 0.0;
    for i in 1..=period {
        sum += true_range(high[i], low[i], close[i - 1]);
    }
    let mut prev = sum / p;
    out.push(prev);
    for i in period + 1..n {
        prev *= p - 1.0;
        prev += true_range(high[i], low[i], close[i - 1]);
        prev /= p;
        out.push(prev);
    }
    out
}

#[derive(Clone, Debug)]
pub struct Atr {
    period: usize,
    seen: usize,
    prev_close: f64,
    sum: f64,
    value: f64,
}

impl Atr {
    pub fn new(period: usize) -> Self {
        assert!(period >= 1, "ATR period must be at least 1");
        Atr {
            period,
            seen: 0,
            prev_close: 0.0,
            sum: 0.0,
            value: f64::NAN,
        }
    }

    #[inline]
    pub fn update(&mut self, high: f64, low: f64, close: f64) -> Option<f64> {
        let p = self.period as f64;
        if self.seen == 0 {
            self.seen = 1;
            self.prev_close = close;
            return None;
        }
        let tr = true_range(high, low, self.prev_close);
        self.prev_close = close;
        if self.seen > self.period {
            self.value *= p - 1.0;
            self.value += tr;
            self.value /= p;
            return Some(self.value);
        }
        self.sum += tr;
        self.seen += 1;
        if self.seen > self.period {
            self.value = self.sum / p;
            Some(self.value)
        } else {
            None
        }
    }
}

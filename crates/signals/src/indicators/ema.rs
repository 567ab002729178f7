//! Exponential moving average, k = 2/(N+1), seeded with the SMA of the first N inputs (TA-Lib's
//! default compatibility mode).
use super::warm_vec;

pub const fn ema_lookback(period: usize) -> usize {
    period - 1
}

pub fn ema(input: &[f64], period: usize) -> Vec<f64> {
    ema_with(input, period, Vec::new())
}

/// `ema` writing into `buf`'s memory.
pub fn ema_with(input: &[f64], period: usize, buf: Vec<f64>) -> Vec<f64> {
    ema_seeded_at(input, period, period - 1, buf)
}

/// EMA whose seed is the SMA of the N inputs ending at `seed_index`; NaN before it. TA-Lib's MACD
/// starts its fast EMA this way (seeded on the bars ending where the slow EMA starts).
pub(crate) fn ema_seeded_at(
    input: &[f64],
    period: usize,
    seed_index: usize,
    buf: Vec<f64>,
) -> Vec<f64> {
    assert!(period >= 1, "EMA period must be at least 1");
    let mut out = warm_vec(buf, input.len(), seed_index);
    if input.len() <= seed_index {
        return out;
    }
    let k = 2.0 / (period as f64 + 1.0);
    let mut sum = 0.0;
    for &x in &input[seed_index + 1 - period..=seed_index] {
        sum += x;
    }
    let mut prev = sum / period as f64;
    out.push(prev);
    for &x in &input[seed_index + 1..] {
        prev = (x - prev) * k + prev;
        out.push(prev);
    }
    out
}

#[derive(Clone, Debug)]
pub struct Ema {
    period: usize,
    k: f64,
    /// Inputs to ignore before seeding (TA-Lib MACD's fast line).
    skip: usize,
    seen: usize,
    sum: f64,
    value: f64,
}

impl Ema {
    pub fn new(period: usize) -> Self {
        Self::with_skip(period, 0)
    }

    pub(crate) fn with_skip(period: usize, skip: usize) -> Self {
        assert!(period >= 1, "EMA period must be at least 1");
        Ema {
            period,
            k: 2.0 / (period as f64 + 1.0),
            skip,
            seen: 0,
            sum: 0.0,
            value: f64::NAN,
        }
    }

    #[inline]
    pub fn update(&mut self, x: f64) -> Option<f64> {
        let warm = self.skip + self.period;
        if self.seen >= warm {
            self.value = (x - self.value) * self.k + self.value;
            return Some(self.value);
        }
        self.seen += 1;
        if self.seen <= self.skip {
            return None;
        }
        self.sum += x;
        if self.seen == warm {
            self.value = self.sum / self.period as f64;
            Some(self.value)
        } else {
            None
        }
    }
}

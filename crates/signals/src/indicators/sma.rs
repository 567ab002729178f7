//! Simple moving average (TA-Lib SMA: running total, add newest, emit, subtract oldest).
use super::ring::Ring;
use super::warm_vec;

pub const fn sma_lookback(period: usize) -> usize {
    period - 1
}

pub fn sma(input: &[f64], period: usize) -> Vec<f64> {
    sma_with(input, period, Vec::new())
}

/// `sma` writing into `buf`'s memory.
pub fn sma_with(input: &[f64], period: usize, buf: Vec<f64>) -> Vec<f64> {
    assert!(period >= 1, "SMA period must be at least 1");
    let mut out = warm_vec(buf, input.len(), sma_lookback(period));
    if input.len() < period {
        return out;
    }
    let p = period as f64;
    let mut total: f64 = input[..period - 1].iter().sum();
    for i in period - 1..input.len() {
        total += input[i];
        out.push(total / p);
        total -= input[i + 1 - period];
    }
    out
}

#[derive(Clone, Debug)]
pub struct Sma {
    period: f64,
    window: Ring,
    total: f64,
}

impl Sma {
    pub fn new(period: usize) -> Self {
        assert!(period >= 1, "SMA period must be at least 1");
        Sma {
            period: period as f64,
            window: Ring::new(period),
            total: 0.0,
        }
    }

    #[inline]
    pub fn update(&mut self, x: f64) -> Option<f64> {
        self.total += x;
        if !self.window.push(x) {
            return None;
        }
        let out = self.total / self.period;
        // The ring now holds the last N inputs; its oldest leaves the total before the next one.
        self.total -= self.window.oldest();
        Some(out)
    }
}

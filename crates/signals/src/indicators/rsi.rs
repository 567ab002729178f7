//! Relative strength index with Wilder smoothing (TA-Lib RSI). 0 when there was no movement.
use super::{talib_is_zero, warm_vec};

pub const fn rsi_lookback(period: usize) -> usize {
    period
}

#[inline]
fn rsi_value(gain: f64, loss: f64) -> f64 {
    let total = gain + loss;
    if talib_is_zero(total) {
        0.0
    } else {
        100.0 * (gain / total)
    }
}

pub fn rsi(input: &[f64], period: usize) -> Vec<f64> {
    rsi_with(input, period, Vec::new())
}

/// `rsi` writing into `buf`'s memory.
pub fn rsi_with(input: &[f64], period: usize, buf: Vec<f64>) -> Vec<f64> {
    assert!(period >= 2, "RSI period must be at least 2");
    let mut out = warm_vec(buf, input.len(), rsi_lookback(period));
    if input.len() <= period {
        return out;
    }
    let p = period as f64;
    let (mut gain, mut loss) = (0.0, 0.0);
    for i in 1..=period {
        let d = input[i] - input[i - 1];
        if d < 0.0 {
            loss -= d;
        } else {
            gain += d;
        }
    }
    loss /= p;
    gain /= p;
    out.push(rsi_value(gain, loss));
    for i in period + 1..input.len() {
        let d = input[i] - input[i - 1];
        loss *= p - 1.0;
        gain *= p - 1.0;
        if d < 0.0 {
            loss -= d;
        } else {
            gain += d;
        }
        loss /= p;
        gain /= p;
        out.push(rsi_value(gain, loss));
    }
    out
}

#[derive(Clone, Debug)]
pub struct Rsi {
    period: usize,
    seen: usize,
    prev: f64,
    gain: f64,
    loss: f64,
}

impl Rsi {
    pub fn new(period: usize) -> Self {
        assert!(period >= 2, "RSI period must be at least 2");
        Rsi {
            period,
            seen: 0,
            prev: 0.0,
            gain: 0.0,
            loss: 0.0,
        }
    }

    #[inline]
    pub fn update(&mut self, x: f64) -> Option<f64> {
        let p = self.period as f64;
        if self.seen == 0 {
            self.seen = 1;
            self.prev = x;
            return None;
        }
        let d = x - self.prev;
        self.prev = x;
        if self.seen > self.period {
            self.loss *= p - 1.0;
            self.gain *= p - 1.0;
        }
        if d < 0.0 {
            self.loss -= d;
        } else {
            self.gain += d;
        }
        if self.seen < self.period {
            self.seen += 1;
            return None;
        }
        self.seen = self.period + 1;
        self.loss /= p;
        self.gain /= p;
        Some(rsi_value(self.gain, self.loss))
    }
}

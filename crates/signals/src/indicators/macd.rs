//! MACD (TA-Lib): slow EMA seeded on the first `slow` inputs; the fast EMA is seeded on the
//! `fast` inputs ending at the same bar (TA-Lib's alignment, not on the first `fast` inputs);
//! signal = EMA of the MACD line. All three are output from bar `slow-1 + signal-1`.
use super::ema::{Ema, ema_seeded_at};

pub const fn macd_lookback(slow: usize, signal: usize) -> usize {
    (slow - 1) + (signal - 1)
}

#[derive(Clone, Debug, Default)]
pub struct MacdColumns {
    pub macd: Vec<f64>,
    pub signal: Vec<f64>,
    pub hist: Vec<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MacdValue {
    pub macd: f64,
    pub signal: f64,
    pub hist: f64,
}

pub fn macd(input: &[f64], fast: usize, slow: usize, signal: usize) -> MacdColumns {
    assert!(
        fast >= 1 && fast < slow && signal >= 1,
        "MACD needs 1 <= fast < slow and signal >= 1"
    );
    let n = input.len();
    let mut cols = MacdColumns {
        macd: vec![f64::NAN; n],
        signal: vec![f64::NAN; n],
        hist: vec![f64::NAN; n],
    };
    let start = slow - 1;
    let lookback = macd_lookback(slow, signal);
    if n <= lookback {
        return cols;
    }
    let fast_ema = ema_seeded_at(input, fast, start);
    let slow_ema = ema_seeded_at(input, slow, start);
    let line: Vec<f64> = (start..n).map(|i| fast_ema[i] - slow_ema[i]).collect();
    let sig = ema_seeded_at(&line, signal, signal - 1);
    for i in lookback..n {
        let m = line[i - start];
        let s = sig[i - start];
        cols.macd[i] = m;
        cols.signal[i] = s;
        cols.hist[i] = m - s;
    }
    cols
}

#[derive(Clone, Debug)]
pub struct Macd {
    fast: Ema,
    slow: Ema,
    signal: Ema,
}

impl Macd {
    pub fn new(fast: usize, slow: usize, signal: usize) -> Self {
        assert!(
            fast >= 1 && fast < slow && signal >= 1,
            "MACD needs 1 <= fast < slow and signal >= 1"
        );
        Macd {
            fast: Ema::with_skip(fast, slow - fast),
            slow: Ema::new(slow),
            signal: Ema::new(signal),
        }
    }

    #[inline]
    pub fn update(&mut self, x: f64) -> Option<MacdValue> {
        let f = self.fast.update(x);
        let s = self.slow.update(x)?;
        let line = f? - s;
        let sig = self.signal.update(line)?;
        Some(MacdValue {
            macd: line,
            signal: sig,
            hist: line - sig,
        })
    }
}

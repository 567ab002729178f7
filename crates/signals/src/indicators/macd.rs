//! MACD (TA-Lib): slow EMA seeded on the first `slow` inputs; the fast EMA is seeded on the
//! `fast` inputs ending at the same bar (TA-Lib's alignment, not on the first `fast` inputs);
//! signal = EMA of the MACD line, seeded on its first `signal` values. All three are output from
//! bar `slow-1 + signal-1`.
use super::ema::Ema;
use super::warm_vec;

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

/// One pass, no intermediate columns (TA-Lib computes the same values through buffers).
pub fn macd(input: &[f64], fast: usize, slow: usize, signal: usize) -> MacdColumns {
    macd_with(input, fast, slow, signal, MacdColumns::default())
}

/// `macd` writing into `buf`'s memory.
pub fn macd_with(
    input: &[f64],
    fast: usize,
    slow: usize,
    signal: usize,
    buf: MacdColumns,
) -> MacdColumns {
    assert!(
        fast >= 1 && fast < slow && signal >= 1,
        "MACD needs 1 <= fast < slow and signal >= 1"
    );
    let n = input.len();
    let start = slow - 1;
    let lookback = macd_lookback(slow, signal);
    let mut cols = MacdColumns {
        macd: warm_vec(buf.macd, n, lookback),
        signal: warm_vec(buf.signal, n, lookback),
        hist: warm_vec(buf.hist, n, lookback),
    };
    if n <= lookback {
        return cols;
    }
    let (kf, ks, kg) = (
        2.0 / (fast as f64 + 1.0),
        2.0 / (slow as f64 + 1.0),
        2.0 / (signal as f64 + 1.0),
    );
    let mut fast_ema = 0.0;
    for &x in &input[start + 1 - fast..=start] {
        fast_ema += x;
    }
    fast_ema /= fast as f64;
    let mut slow_ema = 0.0;
    for &x in &input[..=start] {
        slow_ema += x;
    }
    slow_ema /= slow as f64;
    let mut line = fast_ema - slow_ema;
    let mut signal_sum = line;
    for &x in &input[start + 1..=lookback] {
        fast_ema = (x - fast_ema) * kf + fast_ema;
        slow_ema = (x - slow_ema) * ks + slow_ema;
        line = fast_ema - slow_ema;
        signal_sum += line;
    }
    let mut sig = signal_sum / signal as f64;
    cols.macd.push(line);
    cols.signal.push(sig);
    cols.hist.push(line - sig);
    for &x in &input[lookback + 1..] {
        fast_ema = (x - fast_ema) * kf + fast_ema;
        slow_ema = (x - slow_ema) * ks + slow_ema;
        line = fast_ema - slow_ema;
        sig = (line - sig) * kg + sig;
        cols.macd.push(line);
        cols.signal.push(sig);
        cols.hist.push(line - sig);
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

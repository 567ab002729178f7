//! Slow stochastic (TA-Lib STOCH with SMA smoothing): fast %K = (close - lowest low) /
//! ((highest high - lowest low) / 100) over N bars, 0 when the range is 0; slow %K = SMA of fast
//! %K; %D = SMA of slow %K. Both lines are output from the end of the whole warm-up, as TA-Lib.
use std::collections::VecDeque;

use super::sma::Sma;
use super::warm_vec;

pub const fn stoch_lookback(k_period: usize, slow_k: usize, slow_d: usize) -> usize {
    (k_period - 1) + (slow_k - 1) + (slow_d - 1)
}

#[derive(Clone, Debug, Default)]
pub struct StochColumns {
    pub k: Vec<f64>,
    pub d: Vec<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StochValue {
    pub k: f64,
    pub d: f64,
}

#[inline]
fn fast_k(close: f64, lowest: f64, highest: f64) -> f64 {
    let diff = (highest - lowest) / 100.0;
    if diff != 0.0 {
        (close - lowest) / diff
    } else {
        0.0
    }
}

pub fn slow_stochastic(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    k_period: usize,
    slow_k: usize,
    slow_d: usize,
) -> StochColumns {
    slow_stochastic_with(
        high,
        low,
        close,
        k_period,
        slow_k,
        slow_d,
        StochColumns::default(),
    )
}

/// `slow_stochastic` writing into `buf`'s memory.
#[allow(clippy::too_many_arguments)]
pub fn slow_stochastic_with(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    k_period: usize,
    slow_k: usize,
    slow_d: usize,
    buf: StochColumns,
) -> StochColumns {
    assert!(
        k_period >= 1 && slow_k >= 1 && slow_d >= 1,
        "stochastic periods must be at least 1"
    );
    let n = close.len().min(high.len()).min(low.len());
    let lookback = stoch_lookback(k_period, slow_k, slow_d);
    let mut cols = StochColumns {
        k: warm_vec(buf.k, n, lookback),
        d: warm_vec(buf.d, n, lookback),
    };
    if n <= lookback {
        return cols;
    }
    let mut k_sma = Sma::new(slow_k);
    let mut d_sma = Sma::new(slow_d);
    // Window extremes by rescanning only when the extreme leaves the window (TA-Lib's approach).
    let (mut hi_idx, mut lo_idx) = (usize::MAX, usize::MAX);
    let (mut highest, mut lowest) = (f64::NAN, f64::NAN);
    for today in k_period - 1..n {
        let trailing = today + 1 - k_period;
        if hi_idx == usize::MAX || hi_idx < trailing {
            hi_idx = trailing;
            highest = high[trailing];
            for (j, &h) in high.iter().enumerate().take(today + 1).skip(trailing + 1) {
                if h >= highest {
                    highest = h;
                    hi_idx = j;
                }
            }
        } else if high[today] >= highest {
            highest = high[today];
            hi_idx = today;
        }
        if lo_idx == usize::MAX || lo_idx < trailing {
            lo_idx = trailing;
            lowest = low[trailing];
            for (j, &l) in low.iter().enumerate().take(today + 1).skip(trailing + 1) {
                if l <= lowest {
                    lowest = l;
                    lo_idx = j;
                }
            }
        } else if low[today] <= lowest {
            lowest = low[today];
            lo_idx = today;
        }
        let Some(k) = k_sma.update(fast_k(close[today], lowest, highest)) else {
            continue;
        };
        let Some(d) = d_sma.update(k) else {
            continue;
        };
        cols.k.push(k);
        cols.d.push(d);
    }
    cols
}

/// Sliding-window maximum (or minimum) with a monotonic deque: amortised O(1) per push.
#[derive(Clone, Debug)]
struct WindowExtreme {
    period: u64,
    max: bool,
    items: VecDeque<(u64, f64)>,
}

impl WindowExtreme {
    fn new(period: usize, max: bool) -> Self {
        WindowExtreme {
            period: period as u64,
            max,
            items: VecDeque::with_capacity(period + 1),
        }
    }

    #[inline]
    fn push(&mut self, index: u64, x: f64) -> f64 {
        while let Some(&(_, back)) = self.items.back() {
            let dominated = if self.max { back <= x } else { back >= x };
            if !dominated {
                break;
            }
            self.items.pop_back();
        }
        self.items.push_back((index, x));
        while let Some(&(i, _)) = self.items.front() {
            if i + self.period > index {
                break;
            }
            self.items.pop_front();
        }
        self.items.front().map_or(x, |&(_, v)| v)
    }
}

#[derive(Clone, Debug)]
pub struct SlowStochastic {
    k_period: u64,
    seen: u64,
    highest: WindowExtreme,
    lowest: WindowExtreme,
    slow_k: Sma,
    slow_d: Sma,
}

impl SlowStochastic {
    pub fn new(k_period: usize, slow_k: usize, slow_d: usize) -> Self {
        assert!(
            k_period >= 1 && slow_k >= 1 && slow_d >= 1,
            "stochastic periods must be at least 1"
        );
        SlowStochastic {
            k_period: k_period as u64,
            seen: 0,
            highest: WindowExtreme::new(k_period, true),
            lowest: WindowExtreme::new(k_period, false),
            slow_k: Sma::new(slow_k),
            slow_d: Sma::new(slow_d),
        }
    }

    #[inline]
    pub fn update(&mut self, high: f64, low: f64, close: f64) -> Option<StochValue> {
        let i = self.seen;
        self.seen += 1;
        let highest = self.highest.push(i, high);
        let lowest = self.lowest.push(i, low);
        if i + 1 < self.k_period {
            return None;
        }
        let k = self.slow_k.update(fast_k(close, lowest, highest))?;
        let d = self.slow_d.update(k)?;
        Some(StochValue { k, d })
    }
}

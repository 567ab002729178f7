//! Bollinger bands around an SMA with the population standard deviation, computed as TA-Lib
//! does: mean of squares minus squared mean over running totals, 0 when that is below 1e-8
//! (`TA_IS_ZERO_OR_NEG`).
use super::ring::Ring;
use super::warm_vec;

pub const fn bollinger_lookback(period: usize) -> usize {
    period - 1
}

#[derive(Clone, Debug, Default)]
pub struct BandsColumns {
    pub upper: Vec<f64>,
    pub middle: Vec<f64>,
    pub lower: Vec<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BandsValue {
    pub upper: f64,
    pub middle: f64,
    pub lower: f64,
}

#[inline]
fn std_dev(mean_of_squares: f64, mean: f64) -> f64 {
    let variance = mean_of_squares - mean * mean;
    if variance < 0.000_000_01 {
        0.0
    } else {
        variance.sqrt()
    }
}

pub fn bollinger_bands(input: &[f64], period: usize, deviations: f64) -> BandsColumns {
    bollinger_bands_with(input, period, deviations, BandsColumns::default())
}

/// `bollinger_bands` writing into `buf`'s memory.
pub fn bollinger_bands_with(
    input: &[f64],
    period: usize,
    deviations: f64,
    buf: BandsColumns,
) -> BandsColumns {
    assert!(period >= 2, "Bollinger period must be at least 2");
    let n = input.len();
    let mut cols = BandsColumns {
        upper: warm_vec(buf.upper, n, bollinger_lookback(period)),
        middle: warm_vec(buf.middle, n, bollinger_lookback(period)),
        lower: warm_vec(buf.lower, n, bollinger_lookback(period)),
    };
    if n < period {
        return cols;
    }
    let p = period as f64;
    let (mut total, mut total_sq) = (0.0, 0.0);
    for &x in &input[..period - 1] {
        total += x;
        total_sq += x * x;
    }
    for i in period - 1..n {
        let x = input[i];
        total += x;
        total_sq += x * x;
        let mean = total / p;
        let dev = std_dev(total_sq / p, mean) * deviations;
        let old = input[i + 1 - period];
        total -= old;
        total_sq -= old * old;
        cols.middle.push(mean);
        cols.upper.push(mean + dev);
        cols.lower.push(mean - dev);
    }
    cols
}

#[derive(Clone, Debug)]
pub struct BollingerBands {
    period: f64,
    deviations: f64,
    window: Ring,
    total: f64,
    total_sq: f64,
}

impl BollingerBands {
    pub fn new(period: usize, deviations: f64) -> Self {
        assert!(period >= 2, "Bollinger period must be at least 2");
        BollingerBands {
            period: period as f64,
            deviations,
            window: Ring::new(period),
            total: 0.0,
            total_sq: 0.0,
        }
    }

    #[inline]
    pub fn update(&mut self, x: f64) -> Option<BandsValue> {
        self.total += x;
        self.total_sq += x * x;
        if !self.window.push(x) {
            return None;
        }
        let mean = self.total / self.period;
        let dev = std_dev(self.total_sq / self.period, mean) * self.deviations;
        let old = self.window.oldest();
        self.total -= old;
        self.total_sq -= old * old;
        Some(BandsValue {
            upper: mean + dev,
            middle: mean,
            lower: mean - dev,
        })
    }
}

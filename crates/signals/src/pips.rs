//! The one place prices become pips.
use serde::{Deserialize, Serialize};

/// Pip size of a symbol when none is configured: gold 0.1 (as the original bot counted),
/// silver 0.01, yen pairs 0.01, other currency pairs 0.0001.
pub fn default_pip_size(symbol: &str) -> f64 {
    let s: String = symbol
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_uppercase();
    if s.starts_with("XAU") {
        0.1
    } else if s.starts_with("XAG") || s.ends_with("JPY") {
        0.01
    } else {
        0.0001
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PipCalculator {
    pub pip_size: f64,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("pip size must be a positive finite number, got {0}")]
pub struct BadPipSize(pub f64);

impl PipCalculator {
    pub fn for_symbol(symbol: &str) -> Self {
        PipCalculator {
            pip_size: default_pip_size(symbol),
        }
    }

    pub fn new(pip_size: f64) -> Result<Self, BadPipSize> {
        if pip_size.is_finite() && pip_size > 0.0 {
            Ok(PipCalculator { pip_size })
        } else {
            Err(BadPipSize(pip_size))
        }
    }

    /// The configured size if any, else the symbol's default.
    pub fn for_symbol_or(symbol: &str, configured: Option<f64>) -> Result<Self, BadPipSize> {
        match configured {
            Some(size) => Self::new(size),
            None => Ok(Self::for_symbol(symbol)),
        }
    }

    #[inline]
    pub fn to_pips(&self, price_difference: f64) -> f64 {
        price_difference / self.pip_size
    }

    /// Decimals to show prices with: one more than the pip's (EURUSD 5, XAU/USD 2).
    pub fn price_decimals(&self) -> usize {
        let d = (-self.pip_size.log10()).round();
        if d.is_finite() && d >= 0.0 {
            d as usize + 1
        } else {
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pip_sizes_per_symbol() {
        assert_eq!(default_pip_size("XAU/USD"), 0.1);
        assert_eq!(default_pip_size("EURUSD"), 0.0001);
        assert_eq!(default_pip_size("usd_jpy"), 0.01);
        let gold = PipCalculator::for_symbol("XAU/USD");
        assert!((gold.to_pips(2.5) - 25.0).abs() < 1e-9);
        assert_eq!(gold.price_decimals(), 2);
        let eur = PipCalculator::for_symbol("EUR/USD");
        assert!((eur.to_pips(0.0012) - 12.0).abs() < 1e-9);
        assert_eq!(eur.price_decimals(), 5);
        assert!(PipCalculator::new(0.0).is_err());
        assert_eq!(
            PipCalculator::for_symbol_or("XAU/USD", Some(0.01))
                .unwrap()
                .pip_size,
            0.01
        );
    }
}

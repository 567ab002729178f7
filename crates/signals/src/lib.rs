//! Pure signals core (DESIGN.md §1): indicators, indicator registry, strategies, the signal
//! lifecycle, the backtester and message texts. No I/O, no async, no clock: callers pass times
//! in and CSV as `&str`.
pub mod bars;
pub mod indicators;
pub mod snapshot;

pub use bars::{Bar, CsvError, OhlcSeries, Timeframe, UnixSeconds, parse_ohlc_csv};
pub use snapshot::IndicatorSnapshot;

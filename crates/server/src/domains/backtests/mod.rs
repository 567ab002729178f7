//! Backtests from the dashboard (docs/backtests.md): replays of the bundled EUR/USD hourly bars
//! through the signals crate's strategies, the same report the `backtest` CLI prints.
pub mod routes;
pub mod service;

pub use service::{BacktestRequest, BacktestService, bundled_bars};

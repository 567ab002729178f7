//! Pure signals core (docs/design.md §1): indicators, indicator registry, strategies, the signal
//! lifecycle, the backtester and message texts. No I/O, no async, no clock: callers pass times
//! in and CSV as `&str`.
pub mod backtest;
pub mod bars;
pub mod direction;
pub mod engine;
pub mod indicators;
pub mod lifecycle;
pub mod messages;
pub mod pips;
pub mod registry;
pub mod report;
pub mod report_html;
pub mod snapshot;
pub mod strategy;
pub mod sweep;
pub mod timing;

pub use backtest::{
    BacktestError, BacktestOptions, BacktestReport, Costs, PreparedSeries, run_backtest,
};
pub use bars::{Bar, CsvError, OhlcSeries, Timeframe, UnixSeconds, parse_ohlc_csv};
pub use direction::Direction;
pub use engine::{EngineError, EngineStep, SignalEngine, StrategySwitch};
pub use indicators::StandardIndicators;
pub use lifecycle::{ClosedSignal, EventKind, OpenSignal, Outcome, SignalEvent, SignalHeader};
pub use pips::PipCalculator;
pub use registry::{INDICATOR_REGISTRY, IndicatorId, ThesisStatus};
pub use snapshot::IndicatorSnapshot;
pub use strategy::{STRATEGIES, Strategy, StrategyParams, strategy_by_name, strategy_names};

//! Market data for the forex service: closed OHLC bars and the last price of a symbol, from
//! Twelve Data (live) or a replay of a bundled real OHLC file (the embedded default). The
//! source also owns the market's clock: the wall clock for Twelve Data, the replay position
//! for a replay, so a replayed week passes in minutes (docs/forex.md).
pub mod replay;
pub mod twelve_data;

use std::future::Future;
use std::pin::Pin;

pub use promostack_signals::bars::{Bar, Timeframe, UnixSeconds};

pub use replay::ReplaySource;
pub use twelve_data::TwelveData;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why a source gave no data. The text is for logs and the status page (never a key).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MarketDataError {
    #[error("{source_name}: rate limited, next call in {retry_after_s} s")]
    RateLimited {
        source_name: &'static str,
        retry_after_s: u64,
    },
    #[error("{source_name} refused the request ({code}): {message}")]
    Refused {
        source_name: &'static str,
        code: i64,
        message: String,
    },
    #[error("{source_name} has no {timeframe} bars of {symbol}")]
    NoSuchSeries {
        source_name: &'static str,
        symbol: String,
        timeframe: &'static str,
    },
    #[error("{source_name} is unavailable: {reason}")]
    Unavailable {
        source_name: &'static str,
        reason: String,
    },
}

pub type MarketResult<T> = Result<T, MarketDataError>;

/// A source of closed bars. Implementations return only bars that have closed by [`now`]
/// (a forming bar is never returned), oldest first.
///
/// [`now`]: MarketData::now
pub trait MarketData: Send + Sync {
    /// Short name for logs and `market_bars.source`.
    fn name(&self) -> &'static str;
    /// The market's current time in unix seconds.
    fn now(&self) -> UnixSeconds;
    /// Closed bars opening after `after` (all it will give when `None`), at most `limit`, the
    /// newest ones when there are more.
    fn closed_bars<'a>(
        &'a self,
        symbol: &'a str,
        timeframe: Timeframe,
        after: Option<UnixSeconds>,
        limit: usize,
    ) -> BoxFuture<'a, MarketResult<Vec<Bar>>>;
    /// The last traded price, when the source has one between bars (a replay has none).
    fn price<'a>(&'a self, symbol: &'a str) -> BoxFuture<'a, MarketResult<Option<f64>>>;
    /// Tell a replay where the stored history ends, so a restart carries on after it instead
    /// of replaying the same hours again. Live sources ignore it.
    fn resume_after(&self, _symbol: &str, _timeframe: Timeframe, _newest_open: UnixSeconds) {}
    /// What a replay plays (the demo workspace follows it); `None` for a live source.
    fn replayed(&self) -> Option<(String, Timeframe)> {
        None
    }
}

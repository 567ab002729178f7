//! The embedded market: a real OHLC file played back at `speed` bars per wall second. The
//! first `history` bars count as already closed when the replay starts (indicators need a
//! warm-up); the rest are released one by one. At the end the file starts again, shifted so
//! time keeps going forward (the seam is a price gap, as after a weekend).
use std::sync::Mutex;

use promostack_signals::bars::{OhlcSeries, parse_ohlc_csv};

use super::{Bar, BoxFuture, MarketData, MarketDataError, MarketResult, Timeframe, UnixSeconds};
use crate::time::{Clock, Millis};

/// The bundled file: real EUR/USD hourly bars, 2017-04-19 to 2018-02-07 (also the backtests'
/// data). The demo workspace follows EUR/USD because that is what this file is.
pub const BUNDLED_CSV: &str = include_str!("../../../data/EURUSD_H1.csv");
pub const BUNDLED_SYMBOL: &str = "EUR/USD";
/// Bars already closed when a fresh replay starts: enough for EMA 200 and ADX to settle.
pub const DEFAULT_HISTORY: usize = 300;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReplayFileError {
    #[error("replay file: {0}")]
    Csv(String),
    #[error("replay file: {0} bars; at least {1} are needed (warm-up plus one)")]
    TooShort(usize, usize),
    #[error(
        "replay file: bars must be {step} s apart or a multiple of it (weekends); line {line} is not"
    )]
    Irregular { step: i64, line: usize },
}

pub struct ReplaySource {
    symbol: String,
    timeframe: Timeframe,
    bars: Vec<Bar>,
    /// Seconds from the first bar's open to one step past the last: one pass of the file.
    period: i64,
    speed: f64,
    clock: Clock,
    position: Mutex<Position>,
}

/// Which virtual bar is released at which wall time: `released(w) = first + (w - since) · speed`.
#[derive(Debug, Clone, Copy)]
struct Position {
    first: u64,
    since_ms: Millis,
}

impl ReplaySource {
    /// Parse `csv` (docs/design.md §7 input format; rows must be one timeframe apart, gaps
    /// allowed). A file with bad rows is refused as a whole, naming the line.
    pub fn from_csv(
        csv: &str,
        symbol: &str,
        speed: f64,
        history: usize,
        clock: Clock,
    ) -> Result<Self, ReplayFileError> {
        let series: OhlcSeries =
            parse_ohlc_csv(csv).map_err(|e| ReplayFileError::Csv(e.to_string()))?;
        let bars = series.bars;
        if bars.len() < history + 1 || bars.len() < 2 {
            return Err(ReplayFileError::TooShort(bars.len(), history + 1));
        }
        let step = bars
            .windows(2)
            .map(|w| w[1].time - w[0].time)
            .min()
            .unwrap_or(0);
        let timeframe = [Timeframe::M15, Timeframe::H1]
            .into_iter()
            .find(|tf| tf.seconds() == step)
            .ok_or(ReplayFileError::Irregular { step, line: 3 })?;
        if let Some(i) = bars
            .windows(2)
            .position(|w| (w[1].time - w[0].time) % step != 0)
        {
            return Err(ReplayFileError::Irregular { step, line: i + 3 });
        }
        let period = bars[bars.len() - 1].time - bars[0].time + step;
        let since_ms = clock.now();
        Ok(ReplaySource {
            symbol: symbol.to_string(),
            timeframe,
            bars,
            period,
            speed: if speed.is_finite() && speed > 0.0 {
                speed
            } else {
                1.0
            },
            clock,
            position: Mutex::new(Position {
                first: history as u64,
                since_ms,
            }),
        })
    }

    /// The bundled EUR/USD hours.
    pub fn bundled(speed: f64, clock: Clock) -> Self {
        Self::from_csv(BUNDLED_CSV, BUNDLED_SYMBOL, speed, DEFAULT_HISTORY, clock)
            .expect("the bundled replay file parses")
    }

    pub fn symbol(&self) -> &str {
        &self.symbol
    }
    pub fn timeframe(&self) -> Timeframe {
        self.timeframe
    }

    fn virtual_bar(&self, k: u64) -> Bar {
        let n = self.bars.len() as u64;
        let mut bar = self.bars[(k % n) as usize];
        bar.time += (k / n) as i64 * self.period;
        bar
    }

    /// How many virtual bars have been released (closed) by now.
    fn released(&self) -> u64 {
        let p = *self.position.lock().expect("replay position");
        let elapsed_s = (self.clock.now() - p.since_ms).max(0) as f64 / 1000.0;
        p.first + (elapsed_s * self.speed).floor() as u64
    }

    /// The index of the first virtual bar opening after `t`.
    fn index_after(&self, t: UnixSeconds) -> u64 {
        let start = self.bars[0].time;
        if t < start {
            return 0;
        }
        let lap = ((t - start) / self.period) as u64;
        let in_lap = t - lap as i64 * self.period;
        let i = self.bars.partition_point(|b| b.time <= in_lap) as u64;
        lap * self.bars.len() as u64 + i
    }

    fn check(&self, symbol: &str, timeframe: Timeframe) -> MarketResult<()> {
        if !same_symbol(symbol, &self.symbol) || timeframe != self.timeframe {
            return Err(MarketDataError::NoSuchSeries {
                source_name: "replay",
                symbol: symbol.to_string(),
                timeframe: timeframe.label(),
            });
        }
        Ok(())
    }

    fn bars_after(&self, after: Option<UnixSeconds>, limit: usize) -> Vec<Bar> {
        let released = self.released();
        let from = after.map_or(0, |t| self.index_after(t));
        let from = from.max(released.saturating_sub(limit as u64));
        (from..released).map(|k| self.virtual_bar(k)).collect()
    }
}

/// `XAU/USD`, `xauusd` and `XAU-USD` name the same instrument.
pub fn same_symbol(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        s.chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_uppercase())
            .collect::<String>()
    };
    norm(a) == norm(b)
}

impl MarketData for ReplaySource {
    fn name(&self) -> &'static str {
        "replay"
    }

    fn now(&self) -> UnixSeconds {
        // The close of the newest released bar (the first open before any is released).
        match self.released().checked_sub(1) {
            Some(newest) => self.virtual_bar(newest).time + self.timeframe.seconds(),
            None => self.bars[0].time,
        }
    }

    fn closed_bars<'a>(
        &'a self,
        symbol: &'a str,
        timeframe: Timeframe,
        after: Option<UnixSeconds>,
        limit: usize,
    ) -> BoxFuture<'a, MarketResult<Vec<Bar>>> {
        Box::pin(async move {
            self.check(symbol, timeframe)?;
            Ok(self.bars_after(after, limit))
        })
    }

    fn price<'a>(&'a self, symbol: &'a str) -> BoxFuture<'a, MarketResult<Option<f64>>> {
        Box::pin(async move {
            self.check(symbol, self.timeframe)?;
            Ok(None)
        })
    }

    fn replayed(&self) -> Option<(String, Timeframe)> {
        Some((self.symbol.clone(), self.timeframe))
    }

    fn resume_after(&self, symbol: &str, timeframe: Timeframe, newest_open: UnixSeconds) {
        if self.check(symbol, timeframe).is_err() {
            return;
        }
        let next = self.index_after(newest_open);
        if next > self.released() {
            *self.position.lock().expect("replay position") = Position {
                first: next,
                since_ms: self.clock.now(),
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str = "time,open,high,low,close\n\
        2024-01-01 00:00,1,2,0.5,1.5\n\
        2024-01-01 01:00,1.5,2,1,1.2\n\
        2024-01-01 02:00,1.2,1.3,1.1,1.25\n\
        2024-01-01 05:00,1.25,1.4,1.2,1.3\n";
    const T0: i64 = 1_704_067_200; // 2024-01-01 00:00 UTC

    fn source(clock: &Clock) -> ReplaySource {
        ReplaySource::from_csv(CSV, "EUR/USD", 2.0, 2, clock.clone()).expect("parses")
    }

    #[tokio::test]
    async fn releases_bars_at_the_speed_and_loops_forward() {
        let clock = Clock::fixed(1_000_000);
        let s = source(&clock);
        let all = |s: &ReplaySource| s.bars_after(None, 100);
        assert_eq!(all(&s).len(), 2, "the warm-up history only");
        assert_eq!(s.now(), T0 + 2 * 3600, "the close of the second bar");
        clock.advance(500); // half a second at 2 bars/s: one more bar
        assert_eq!(all(&s).last().map(|b| b.time), Some(T0 + 2 * 3600));
        clock.advance(1000); // two more: the last file bar, then the first again, a lap later
        let bars = all(&s);
        assert_eq!(bars.len(), 5);
        let period = 6 * 3600;
        assert_eq!(bars[3].time, T0 + 5 * 3600);
        assert_eq!(
            bars[4].time,
            T0 + period,
            "the second lap starts one period later"
        );
        assert!(bars.windows(2).all(|w| w[0].time < w[1].time));
        assert_eq!(s.now(), T0 + period + 3600);
    }

    #[tokio::test]
    async fn after_and_limit_pick_the_newest_bars_after_a_time() {
        let clock = Clock::fixed(0);
        let s = source(&clock);
        clock.advance(1000);
        let newest = s.bars_after(Some(T0), 100);
        assert_eq!(
            newest.iter().map(|b| b.time).collect::<Vec<_>>(),
            [T0 + 3600, T0 + 7200, T0 + 5 * 3600]
        );
        let limited = s.bars_after(None, 2);
        assert_eq!(limited.len(), 2);
        assert_eq!(limited[1].time, T0 + 5 * 3600);
    }

    #[tokio::test]
    async fn resumes_after_stored_history_instead_of_going_back() {
        let clock = Clock::fixed(0);
        let s = source(&clock);
        s.resume_after("eurusd", Timeframe::H1, T0 + 6 * 3600);
        assert_eq!(
            s.now(),
            T0 + 7 * 3600,
            "the stored bar is the newest released one"
        );
        clock.advance(500);
        let next = s.bars_after(Some(T0 + 6 * 3600), 10);
        assert_eq!(
            next.iter().map(|b| b.time).collect::<Vec<_>>(),
            [T0 + 7 * 3600]
        );
    }

    #[tokio::test]
    async fn other_symbols_and_timeframes_are_named_errors() {
        let s = source(&Clock::fixed(0));
        let err = s
            .closed_bars("XAU/USD", Timeframe::H1, None, 10)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("no 1h bars of XAU/USD"), "{err}");
        let err = s
            .closed_bars("EURUSD", Timeframe::M15, None, 10)
            .await
            .unwrap_err();
        assert!(matches!(err, MarketDataError::NoSuchSeries { .. }));
    }

    #[test]
    fn bad_files_are_refused_with_the_line() {
        let clock = Clock::fixed(0);
        let bad =
            "time,open,high,low,close\n2024-01-01 00:00,1,2,0.5,1.5\n2024-01-01 01:00,x,2,1,1\n";
        let err = ReplaySource::from_csv(bad, "EUR/USD", 1.0, 0, clock.clone())
            .err()
            .unwrap();
        assert!(err.to_string().contains("line 3"), "{err}");
        let short = "time,open,high,low,close\n2024-01-01 00:00,1,2,0.5,1.5\n";
        assert!(matches!(
            ReplaySource::from_csv(short, "EUR/USD", 1.0, 5, clock.clone()),
            Err(ReplayFileError::TooShort(1, 6))
        ));
        let odd = "time,open,high,low,close\n2024-01-01 00:00,1,2,0.5,1.5\n2024-01-01 01:00,1,2,0.5,1.5\n2024-01-01 01:30,1,2,0.5,1.5\n";
        assert!(ReplaySource::from_csv(odd, "EUR/USD", 1.0, 0, clock).is_err());
    }

    #[test]
    fn the_bundled_file_replays() {
        let s = ReplaySource::bundled(1.0, Clock::fixed(0));
        assert_eq!(s.timeframe(), Timeframe::H1);
        assert_eq!(s.bars_after(None, 10_000).len(), DEFAULT_HISTORY);
    }
}

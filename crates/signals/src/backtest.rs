//! Replays bars through the standard indicators, a strategy and the full signal lifecycle, the
//! same `SignalEngine` the service runs live. Intrabar rule: the stop is checked before the
//! targets, so a bar touching both counts as stopped (docs/signals.md).
//!
//! Costs (docs/backtests.md): the spread is paid once per trade (on the entry fill) and the
//! slippage on every fill, entry and each exit, weighted by the fraction of the position it
//! fills; so a trade costs `spread + 2 × slippage` pips whatever its partial closes. Costs
//! change a trade's pips, not which bars reach its levels (the levels are the published ones).
use std::ops::Range;

use serde::Serialize;

use crate::bars::{Bar, ResampleError, Timeframe, UnixSeconds, resample};
use crate::direction::Direction;
use crate::engine::{EngineError, SignalEngine};
use crate::indicators::StandardIndicators;
use crate::lifecycle::{ClosedSignal, EventKind, Outcome, SignalEvent};
use crate::report::{TradeStats, trade_stats};
use crate::snapshot::IndicatorSnapshot;
use crate::strategy::StrategyParams;

/// Trading costs in pips.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Costs {
    /// Paid once per trade, on entry.
    pub spread_pips: f64,
    /// Paid on every fill (entry and each exit), weighted by the fraction filled.
    pub slippage_pips: f64,
}

impl Costs {
    /// What one whole trade pays.
    pub fn per_trade_pips(&self) -> f64 {
        self.spread_pips + 2.0 * self.slippage_pips
    }

    fn validate(&self) -> Result<(), BacktestError> {
        for (name, v) in [
            ("spread", self.spread_pips),
            ("slippage", self.slippage_pips),
        ] {
            if !v.is_finite() || v < 0.0 {
                return Err(BacktestError::BadCost { name, value: v });
            }
        }
        Ok(())
    }
}

#[derive(Clone, Debug)]
pub struct BacktestOptions {
    pub symbol: String,
    /// `None`: the symbol's default pip size.
    pub pip_size: Option<f64>,
    pub strategy: String,
    /// `None`: the strategy's defaults.
    pub params: Option<StrategyParams>,
    pub timeframe: Timeframe,
    pub costs: Costs,
    /// Trade only bars opening at or after `from` and before `to`; earlier bars still warm the
    /// indicators (as live trading would have), later ones are not read.
    pub from: Option<UnixSeconds>,
    pub to: Option<UnixSeconds>,
}

impl BacktestOptions {
    /// Defaults: no costs, the whole series.
    pub fn new(symbol: &str, strategy: &str, timeframe: Timeframe) -> Self {
        BacktestOptions {
            symbol: symbol.to_string(),
            pip_size: None,
            strategy: strategy.to_string(),
            params: None,
            timeframe,
            costs: Costs::default(),
            from: None,
            to: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BacktestError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Resample(#[from] ResampleError),
    #[error("{name} must be a non-negative number of pips, got {value}")]
    BadCost { name: &'static str, value: f64 },
    #[error("no bars to trade between the time range's start and end")]
    EmptyRange,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EquityPoint {
    pub time: UnixSeconds,
    /// Cumulative net pips after the trade closed at `time`.
    pub pips: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TradeRecord {
    pub id: u64,
    pub direction: Direction,
    pub opened_at: UnixSeconds,
    pub closed_at: UnixSeconds,
    pub entry: f64,
    pub stop_loss: f64,
    pub take_profits: [f64; 3],
    /// The last fill's price (before costs).
    pub exit_price: f64,
    pub outcome: Outcome,
    pub targets_hit: u8,
    pub stopped_at_breakeven: bool,
    /// Pips of the whole position at the levels' prices.
    pub gross_pips: f64,
    /// Spread and slippage paid (>= 0).
    pub cost_pips: f64,
    /// Net pips: gross minus costs. Every statistic uses these.
    pub pips: f64,
}

/// What the lifecycle did, counted from its events and closes.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LifecycleCounts {
    pub signals: usize,
    /// Signals that reached each target (a TP2 hit also counts in TP1).
    pub tp1_hits: usize,
    pub tp2_hits: usize,
    pub tp3_hits: usize,
    /// Signals closed by their stop (at the original stop or at entry after breakeven).
    pub sl_hits: usize,
    pub breakeven_stops: usize,
    pub timeouts: usize,
    pub thesis_broken: usize,
    pub end_of_data: usize,
    pub progress_updates: usize,
    pub breakeven_advisories: usize,
    pub thesis_weakening: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BacktestReport {
    pub strategy: String,
    pub symbol: String,
    pub timeframe: Timeframe,
    pub pip_size: f64,
    pub params: StrategyParams,
    pub costs: Costs,
    /// Bars traded (inside the time range).
    pub bars: usize,
    /// Bars before the range read only to warm the indicators.
    pub warmup_bars: usize,
    pub first_bar: Option<UnixSeconds>,
    pub last_bar: Option<UnixSeconds>,
    #[serde(flatten)]
    pub counts: LifecycleCounts,
    pub stats: TradeStats,
    pub equity: Vec<EquityPoint>,
    pub trades: Vec<TradeRecord>,
}

/// One engine replaying bars from flat: its counts and its trades (costs applied).
pub struct Replay {
    engine: SignalEngine,
    costs: Costs,
    tf: i64,
    last: Option<Bar>,
    pub counts: LifecycleCounts,
    pub trades: Vec<TradeRecord>,
}

impl Replay {
    pub fn new(
        symbol: &str,
        pip_size: Option<f64>,
        strategy: &str,
        params: Option<StrategyParams>,
        timeframe: Timeframe,
        costs: Costs,
    ) -> Result<Self, BacktestError> {
        costs.validate()?;
        Ok(Replay {
            engine: SignalEngine::new(symbol, pip_size, strategy, params)?,
            costs,
            tf: timeframe.seconds(),
            last: None,
            counts: LifecycleCounts::default(),
            trades: Vec::new(),
        })
    }

    pub fn engine(&self) -> &SignalEngine {
        &self.engine
    }

    /// Feed one bar and the indicator values computed on it (at its close).
    #[inline]
    pub fn bar(&mut self, bar: &Bar, snapshot: &IndicatorSnapshot) {
        let step = self.engine.on_bar(bar, bar.time + self.tf, snapshot);
        self.count_events(&step.events);
        if let Some(c) = step.closed {
            self.record(c);
        }
        self.last = Some(*bar);
    }

    /// Close what is still open at the last bar's close; the counts and trades.
    pub fn finish(mut self) -> (LifecycleCounts, Vec<TradeRecord>) {
        if let Some(last) = self.last {
            let step = self.engine.force_close(last.time + self.tf, last.close);
            self.count_events(&step.events);
            if let Some(c) = step.closed {
                self.record(c);
            }
        }
        (self.counts, self.trades)
    }

    fn count_events(&mut self, events: &[SignalEvent]) {
        let r = &mut self.counts;
        for e in events {
            match &e.kind {
                EventKind::Opened { .. } => r.signals += 1,
                EventKind::TakeProfit { level: 1 } => r.tp1_hits += 1,
                EventKind::TakeProfit { level: 2 } => r.tp2_hits += 1,
                EventKind::TakeProfit { .. } => r.tp3_hits += 1,
                EventKind::Progress { .. } => r.progress_updates += 1,
                EventKind::Breakeven { .. } => r.breakeven_advisories += 1,
                EventKind::ThesisWeakening { .. } => r.thesis_weakening += 1,
                EventKind::StopLoss { .. }
                | EventKind::ThesisBroken { .. }
                | EventKind::Timeout
                | EventKind::EndOfData => {}
            }
        }
    }

    fn record(&mut self, c: ClosedSignal) {
        let r = &mut self.counts;
        match c.outcome {
            Outcome::StopLoss => {
                r.sl_hits += 1;
                if c.stopped_at_breakeven {
                    r.breakeven_stops += 1;
                }
            }
            Outcome::Timeout => r.timeouts += 1,
            Outcome::ThesisBroken => r.thesis_broken += 1,
            Outcome::EndOfData => r.end_of_data += 1,
            Outcome::Tp1 | Outcome::Tp2 | Outcome::Tp3 => {}
        }
        let cost = self.costs.per_trade_pips();
        self.trades.push(TradeRecord {
            id: c.header.id,
            direction: c.header.direction,
            opened_at: c.header.opened_at,
            closed_at: c.closed_at,
            entry: c.header.entry,
            stop_loss: c.header.stop_loss,
            take_profits: c.header.take_profits,
            exit_price: c.exit_price,
            outcome: c.outcome,
            targets_hit: c.targets_hit,
            stopped_at_breakeven: c.stopped_at_breakeven,
            gross_pips: c.net_pips,
            cost_pips: cost,
            pips: c.net_pips - cost,
        });
    }
}

/// Cumulative net pips after each trade.
pub fn equity_curve(trades: &[TradeRecord]) -> Vec<EquityPoint> {
    let mut equity = 0.0;
    trades
        .iter()
        .map(|t| {
            equity += t.pips;
            EquityPoint {
                time: t.closed_at,
                pips: equity,
            }
        })
        .collect()
}

/// Run a backtest over `bars` whose native step is `source_step` seconds (finer bars are
/// aggregated to the timeframe). `progress(done, total)` is called about 200 times.
pub fn run_backtest(
    bars: &[Bar],
    source_step: i64,
    options: &BacktestOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<BacktestReport, BacktestError> {
    let tf = options.timeframe.seconds();
    let resampled;
    let bars = if source_step == tf || bars.len() < 2 {
        bars
    } else {
        resampled = resample(bars, source_step, tf)?;
        &resampled[..]
    };
    let mut replay = Replay::new(
        &options.symbol,
        options.pip_size,
        &options.strategy,
        options.params.clone(),
        options.timeframe,
        options.costs,
    )?;
    let from = options.from.unwrap_or(UnixSeconds::MIN);
    let to = options.to.unwrap_or(UnixSeconds::MAX);
    let mut indicators = StandardIndicators::new();
    let total = bars.len();
    let every = (total / 200).max(1);
    let (mut traded, mut warmup) = (0usize, 0usize);
    let (mut first_bar, mut last_bar) = (None, None);
    for (i, bar) in bars.iter().enumerate() {
        if bar.time >= to {
            break;
        }
        let snapshot = indicators.update(bar, bar.time + tf);
        if bar.time >= from {
            replay.bar(bar, &snapshot);
            traded += 1;
            first_bar.get_or_insert(bar.time);
            last_bar = Some(bar.time);
        } else {
            warmup += 1;
        }
        if i % every == 0 {
            progress(i, total);
        }
    }
    if traded == 0 && (options.from.is_some() || options.to.is_some()) {
        return Err(BacktestError::EmptyRange);
    }
    progress(total, total);
    let report = BacktestReport {
        strategy: replay.engine().strategy().name().to_string(),
        symbol: options.symbol.clone(),
        timeframe: options.timeframe,
        pip_size: replay.engine().pips().pip_size,
        params: replay.engine().params().clone(),
        costs: options.costs,
        bars: traded,
        warmup_bars: warmup,
        first_bar,
        last_bar,
        counts: LifecycleCounts::default(),
        stats: TradeStats::default(),
        equity: Vec::new(),
        trades: Vec::new(),
    };
    let (counts, trades) = replay.finish();
    Ok(BacktestReport {
        counts,
        stats: trade_stats(&trades),
        equity: equity_curve(&trades),
        trades,
        ..report
    })
}

/// Bars at one timeframe with the standard indicators computed once on each (they do not
/// depend on strategy parameters), for many replays over parts of the series (sweeps). Each
/// snapshot is computed from its own and earlier bars only.
pub struct PreparedSeries {
    pub timeframe: Timeframe,
    pub bars: Vec<Bar>,
    pub snapshots: Vec<IndicatorSnapshot>,
}

impl PreparedSeries {
    pub fn new(
        bars: &[Bar],
        source_step: i64,
        timeframe: Timeframe,
    ) -> Result<Self, ResampleError> {
        let tf = timeframe.seconds();
        let bars = if source_step == tf || bars.len() < 2 {
            bars.to_vec()
        } else {
            resample(bars, source_step, tf)?
        };
        let mut indicators = StandardIndicators::new();
        let snapshots = bars
            .iter()
            .map(|b| indicators.update(b, b.time + tf))
            .collect();
        Ok(PreparedSeries {
            timeframe,
            bars,
            snapshots,
        })
    }

    /// Index of the first bar opening at or after `t`.
    pub fn index_at(&self, t: UnixSeconds) -> usize {
        self.bars.partition_point(|b| b.time < t)
    }

    /// Replay `range` of the bars from flat (an open signal is closed at the range's last bar).
    pub fn replay(
        &self,
        range: Range<usize>,
        symbol: &str,
        pip_size: Option<f64>,
        strategy: &str,
        params: &StrategyParams,
        costs: Costs,
    ) -> Result<(LifecycleCounts, Vec<TradeRecord>), BacktestError> {
        let mut replay = Replay::new(
            symbol,
            pip_size,
            strategy,
            Some(params.clone()),
            self.timeframe,
            costs,
        )?;
        for (bar, snapshot) in self.bars[range.clone()].iter().zip(&self.snapshots[range]) {
            replay.bar(bar, snapshot);
        }
        Ok(replay.finish())
    }
}

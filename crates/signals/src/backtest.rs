//! Replays bars through the standard indicators, a strategy and the full signal lifecycle, the
//! same `SignalEngine` the service runs live. Intrabar rule: the stop is checked before the
//! targets, so a bar touching both counts as stopped (docs/signals.md).
use serde::Serialize;

use crate::bars::{Bar, ResampleError, Timeframe, UnixSeconds, resample};
use crate::direction::Direction;
use crate::engine::{EngineError, SignalEngine};
use crate::indicators::StandardIndicators;
use crate::lifecycle::{ClosedSignal, EventKind, Outcome};
use crate::strategy::StrategyParams;

#[derive(Clone, Debug)]
pub struct BacktestOptions {
    pub symbol: String,
    /// `None`: the symbol's default pip size.
    pub pip_size: Option<f64>,
    pub strategy: String,
    /// `None`: the strategy's defaults.
    pub params: Option<StrategyParams>,
    pub timeframe: Timeframe,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BacktestError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Resample(#[from] ResampleError),
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
    pub exit_price: f64,
    pub outcome: Outcome,
    pub targets_hit: u8,
    pub stopped_at_breakeven: bool,
    pub pips: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BacktestReport {
    pub strategy: String,
    pub symbol: String,
    pub timeframe: Timeframe,
    pub pip_size: f64,
    pub bars: usize,
    pub first_bar: Option<UnixSeconds>,
    pub last_bar: Option<UnixSeconds>,
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
    /// Signals with net pips > 0 / < 0.
    pub wins: usize,
    pub losses: usize,
    /// wins / signals, percent (0 when there were no signals).
    pub win_rate_percent: f64,
    pub net_pips: f64,
    pub avg_pips_per_trade: f64,
    /// Largest peak-to-trough fall of closed-trade equity, pips (>= 0).
    pub max_drawdown_pips: f64,
    pub equity: Vec<EquityPoint>,
    pub trades: Vec<TradeRecord>,
}

/// Run a backtest over `bars` whose native step is `source_step` seconds (finer bars are
/// aggregated to the timeframe). `progress(done, total)` is called every few thousand bars.
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
    let mut engine = SignalEngine::new(
        &options.symbol,
        options.pip_size,
        &options.strategy,
        options.params.clone(),
    )?;
    let mut indicators = StandardIndicators::new();
    let mut report = BacktestReport {
        strategy: engine.strategy().name().to_string(),
        symbol: options.symbol.clone(),
        timeframe: options.timeframe,
        pip_size: engine.pips().pip_size,
        bars: bars.len(),
        first_bar: bars.first().map(|b| b.time),
        last_bar: bars.last().map(|b| b.time),
        signals: 0,
        tp1_hits: 0,
        tp2_hits: 0,
        tp3_hits: 0,
        sl_hits: 0,
        breakeven_stops: 0,
        timeouts: 0,
        thesis_broken: 0,
        end_of_data: 0,
        progress_updates: 0,
        breakeven_advisories: 0,
        thesis_weakening: 0,
        wins: 0,
        losses: 0,
        win_rate_percent: 0.0,
        net_pips: 0.0,
        avg_pips_per_trade: 0.0,
        max_drawdown_pips: 0.0,
        equity: Vec::new(),
        trades: Vec::new(),
    };
    let total = bars.len();
    let mut closed: Vec<ClosedSignal> = Vec::new();
    for (i, bar) in bars.iter().enumerate() {
        let close_time = bar.time + tf;
        let snapshot = indicators.update(bar, close_time);
        let step = engine.on_bar(bar, close_time, &snapshot);
        count_events(&mut report, &step.events);
        closed.extend(step.closed);
        if i % 4096 == 0 {
            progress(i, total);
        }
    }
    if let Some(last) = bars.last() {
        let step = engine.force_close(last.time + tf, last.close);
        count_events(&mut report, &step.events);
        closed.extend(step.closed);
    }
    progress(total, total);
    summarise(&mut report, &closed);
    Ok(report)
}

fn count_events(report: &mut BacktestReport, events: &[crate::lifecycle::SignalEvent]) {
    for e in events {
        match &e.kind {
            EventKind::Opened { .. } => report.signals += 1,
            EventKind::TakeProfit { level: 1 } => report.tp1_hits += 1,
            EventKind::TakeProfit { level: 2 } => report.tp2_hits += 1,
            EventKind::TakeProfit { .. } => report.tp3_hits += 1,
            EventKind::Progress { .. } => report.progress_updates += 1,
            EventKind::Breakeven { .. } => report.breakeven_advisories += 1,
            EventKind::ThesisWeakening { .. } => report.thesis_weakening += 1,
            EventKind::StopLoss { .. }
            | EventKind::ThesisBroken { .. }
            | EventKind::Timeout
            | EventKind::EndOfData => {}
        }
    }
}

fn summarise(report: &mut BacktestReport, closed: &[ClosedSignal]) {
    let mut equity = 0.0f64;
    let mut peak = 0.0f64;
    for c in closed {
        match c.outcome {
            Outcome::StopLoss => {
                report.sl_hits += 1;
                if c.stopped_at_breakeven {
                    report.breakeven_stops += 1;
                }
            }
            Outcome::Timeout => report.timeouts += 1,
            Outcome::ThesisBroken => report.thesis_broken += 1,
            Outcome::EndOfData => report.end_of_data += 1,
            Outcome::Tp1 | Outcome::Tp2 | Outcome::Tp3 => {}
        }
        if c.net_pips > 0.0 {
            report.wins += 1;
        } else if c.net_pips < 0.0 {
            report.losses += 1;
        }
        equity += c.net_pips;
        peak = peak.max(equity);
        report.max_drawdown_pips = report.max_drawdown_pips.max(peak - equity);
        report.equity.push(EquityPoint {
            time: c.closed_at,
            pips: equity,
        });
        report.trades.push(TradeRecord {
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
            pips: c.net_pips,
        });
    }
    report.net_pips = equity;
    if !closed.is_empty() {
        report.win_rate_percent = report.wins as f64 / closed.len() as f64 * 100.0;
        report.avg_pips_per_trade = equity / closed.len() as f64;
    }
}

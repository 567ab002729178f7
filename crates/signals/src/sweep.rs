//! Parameter sweeps with walk-forward validation (docs/backtests.md, "Sweeps").
//!
//! The series is cut into rolling windows: `in_sample_bars` followed by `out_of_sample_bars`,
//! each window starting `out_of_sample_bars` after the previous, so the out-of-sample parts
//! tile the data without overlap. In each window every combination of the grid is replayed
//! (from flat) on the in-sample bars; the best by the objective among those with at least
//! `min_trades` trades is chosen from the in-sample results alone, then judged on the
//! out-of-sample bars. Indicators are computed once over the whole series and each value only
//! reads its own and earlier bars, so no out-of-sample bar can reach an in-sample replay.
//!
//! Work runs on `threads` OS threads (`std::thread::scope`), one task per (combination,
//! window).
use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Serialize;

use crate::backtest::{BacktestError, Costs, PreparedSeries, TradeRecord};
use crate::bars::{Timeframe, UnixSeconds, format_time};
use crate::report::trade_stats;
use crate::strategy::StrategyParams;

/// Bars before the first window: EMA 200, the slowest standard indicator, has its first value
/// on bar 200. Every window part must be at least this long too.
pub const WARMUP_BARS: usize = 200;

/// Short names accepted in a grid, and the parameter each stands for.
pub const GRID_ALIASES: [(&str, &str); 9] = [
    ("rsi_buy", "rsi_oversold"),
    ("rsi_sell", "rsi_overbought"),
    ("adx", "adx_threshold"),
    ("stoch_buy", "stoch_oversold"),
    ("stoch_sell", "stoch_overbought"),
    ("sl_atr", "atr_sl_multiplier"),
    ("tp1_atr", "atr_tp1_multiplier"),
    ("tp2_atr", "atr_tp2_multiplier"),
    ("tp3_atr", "atr_tp3_multiplier"),
];

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SweepError {
    #[error("--grid is empty: give name=FROM..TO:STEP pairs separated by commas")]
    EmptyGrid,
    #[error("--grid `{0}`: expected name=FROM..TO:STEP or name=VALUE")]
    Syntax(String),
    #[error(
        "--grid: unknown parameter `{name}` (numeric parameters: {known}; short names: {aliases})"
    )]
    UnknownName {
        name: String,
        known: String,
        aliases: String,
    },
    #[error("--grid: `{0}` appears twice")]
    Duplicate(String),
    #[error("--grid `{spec}`: `{value}` is not a finite number")]
    BadNumber { spec: String, value: String },
    #[error("--grid `{0}`: the step must be a positive number")]
    BadStep(String),
    #[error("--grid `{spec}`: the range is reversed ({from} > {to}); write {to}..{from}")]
    Reversed { spec: String, from: f64, to: f64 },
    #[error("--grid `{0}`: {1} takes whole numbers")]
    NotWhole(String, String),
    #[error(
        "the grid has {count} combinations, more than --max-combinations {max}; narrow the grid or raise --max-combinations"
    )]
    TooMany { count: u128, max: usize },
    #[error("--grid combination {params} is invalid: {reason}")]
    InvalidCombination { params: String, reason: String },
    #[error(
        "--{name} {value}: windows must be at least {WARMUP_BARS} bars (the indicators' warm-up)"
    )]
    WindowTooShort { name: &'static str, value: usize },
    #[error(
        "not enough bars for one walk-forward window: {needed} needed ({WARMUP_BARS} warm-up before the range, then {in_sample} in-sample + {out_of_sample} out-of-sample), the range has {available} from bar {start}"
    )]
    TooFewBars {
        needed: usize,
        in_sample: usize,
        out_of_sample: usize,
        available: usize,
        start: usize,
    },
    #[error("--min-trades must be at least 1")]
    MinTrades,
    #[error(transparent)]
    Backtest(#[from] BacktestError),
}

/// One swept parameter and its values.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GridAxis {
    /// The parameter's full name (aliases resolved).
    pub name: String,
    pub values: Vec<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Grid {
    pub axes: Vec<GridAxis>,
}

fn numeric_fields(base: &StrategyParams) -> Vec<(String, bool)> {
    let value = serde_json::to_value(base).unwrap_or_default();
    let mut out: Vec<(String, bool)> = value
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(_, v)| v.is_number())
                .map(|(k, v)| (k.clone(), v.is_u64() || v.is_i64()))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn round_value(v: f64) -> f64 {
    (v * 1e9).round() / 1e9
}

impl Grid {
    /// Parse `name=FROM..TO:STEP,name=VALUE,...`; names are `StrategyParams`' numeric fields or
    /// the short names in [`GRID_ALIASES`]. Every combination is checked against `base` by
    /// [`Grid::combinations`], not here.
    pub fn parse(spec: &str, base: &StrategyParams) -> Result<Grid, SweepError> {
        let fields = numeric_fields(base);
        let mut axes: Vec<GridAxis> = Vec::new();
        let parts: Vec<&str> = spec
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect();
        if parts.is_empty() {
            return Err(SweepError::EmptyGrid);
        }
        for part in parts {
            let (name, range) = part
                .split_once('=')
                .ok_or_else(|| SweepError::Syntax(part.to_string()))?;
            let name = name.trim();
            let full = GRID_ALIASES
                .iter()
                .find(|(a, _)| *a == name)
                .map_or(name, |(_, f)| f);
            let Some((_, whole)) = fields.iter().find(|(f, _)| f == full) else {
                return Err(SweepError::UnknownName {
                    name: name.to_string(),
                    known: fields
                        .iter()
                        .map(|(f, _)| f.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    aliases: GRID_ALIASES
                        .iter()
                        .map(|(a, f)| format!("{a}={f}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            };
            if axes.iter().any(|a| a.name == full) {
                return Err(SweepError::Duplicate(full.to_string()));
            }
            let num = |s: &str| -> Result<f64, SweepError> {
                s.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| SweepError::BadNumber {
                        spec: part.to_string(),
                        value: s.trim().to_string(),
                    })
            };
            let values = match range.split_once("..") {
                None => vec![num(range)?],
                Some((from, rest)) => {
                    let (to, step) = rest
                        .split_once(':')
                        .ok_or_else(|| SweepError::Syntax(part.to_string()))?;
                    let (from, to, step) = (num(from)?, num(to)?, num(step)?);
                    if step <= 0.0 {
                        return Err(SweepError::BadStep(part.to_string()));
                    }
                    if from > to {
                        return Err(SweepError::Reversed {
                            spec: part.to_string(),
                            from,
                            to,
                        });
                    }
                    let n = ((to - from) / step + 1e-9).floor() as usize + 1;
                    (0..n)
                        .map(|i| round_value(from + i as f64 * step))
                        .collect()
                }
            };
            if *whole && values.iter().any(|v| v.fract() != 0.0) {
                return Err(SweepError::NotWhole(part.to_string(), full.to_string()));
            }
            axes.push(GridAxis {
                name: full.to_string(),
                values,
            });
        }
        Ok(Grid { axes })
    }

    pub fn count(&self) -> u128 {
        self.axes
            .iter()
            .fold(1u128, |acc, a| acc.saturating_mul(a.values.len() as u128))
    }

    /// The values of combination `index` (the last axis varies fastest).
    pub fn values(&self, mut index: usize) -> Vec<f64> {
        let mut out = vec![0.0; self.axes.len()];
        for (slot, axis) in out.iter_mut().zip(&self.axes).rev() {
            *slot = axis.values[index % axis.values.len()];
            index /= axis.values.len();
        }
        out
    }

    pub fn label(&self, values: &[f64]) -> String {
        self.axes
            .iter()
            .zip(values)
            .map(|(a, v)| format!("{}={v}", a.name))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Every combination as validated parameters, or an error before any work when there are
    /// more than `max` or one is invalid (e.g. TP multipliers out of order).
    pub fn combinations(
        &self,
        base: &StrategyParams,
        max: usize,
    ) -> Result<Vec<StrategyParams>, SweepError> {
        let count = self.count();
        if count > max as u128 {
            return Err(SweepError::TooMany { count, max });
        }
        let fields = numeric_fields(base);
        (0..count as usize)
            .map(|i| {
                let values = self.values(i);
                let mut overrides = serde_json::Map::new();
                for (axis, v) in self.axes.iter().zip(&values) {
                    let whole = fields.iter().any(|(f, w)| *f == axis.name && *w);
                    let json = if whole {
                        serde_json::json!(*v as u64)
                    } else {
                        serde_json::json!(v)
                    };
                    overrides.insert(axis.name.clone(), json);
                }
                StrategyParams::with_overrides(base, &serde_json::Value::Object(overrides)).map_err(
                    |e| SweepError::InvalidCombination {
                        params: self.label(&values),
                        reason: e.to_string(),
                    },
                )
            })
            .collect()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Objective {
    ProfitFactor,
    Sortino,
    NetPips,
}

impl Objective {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "profit_factor" | "pf" => Some(Objective::ProfitFactor),
            "sortino" => Some(Objective::Sortino),
            "net_pips" | "pips" => Some(Objective::NetPips),
            _ => None,
        }
    }

    pub const fn label(self) -> &'static str {
        match self {
            Objective::ProfitFactor => "profit_factor",
            Objective::Sortino => "sortino",
            Objective::NetPips => "net_pips",
        }
    }

    /// The objective of the trades of `bars` bars; `None` without trades. Net pips are counted
    /// per 1,000 bars, so in-sample and out-of-sample parts of different lengths compare.
    /// Profit factor and Sortino are infinite (JSON null) when there was a profit and no loss.
    pub fn score(self, trades: &[TradeRecord], bars: usize) -> Option<f64> {
        if trades.is_empty() {
            return None;
        }
        let (mut gain, mut loss, mut sq_down) = (0.0f64, 0.0f64, 0.0f64);
        for t in trades {
            if t.pips > 0.0 {
                gain += t.pips;
            } else {
                loss -= t.pips;
                sq_down += t.pips * t.pips;
            }
        }
        let net = gain - loss;
        let n = trades.len() as f64;
        Some(match self {
            Objective::NetPips => net * 1000.0 / bars.max(1) as f64,
            Objective::ProfitFactor if loss > 0.0 => gain / loss,
            Objective::Sortino if sq_down > 0.0 => net / n / (sq_down / n).sqrt(),
            Objective::ProfitFactor | Objective::Sortino if net > 0.0 => f64::INFINITY,
            Objective::ProfitFactor | Objective::Sortino => 0.0,
        })
    }
}

/// A few numbers of one replayed part.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Summary {
    pub trades: usize,
    pub wins: usize,
    pub draws: usize,
    pub losses: usize,
    pub net_pips: f64,
    pub profit_factor: Option<f64>,
    pub sortino_per_trade: Option<f64>,
    pub max_drawdown_pips: f64,
    /// The objective's value (`None` without trades); net pips per 1,000 bars.
    pub score: Option<f64>,
}

impl Summary {
    /// The summary of the trades of `bars` bars.
    pub fn of(trades: &[TradeRecord], objective: Objective, bars: usize) -> Summary {
        let s = trade_stats(trades);
        Summary {
            trades: s.trades,
            wins: s.wins,
            draws: s.draws,
            losses: s.losses,
            net_pips: s.net_pips,
            profit_factor: s.profit_factor,
            sortino_per_trade: s.sortino_per_trade,
            max_drawdown_pips: s.drawdown.max_pips,
            score: objective.score(trades, bars),
        }
    }
}

/// Bars `[start, end)` of the prepared series, with their opening times.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub from: UnixSeconds,
    /// Opening time of the last bar.
    pub to: UnixSeconds,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Window {
    pub in_sample: Range<usize>,
    pub out_of_sample: Range<usize>,
}

/// Rolling windows over `range` (bar indices), the first starting after the warm-up.
pub fn plan_windows(
    range: Range<usize>,
    in_sample: usize,
    out_of_sample: usize,
) -> Result<Vec<Window>, SweepError> {
    if in_sample < WARMUP_BARS {
        return Err(SweepError::WindowTooShort {
            name: "in-sample",
            value: in_sample,
        });
    }
    if out_of_sample < WARMUP_BARS {
        return Err(SweepError::WindowTooShort {
            name: "out-of-sample",
            value: out_of_sample,
        });
    }
    let start = range.start.max(WARMUP_BARS);
    let mut windows = Vec::new();
    let mut at = start;
    while at + in_sample + out_of_sample <= range.end {
        windows.push(Window {
            in_sample: at..at + in_sample,
            out_of_sample: at + in_sample..at + in_sample + out_of_sample,
        });
        at += out_of_sample;
    }
    if windows.is_empty() {
        return Err(SweepError::TooFewBars {
            needed: WARMUP_BARS.max(range.start) - range.start + in_sample + out_of_sample,
            in_sample,
            out_of_sample,
            available: range.end.saturating_sub(range.start),
            start: range.start,
        });
    }
    Ok(windows)
}

#[derive(Clone, Debug)]
pub struct SweepConfig {
    pub symbol: String,
    pub pip_size: Option<f64>,
    pub strategy: String,
    pub costs: Costs,
    pub objective: Objective,
    pub min_trades: usize,
    pub threads: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WindowReport {
    pub index: usize,
    pub in_sample: Span,
    pub out_of_sample: Span,
    /// Index into the combinations; `None` when no combination made `min_trades` in-sample.
    pub chosen: Option<usize>,
    pub chosen_params: Option<BTreeMap<String, f64>>,
    /// The chosen combination in sample and out of sample.
    pub in_sample_result: Option<Summary>,
    pub out_of_sample_result: Option<Summary>,
    /// In-sample score minus out-of-sample score.
    pub gap: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ComboReport {
    pub index: usize,
    pub params: BTreeMap<String, f64>,
    /// Mean of the in-sample scores over windows where it made `min_trades`.
    pub in_sample_score_mean: Option<f64>,
    /// Windows in which it was chosen.
    pub chosen_in: usize,
    /// All out-of-sample parts together.
    pub out_of_sample: Summary,
    pub gap: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WalkForward {
    pub windows_with_choice: usize,
    pub in_sample_score_mean: Option<f64>,
    /// The out-of-sample trades of each window's chosen combination, together: what following
    /// the sweep would have earned.
    pub out_of_sample: Summary,
    pub gap: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SweepReport {
    pub strategy: String,
    pub symbol: String,
    pub timeframe: Timeframe,
    pub objective: Objective,
    pub min_trades: usize,
    pub costs: Costs,
    pub grid: Grid,
    pub combinations: usize,
    pub in_sample_bars: usize,
    pub out_of_sample_bars: usize,
    /// Bars replayed in all: combinations × windows × (in-sample + out-of-sample).
    pub bar_replays: u64,
    pub threads: usize,
    pub windows: Vec<WindowReport>,
    pub walk_forward: WalkForward,
    /// Sorted by out-of-sample score, best first (no score last).
    pub combos: Vec<ComboReport>,
}

/// What one (combination, window) task produced.
#[derive(Clone, Debug)]
pub struct TaskResult {
    pub in_sample: Summary,
    pub out_of_sample_trades: Vec<TradeRecord>,
}

fn span(prepared: &PreparedSeries, r: &Range<usize>) -> Span {
    Span {
        start: r.start,
        end: r.end,
        from: prepared.bars[r.start].time,
        to: prepared.bars[r.end - 1].time,
    }
}

/// The combination to trade in a window, from in-sample results alone: the best score among
/// those with at least `min_trades` trades; ties go to the lower index.
pub fn choose(in_sample: &[Summary], min_trades: usize) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (i, s) in in_sample.iter().enumerate() {
        let Some(score) = s.score.filter(|_| s.trades >= min_trades) else {
            continue;
        };
        if best.is_none_or(|(_, b)| score > b) {
            best = Some((i, score));
        }
    }
    best.map(|(i, _)| i)
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

fn params_map(grid: &Grid, index: usize) -> BTreeMap<String, f64> {
    grid.axes
        .iter()
        .zip(grid.values(index))
        .map(|(a, v)| (a.name.clone(), v))
        .collect()
}

/// Run every combination in every window on `config.threads` threads and choose per window.
/// `progress(done, total)` counts finished (combination, window) tasks, from any thread.
pub fn walk_forward(
    prepared: &PreparedSeries,
    config: &SweepConfig,
    grid: &Grid,
    combos: &[StrategyParams],
    windows: &[Window],
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<SweepReport, SweepError> {
    if config.min_trades == 0 {
        return Err(SweepError::MinTrades);
    }
    let tasks = combos.len() * windows.len();
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let failed: Mutex<Option<SweepError>> = Mutex::new(None);
    let threads = config.threads.clamp(1, tasks.max(1));
    let run_task = |t: usize| -> Result<TaskResult, SweepError> {
        let (c, w) = (t / windows.len(), t % windows.len());
        let window = &windows[w];
        let replay = |range: &Range<usize>| {
            prepared.replay(
                range.clone(),
                &config.symbol,
                config.pip_size,
                &config.strategy,
                &combos[c],
                config.costs,
            )
        };
        let (_, is_trades) = replay(&window.in_sample)?;
        let (_, oos_trades) = replay(&window.out_of_sample)?;
        Ok(TaskResult {
            in_sample: Summary::of(&is_trades, config.objective, window.in_sample.len()),
            out_of_sample_trades: oos_trades,
        })
    };
    let mut results: Vec<Option<TaskResult>> = vec![None; tasks];
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let t = next.fetch_add(1, Ordering::Relaxed);
                        if t >= tasks {
                            break;
                        }
                        match run_task(t) {
                            Ok(r) => mine.push((t, r)),
                            Err(e) => {
                                if let Ok(mut f) = failed.lock() {
                                    f.get_or_insert(e);
                                }
                                next.store(tasks, Ordering::Relaxed);
                                break;
                            }
                        }
                        progress(done.fetch_add(1, Ordering::Relaxed) + 1, tasks);
                    }
                    mine
                })
            })
            .collect();
        for worker in workers {
            if let Ok(mine) = worker.join() {
                for (t, r) in mine {
                    results[t] = Some(r);
                }
            }
        }
    });
    if let Some(e) = failed.into_inner().ok().flatten() {
        return Err(e);
    }
    let result = |c: usize, w: usize| results[c * windows.len() + w].as_ref();
    let objective = config.objective;

    let mut chosen_count = vec![0usize; combos.len()];
    let mut stitched: Vec<TradeRecord> = Vec::new();
    let mut stitched_bars = 0usize;
    let mut window_reports = Vec::with_capacity(windows.len());
    for (w, window) in windows.iter().enumerate() {
        let in_sample: Vec<Summary> = (0..combos.len())
            .map(|c| {
                result(c, w)
                    .map(|r| r.in_sample.clone())
                    .unwrap_or_default()
            })
            .collect();
        let chosen = choose(&in_sample, config.min_trades);
        let (is_result, oos_result) = match chosen.and_then(|c| result(c, w).map(|r| (c, r))) {
            Some((c, r)) => {
                chosen_count[c] += 1;
                stitched.extend(r.out_of_sample_trades.iter().cloned());
                stitched_bars += window.out_of_sample.len();
                (
                    Some(r.in_sample.clone()),
                    Some(Summary::of(
                        &r.out_of_sample_trades,
                        objective,
                        window.out_of_sample.len(),
                    )),
                )
            }
            None => (None, None),
        };
        let gap = match (&is_result, &oos_result) {
            (Some(a), Some(b)) => a.score.zip(b.score).map(|(a, b)| a - b),
            _ => None,
        };
        window_reports.push(WindowReport {
            index: w,
            in_sample: span(prepared, &window.in_sample),
            out_of_sample: span(prepared, &window.out_of_sample),
            chosen,
            chosen_params: chosen.map(|c| params_map(grid, c)),
            in_sample_result: is_result,
            out_of_sample_result: oos_result,
            gap,
        });
    }
    let wf_is_mean = mean(
        window_reports
            .iter()
            .filter_map(|w| w.in_sample_result.as_ref().and_then(|s| s.score)),
    );
    let wf_oos = Summary::of(&stitched, objective, stitched_bars);
    let oos_bars_total: usize = windows.iter().map(|w| w.out_of_sample.len()).sum();
    let walk = WalkForward {
        windows_with_choice: window_reports.iter().filter(|w| w.chosen.is_some()).count(),
        gap: wf_is_mean.zip(wf_oos.score).map(|(a, b)| a - b),
        in_sample_score_mean: wf_is_mean,
        out_of_sample: wf_oos,
    };

    let mut combo_reports: Vec<ComboReport> = (0..combos.len())
        .map(|c| {
            let is_mean = mean((0..windows.len()).filter_map(|w| {
                result(c, w)
                    .filter(|r| r.in_sample.trades >= config.min_trades)
                    .and_then(|r| r.in_sample.score)
            }));
            let oos_trades: Vec<TradeRecord> = (0..windows.len())
                .filter_map(|w| result(c, w))
                .flat_map(|r| r.out_of_sample_trades.iter().cloned())
                .collect();
            let oos = Summary::of(&oos_trades, objective, oos_bars_total);
            ComboReport {
                index: c,
                params: params_map(grid, c),
                gap: is_mean.zip(oos.score).map(|(a, b)| a - b),
                in_sample_score_mean: is_mean,
                chosen_in: chosen_count[c],
                out_of_sample: oos,
            }
        })
        .collect();
    combo_reports.sort_by(|a, b| {
        let key = |r: &ComboReport| r.out_of_sample.score.unwrap_or(f64::NEG_INFINITY);
        key(b).total_cmp(&key(a)).then(a.index.cmp(&b.index))
    });

    let (is_bars, oos_bars) = windows
        .first()
        .map_or((0, 0), |w| (w.in_sample.len(), w.out_of_sample.len()));
    Ok(SweepReport {
        strategy: config.strategy.clone(),
        symbol: config.symbol.clone(),
        timeframe: prepared.timeframe,
        objective,
        min_trades: config.min_trades,
        costs: config.costs,
        grid: grid.clone(),
        combinations: combos.len(),
        in_sample_bars: is_bars,
        out_of_sample_bars: oos_bars,
        bar_replays: (combos.len() * windows.len() * (is_bars + oos_bars)) as u64,
        threads,
        windows: window_reports,
        walk_forward: walk,
        combos: combo_reports,
    })
}

fn score_text(v: Option<f64>) -> String {
    match v {
        Some(v) if v.is_infinite() => "inf".into(),
        Some(v) => format!("{v:.2}"),
        None => "-".into(),
    }
}

fn opt2(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.2}"))
}

/// The sweep as text: the walk-forward windows, the summary with its gap, and the `top`
/// combinations by out-of-sample score.
pub fn render_text(r: &SweepReport, top: usize) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Sweep: {} on {} {}, {} combinations x {} windows ({} in-sample + {} out-of-sample bars), objective {} (min {} trades), costs {} pips/trade",
        r.strategy,
        r.symbol,
        r.timeframe.label(),
        r.combinations,
        r.windows.len(),
        r.in_sample_bars,
        r.out_of_sample_bars,
        objective_label(r.objective),
        r.min_trades,
        r.costs.per_trade_pips()
    );
    let _ = writeln!(
        out,
        "\nWalk-forward (parameters chosen in sample, judged out of sample):"
    );
    let _ = writeln!(
        out,
        "{:>3}  {:<16} {:<16} {:>9} {:>9} {:>8} {:>6} {:>9}  chosen",
        "win",
        "in-sample from",
        "out-of-sample",
        "IS score",
        "OOS score",
        "gap",
        "trades",
        "OOS pips"
    );
    for w in &r.windows {
        let (is, oos) = (w.in_sample_result.as_ref(), w.out_of_sample_result.as_ref());
        let _ = writeln!(
            out,
            "{:>3}  {:<16} {:<16} {:>9} {:>9} {:>8} {:>6} {:>9}  {}",
            w.index + 1,
            &format_time(w.in_sample.from)[..16],
            &format_time(w.out_of_sample.from)[..16],
            score_text(is.and_then(|s| s.score)),
            score_text(oos.and_then(|s| s.score)),
            score_text(w.gap),
            oos.map_or("-".into(), |s| s.trades.to_string()),
            oos.map_or("-".into(), |s| format!("{:+.1}", s.net_pips)),
            w.chosen
                .map_or("(none made the minimum trades)".into(), |c| {
                    params_label(&r.combos, c)
                }),
        );
    }
    let wf = &r.walk_forward;
    let _ = writeln!(
        out,
        "\nOut of sample, chosen parameters: {} trades, {:+.1} pips, profit factor {}, Sortino {}, max drawdown {:.1} pips",
        wf.out_of_sample.trades,
        wf.out_of_sample.net_pips,
        opt2(wf.out_of_sample.profit_factor),
        opt2(wf.out_of_sample.sortino_per_trade),
        wf.out_of_sample.max_drawdown_pips
    );
    let _ = writeln!(
        out,
        "{} score: in sample {} (mean of {} windows), out of sample {}, gap {}",
        objective_label(r.objective),
        score_text(wf.in_sample_score_mean),
        wf.windows_with_choice,
        score_text(wf.out_of_sample.score),
        score_text(wf.gap)
    );
    let shown = top.min(r.combos.len());
    let _ = writeln!(
        out,
        "\nCombinations by out-of-sample {} (top {shown} of {}):",
        objective_label(r.objective),
        r.combos.len()
    );
    let _ = writeln!(
        out,
        "{:>4} {:>9} {:>9} {:>8} {:>6} {:>9} {:>6}  params",
        "rank", "OOS score", "IS mean", "gap", "trades", "OOS pips", "chosen"
    );
    for (rank, c) in r.combos.iter().take(shown).enumerate() {
        let _ = writeln!(
            out,
            "{:>4} {:>9} {:>9} {:>8} {:>6} {:>9} {:>6}  {}",
            rank + 1,
            score_text(c.out_of_sample.score),
            score_text(c.in_sample_score_mean),
            score_text(c.gap),
            c.out_of_sample.trades,
            format!("{:+.1}", c.out_of_sample.net_pips),
            c.chosen_in,
            label_of(&c.params)
        );
    }
    let _ = writeln!(
        out,
        "\n{} bar replays on {} threads.",
        r.bar_replays, r.threads
    );
    out
}

fn objective_label(o: Objective) -> &'static str {
    match o {
        Objective::NetPips => "net_pips (per 1,000 bars)",
        o => o.label(),
    }
}

fn label_of(params: &BTreeMap<String, f64>) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn params_label(combos: &[ComboReport], index: usize) -> String {
    combos
        .iter()
        .find(|c| c.index == index)
        .map_or_else(|| format!("#{index}"), |c| label_of(&c.params))
}

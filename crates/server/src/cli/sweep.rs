//! `promostack sweep --csv F --strategy S --grid 'rsi_buy=35..45:5,sl_atr=1.0..2.0:0.25'`:
//! every combination of the grid under walk-forward validation on all cores (docs/backtests.md,
//! "Sweeps"). Every input is checked before any replay starts.
use std::path::PathBuf;

use anyhow::{Context as _, bail};
use promostack_signals::backtest::PreparedSeries;
use promostack_signals::sweep::{
    Grid, Objective, SweepConfig, plan_windows, render_text, walk_forward,
};

use super::backtest::{MarketArgs, lookup_strategy, parse_params, print, progress_bar};

#[derive(Debug, clap::Args)]
pub struct SweepArgs {
    /// OHLC CSV (same format as `promostack indicators`).
    #[arg(long, value_name = "FILE")]
    pub csv: PathBuf,
    /// Strategy name (aggressive, conservative, trend_pullback).
    #[arg(long)]
    pub strategy: String,
    /// Parameters to sweep: name=FROM..TO:STEP or name=VALUE, comma-separated. Names are the
    /// numeric strategy parameters (rsi_oversold, atr_sl_multiplier, ...) or the short names
    /// rsi_buy, rsi_sell, adx, stoch_buy, stoch_sell, sl_atr, tp1_atr, tp2_atr, tp3_atr.
    #[arg(long, value_name = "GRID")]
    pub grid: String,
    /// Base parameters (JSON object) the grid's values override.
    #[arg(long, value_name = "JSON")]
    pub params: Option<String>,
    #[command(flatten)]
    pub market: MarketArgs,
    /// What to maximise: profit_factor, sortino or net_pips.
    #[arg(long, default_value = "profit_factor")]
    pub objective: String,
    /// A combination needs at least this many in-sample trades to be chosen.
    #[arg(long, default_value_t = 10)]
    pub min_trades: usize,
    /// Bars in each in-sample window.
    #[arg(long, value_name = "BARS", default_value_t = 1500)]
    pub in_sample: usize,
    /// Bars in each out-of-sample window (also the step between windows).
    #[arg(long, value_name = "BARS", default_value_t = 500)]
    pub out_of_sample: usize,
    /// Refuse grids with more combinations than this.
    #[arg(long, default_value_t = 1000)]
    pub max_combinations: usize,
    /// Worker threads; default: every core.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Combinations shown in the text table.
    #[arg(long, default_value_t = 15)]
    pub top: usize,
    /// Print the whole sweep as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: SweepArgs) -> anyhow::Result<()> {
    let strategy = lookup_strategy(&args.strategy)?;
    let Some(objective) = Objective::parse(&args.objective) else {
        bail!(
            "--objective `{}`: use profit_factor, sortino or net_pips",
            args.objective
        );
    };
    if args.min_trades == 0 {
        bail!("--min-trades must be at least 1");
    }
    let base = parse_params(strategy, args.params.as_deref())?
        .unwrap_or_else(|| strategy.default_params());
    let grid = Grid::parse(&args.grid, &base)?;
    let combos = grid.combinations(&base, args.max_combinations)?;
    let market = args.market.load(&args.csv)?;
    let prepared = PreparedSeries::new(&market.series.bars, market.step, market.timeframe)
        .context("preparing bars")?;
    let range = market.from.map_or(0, |t| prepared.index_at(t))
        ..market
            .to
            .map_or(prepared.bars.len(), |t| prepared.index_at(t));
    let windows = plan_windows(range, args.in_sample, args.out_of_sample)?;
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if threads == 0 {
        bail!("--threads must be at least 1");
    }
    let config = SweepConfig {
        symbol: market.symbol.clone(),
        pip_size: args.market.pip_size,
        strategy: strategy.name().to_string(),
        costs: market.costs,
        objective,
        min_trades: args.min_trades,
        threads,
    };
    let tasks = (combos.len() * windows.len()) as u64;
    let bar = progress_bar(
        tasks,
        format!(
            "sweep {} ({} combinations x {} windows)",
            strategy.name(),
            combos.len(),
            windows.len()
        ),
        "runs",
    );
    let started = std::time::Instant::now();
    let report = walk_forward(&prepared, &config, &grid, &combos, &windows, &|done, _| {
        if let Some(bar) = &bar {
            bar.set_position(done as u64);
        }
    })?;
    let elapsed = started.elapsed().as_secs_f64();
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if args.json {
        print(&(serde_json::to_string_pretty(&report)? + "\n"))
    } else {
        eprintln!(
            "{} bar replays in {:.2} s on {} threads ({:.1} M bars x parameter sets / s)",
            report.bar_replays,
            elapsed,
            report.threads,
            report.bar_replays as f64 / elapsed.max(1e-9) / 1e6
        );
        print(&render_text(&report, args.top))
    }
}

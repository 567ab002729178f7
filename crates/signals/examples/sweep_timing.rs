//! Sweep throughput on 1 and 2 threads with the process's CPU time beside the wall time, so a
//! busy machine's numbers can still be read (docs/performance.md). Linux: reads /proc/self/stat.
//!
//!     cargo run --release -p promostack-signals --example sweep_timing -- [ROUNDS]
use std::time::Instant;

use promostack_signals::backtest::{Costs, PreparedSeries};
use promostack_signals::sweep::{Grid, Objective, SweepConfig, plan_windows, walk_forward};
use promostack_signals::{Timeframe, parse_ohlc_csv, strategy_by_name};

/// User + system CPU seconds of this process (all threads), from /proc/self/stat.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 of the file (utime, stime) are 12 and 13 after the command name.
    let ticks: f64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|v| v.parse::<f64>().ok()))
        .sum();
    ticks / 100.0
}

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5);
    let text = include_str!("../tests/fixtures/talib_eurusd_h1.csv");
    let bars = parse_ohlc_csv(text).unwrap().bars;
    let prepared = PreparedSeries::new(&bars, 3600, Timeframe::H1).unwrap();
    let base = strategy_by_name("aggressive").unwrap().default_params();
    let grid = Grid::parse("rsi_buy=30..45:5,sl_atr=0.8..2.0:0.4,adx=10..25:5", &base).unwrap();
    let combos = grid.combinations(&base, 1000).unwrap();
    let windows = plan_windows(0..prepared.bars.len(), 1500, 500).unwrap();
    for threads in [1usize, 2] {
        let config = SweepConfig {
            symbol: "EUR/USD".into(),
            pip_size: None,
            strategy: "aggressive".into(),
            costs: Costs::default(),
            objective: Objective::ProfitFactor,
            min_trades: 10,
            threads,
        };
        let (cpu0, t0) = (cpu_seconds(), Instant::now());
        let mut replays = 0u64;
        for _ in 0..rounds {
            let r = walk_forward(&prepared, &config, &grid, &combos, &windows, &|_, _| {}).unwrap();
            replays += r.bar_replays;
        }
        let (wall, cpu) = (t0.elapsed().as_secs_f64(), cpu_seconds() - cpu0);
        println!(
            "threads {threads}: {} combinations x {} windows x {rounds} rounds = {replays} bar replays; wall {wall:.2} s = {:.2} M/s; CPU {cpu:.2} s = {:.2} M per CPU-second; CPU/wall {:.2}",
            combos.len(),
            windows.len(),
            replays as f64 / wall / 1e6,
            replays as f64 / cpu.max(1e-9) / 1e6,
            cpu / wall
        );
    }
}

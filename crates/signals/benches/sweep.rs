//! Sweep throughput: bars × parameter sets per second under walk-forward, on 1 and 2 threads,
//! over the real EURUSD hours (the test fixture) and 64 combinations.
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use promostack_signals::backtest::{Costs, PreparedSeries};
use promostack_signals::sweep::{Grid, Objective, SweepConfig, plan_windows, walk_forward};
use promostack_signals::{Timeframe, parse_ohlc_csv, strategy_by_name};

fn bench(c: &mut Criterion) {
    let text = include_str!("../tests/fixtures/talib_eurusd_h1.csv");
    let bars = parse_ohlc_csv(text).unwrap().bars;
    let prepared = PreparedSeries::new(&bars, 3600, Timeframe::H1).unwrap();
    let base = strategy_by_name("aggressive").unwrap().default_params();
    let grid = Grid::parse("rsi_buy=30..45:5,sl_atr=0.8..2.0:0.4,adx=10..25:5", &base).unwrap();
    let combos = grid.combinations(&base, 1000).unwrap();
    let windows = plan_windows(0..prepared.bars.len(), 1500, 500).unwrap();
    let replays = (combos.len() * windows.len() * 2000) as u64;
    let mut group = c.benchmark_group("sweep");
    group.sample_size(10);
    group.throughput(Throughput::Elements(replays));
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
        group.bench_function(format!("walk_forward_64x6_threads_{threads}"), |b| {
            b.iter(|| {
                walk_forward(&prepared, &config, &grid, &combos, &windows, &|_, _| {}).unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

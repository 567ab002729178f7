//! Backtest throughput: 1,000,000 15-minute bars through indicators, strategy and lifecycle;
//! and the report's own cost on that run's trades.
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use promostack_signals::backtest::{BacktestOptions, run_backtest};
use promostack_signals::report::{render_text, trade_stats};
use promostack_signals::{Bar, Timeframe, strategy_names};

fn synthetic_bars(n: usize) -> Vec<Bar> {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut price = 2000.0;
    (0..n)
        .map(|i| {
            let open = price;
            price = (price + (next() - 0.5) * 4.0).max(100.0);
            let high = open.max(price) + next() * 1.5;
            let low = open.min(price) - next() * 1.5;
            Bar {
                time: 1_600_000_000 + i as i64 * 900,
                open,
                high,
                low,
                close: price,
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let bars = synthetic_bars(1_000_000);
    let mut group = c.benchmark_group("backtest");
    group.sample_size(10);
    group.throughput(Throughput::Elements(bars.len() as u64));
    for name in strategy_names() {
        let options = BacktestOptions::new("XAU/USD", name, Timeframe::M15);
        group.bench_function(format!("{name}_1m_bars"), |b| {
            b.iter(|| {
                run_backtest(std::hint::black_box(&bars), 900, &options, &mut |_, _| {}).unwrap()
            })
        });
    }
    group.finish();

    // The report alone: statistics and text of a 1M-bar backtest's trades.
    let options = BacktestOptions::new("XAU/USD", "aggressive", Timeframe::M15);
    let report = run_backtest(&bars, 900, &options, &mut |_, _| {}).unwrap();
    let mut group = c.benchmark_group("report");
    group.sample_size(20);
    group.throughput(Throughput::Elements(report.trades.len() as u64));
    group.bench_function(
        format!("trade_stats_{}_trades_of_1m_bars", report.trades.len()),
        |b| b.iter(|| trade_stats(std::hint::black_box(&report.trades))),
    );
    group.bench_function("render_text_1m_bars", |b| {
        b.iter(|| render_text(std::hint::black_box(&report), 0))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

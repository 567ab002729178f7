//! All standard indicators over 1,000,000 bars (batch), and the streaming update per bar.
//! Numbers go into docs/performance.md, section "Signals".
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use promostack_signals::Bar;
use promostack_signals::indicators::{
    StandardIndicators, atr, bollinger_bands, dmi, ema, macd, rsi, slow_stochastic,
    standard_columns,
};

/// Deterministic random-walk bars (xorshift), gold-like prices.
pub fn synthetic_bars(n: usize) -> Vec<Bar> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
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
                time: i as i64 * 900,
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
    let mut group = c.benchmark_group("indicators");
    group.sample_size(10);
    group.throughput(Throughput::Elements(bars.len() as u64));
    group.bench_function("batch_all_1m_bars", |b| {
        b.iter(|| standard_columns(std::hint::black_box(&bars)))
    });
    // The floor under a fresh batch: allocating and writing 16 columns of 1M values, nothing
    // computed. On this VM that is mostly page faults.
    group.bench_function("baseline_alloc_fill_16_columns", |b| {
        b.iter(|| {
            (0..16)
                .map(|_| vec![f64::NAN; std::hint::black_box(bars.len())])
                .collect::<Vec<_>>()
        })
    });
    // The same into columns kept from a previous run (what a long-lived service would do):
    // no allocation, no page faults, only the arithmetic.
    let mut reused = standard_columns(&bars);
    group.bench_function("batch_all_1m_bars_reused_columns", |b| {
        b.iter(|| reused.compute(std::hint::black_box(&bars)))
    });
    group.finish();

    // Where the batch time goes: each indicator alone over the same 1M bars.
    let high: Vec<f64> = bars.iter().map(|b| b.high).collect();
    let low: Vec<f64> = bars.iter().map(|b| b.low).collect();
    let close: Vec<f64> = bars.iter().map(|b| b.close).collect();
    let mut group = c.benchmark_group("batch_1m_bars");
    group.sample_size(10);
    group.throughput(Throughput::Elements(bars.len() as u64));
    group.bench_function("ema_200", |b| b.iter(|| ema(&close, 200)));
    group.bench_function("rsi_14", |b| b.iter(|| rsi(&close, 14)));
    group.bench_function("macd_12_26_9", |b| b.iter(|| macd(&close, 12, 26, 9)));
    group.bench_function("adx_di_14", |b| b.iter(|| dmi(&high, &low, &close, 14)));
    group.bench_function("bollinger_20_2", |b| {
        b.iter(|| bollinger_bands(&close, 20, 2.0))
    });
    group.bench_function("stoch_14_3_3", |b| {
        b.iter(|| slow_stochastic(&high, &low, &close, 14, 3, 3))
    });
    group.bench_function("atr_14", |b| b.iter(|| atr(&high, &low, &close, 14)));
    group.finish();

    // Streaming: warm the set up on 10,000 bars, then time single updates.
    let mut group = c.benchmark_group("streaming");
    group.throughput(Throughput::Elements(1));
    let warm = synthetic_bars(10_000);
    group.bench_function("update_all_one_bar", |b| {
        let mut set = StandardIndicators::new();
        for bar in &warm {
            set.update(bar, bar.time + 900);
        }
        let mut i = 0usize;
        b.iter(|| {
            let bar = &warm[i % warm.len()];
            i += 1;
            std::hint::black_box(set.update(std::hint::black_box(bar), bar.time + 900))
        })
    });
    group.bench_function("stream_all_100k_bars", |b| {
        let bars = synthetic_bars(100_000);
        b.iter_batched(
            StandardIndicators::new,
            |mut set| {
                for bar in &bars {
                    std::hint::black_box(set.update(bar, bar.time + 900));
                }
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

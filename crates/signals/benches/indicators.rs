//! All standard indicators over 1,000,000 bars (batch), and the streaming update per bar.
//! Numbers go into docs/performance.md, section "Signals".
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use promostack_signals::Bar;
use promostack_signals::indicators::{StandardIndicators, standard_columns};

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

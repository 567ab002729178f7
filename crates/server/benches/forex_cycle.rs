//! One leader tick of the forex service over 1,000 workspaces that follow the same replayed
//! series (numbers in docs/performance.md, "Forex service"). Each iteration releases one new
//! hourly bar and runs the tick: the bar is fetched and stored once, then every workspace's
//! cycle runs the engine on it and commits its progress (one transaction each), then the
//! schedules and the post outbox are looked at. Prints the process CPU time per tick beside
//! criterion's wall time. SQLite in a temporary directory; PostgreSQL when
//! `TEST_DATABASE_URL` is set (a fresh database each run).
//!
//! `cargo bench -p promostack --bench forex_cycle` (`BENCH_WORKSPACES` overrides 1,000).
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use promostack::config::{Config, DatabaseConfig};
use promostack::time::Clock;
use serde_json::json;

const NOW: i64 = 1_800_000_000_000;
const SPEED: f64 = 1000.0;

fn workspaces() -> usize {
    std::env::var("BENCH_WORKSPACES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
}

/// User + system CPU seconds of this process so far (Linux `/proc/self/stat`).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // Fields 14 and 15 of the file (utime, stime) are 11 and 12 after the command name.
    (ticks(11) + ticks(12)) / 100.0
}

fn bench_backend(c: &mut Criterion, name: &str, database: Option<DatabaseConfig>) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let _guard = runtime.enter();
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::local(dir.path());
    if let Some(db) = database {
        config.database = db;
    }
    config.integrations.market_data_replay_speed = SPEED;
    let clock = Clock::fixed(NOW);
    let state = runtime.block_on(async {
        let state = promostack::app::build_state(config, clock.clone())
            .await
            .expect("state");
        promostack::db::migrate(&state.db).await.expect("migrate");
        state
            .tenants
            .ensure_default()
            .await
            .expect("default tenant");
        for i in 0..workspaces() {
            let tenant = state
                .tenants
                .create(&format!("Desk {i}"), &format!("desk-{i}"), None)
                .await
                .expect("tenant");
            state
                .forex
                .update_config(
                    &tenant.id,
                    &json!({"enabled": true, "symbol": "EUR/USD", "timeframe": "1h"}),
                )
                .await
                .expect("forex on");
        }
        // The first tick stores the history and starts every workspace at the newest bar.
        state.forex.tick().await.expect("first tick");
        state
    });
    let mut group = c.benchmark_group(format!("forex_tick_{name}_{}_workspaces", workspaces()));
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(20));
    let ticks = std::cell::Cell::new(0u64);
    let (cpu0, wall0) = (cpu_seconds(), std::time::Instant::now());
    let mut cycles = 0;
    group.bench_function("one new bar", |b| {
        b.iter(|| {
            clock.advance((1000.0 / SPEED) as i64);
            let report = runtime.block_on(state.forex.tick()).expect("tick");
            cycles = report.cycles;
            ticks.set(ticks.get() + 1);
        })
    });
    let (cpu, wall) = (cpu_seconds() - cpu0, wall0.elapsed().as_secs_f64());
    eprintln!(
        "{name}: {} ticks, {cycles} cycles in the last; CPU {:.1} ms per tick ({:.0} % of one core over {:.1} s)",
        ticks.get(),
        cpu * 1000.0 / ticks.get() as f64,
        100.0 * cpu / wall,
        wall
    );
    // Between bars: nothing is due, which is what the 1 s tick sees almost always.
    let idle = std::cell::Cell::new(0u64);
    let (cpu0, wall0) = (cpu_seconds(), std::time::Instant::now());
    group.bench_function("idle tick", |b| {
        b.iter(|| {
            let report = runtime.block_on(state.forex.tick()).expect("tick");
            assert_eq!(report.cycles, 0);
            idle.set(idle.get() + 1);
        })
    });
    group.finish();
    let (cpu, wall) = (cpu_seconds() - cpu0, wall0.elapsed().as_secs_f64());
    eprintln!(
        "{name}: {} idle ticks; CPU {:.2} ms per tick ({:.0} % of one core over {:.1} s)",
        idle.get(),
        cpu * 1000.0 / idle.get() as f64,
        100.0 * cpu / wall,
        wall
    );
}

fn forex(c: &mut Criterion) {
    bench_backend(c, "sqlite", None);
    if let Ok(url) = std::env::var("TEST_DATABASE_URL") {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let db = runtime.block_on(async {
            promostack_testkit::TestDatabase::create(promostack_testkit::Backend::Postgres).await
        });
        let _ = url;
        bench_backend(c, "postgres", Some(db.config.clone()));
        drop(db);
    }
}

criterion_group!(benches, forex);
criterion_main!(benches);

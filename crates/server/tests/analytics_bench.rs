//! Timing of `/api/bot-stats` over 1,000,000 usage rows through the HTTP API, for machines where
//! the release criterion bench (`cargo bench --bench bot_stats`) is too slow to build. Ignored in
//! the normal run: `cargo test -p promostack --test analytics_bench -- --ignored --nocapture`.
//! Reports the median of 15 requests per range; numbers in docs/performance.md.
use std::time::{Duration, Instant};

use promostack::time::Clock;
use promostack_testkit::broadcast::{seed_db, seed_usage_bulk};
use promostack_testkit::{Backend, json, spawn_app_with_clock};

const NOW: i64 = 1_773_100_000_000;
const ROWS: i64 = 1_000_000;

async fn measure(backend: Backend) {
    let app = spawn_app_with_clock(backend, Clock::fixed(NOW), |_| {}).await;
    app.login_admin().await;
    let tenant = app.tenant_id().await;
    let db = seed_db(&app.config.database);
    let started = Instant::now();
    seed_usage_bulk(&db, &tenant, ROWS, NOW).await;
    promostack::on_pool!(&db, pool => sqlite {
        sqlx::query("ANALYZE").execute(pool).await.unwrap();
    } postgres {
        sqlx::query("VACUUM ANALYZE").execute(pool).await.unwrap();
    });
    eprintln!(
        "{backend:?}: seeded {ROWS} rows in {:.1?}",
        started.elapsed()
    );
    for days in ["90", "30", "7", "today"] {
        let mut times: Vec<Duration> = Vec::new();
        for _ in 0..15 {
            let t = Instant::now();
            let stats = json(app.bot_stats(days).await, 200).await;
            times.push(t.elapsed());
            if days == "90" {
                assert_eq!(stats["total_generations"], ROWS);
            }
        }
        times.sort();
        eprintln!(
            "{backend:?} days={days}: median {:.1?}, min {:.1?}, max {:.1?}",
            times[7], times[0], times[14]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run with --ignored"]
async fn bench_bot_stats_1m_sqlite() {
    measure(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run with --ignored"]
async fn bench_bot_stats_1m_postgres() {
    measure(Backend::Postgres).await
}

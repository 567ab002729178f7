//! `/api/bot-stats` over 1,000,000 `bot_usage` rows (numbers in docs/performance.md,
//! "Bot analytics"). Seeds one tenant with a million rows spread over 89 days (20,000 users,
//! 12 templates, 5,000 codes, 90 % success) with one portable INSERT ... SELECT and the rollup
//! back-fill of migration 8, then measures the whole report (rollup reads, raw edges, distinct
//! users of the first page of codes, folding into local buckets) on SQLite and, when
//! `TEST_DATABASE_URL` is set, on a PostgreSQL database (kept between runs, like the SQLite file).
//!
//! Also measures the write path: one usage row alone against `record_usage` (row + rollups).
//!
//! `cargo bench -p promostack --bench bot_stats` (`BENCH_ROWS` overrides the row count).
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use promostack::config::{DatabaseConfig, Secret};
use promostack::db::{Affected, Db};
use promostack::domains::analytics::range::Range;
use promostack::domains::analytics::{AnalyticsService, NewUsage};
use promostack::domains::tenants::TenantService;
use promostack::time::Clock;
use sqlx::Connection;

const NOW: i64 = 1_773_100_000_000; // 2026-03-10

fn rows() -> i64 {
    std::env::var("BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
}

async fn prepare(db: &Db, rows: i64) -> promostack::ids::TenantId {
    promostack::db::migrate(db).await.expect("migrate");
    let tenants = TenantService::new(db.clone(), Clock::fixed(NOW));
    let tenant = tenants.ensure_default().await.expect("tenant").id;
    let have: i64 =
        promostack::on_pool!(db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM bot_usage")
        .fetch_one(pool).await)
        .expect("count");
    if have < rows {
        let started = std::time::Instant::now();
        promostack_testkit::broadcast::seed_usage_bulk(db, tenant.as_str(), rows, NOW).await;
        eprintln!(
            "seeded {rows} rows on {} in {:?}",
            db.backend(),
            started.elapsed()
        );
    }
    // Fresh statistics and visibility map, as autovacuum would leave them.
    promostack::on_pool!(db, pool => sqlite {
        sqlx::query("ANALYZE").execute(pool).await.expect("analyze");
    } postgres {
        sqlx::query("VACUUM ANALYZE")
            .execute(pool)
            .await
            .expect("vacuum");
    });
    tenant
}

fn bench_backend(c: &mut Criterion, name: &str, config: DatabaseConfig) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // sqlx pools start their maintenance task on the current runtime.
    let _guard = runtime.enter();
    let rows = rows();
    let db = Db::connect(&config).expect("pool");
    let tenant = runtime.block_on(prepare(&db, rows));
    let clock = Clock::fixed(NOW);
    let db_for_writes = db.clone();
    let service = AnalyticsService::new(db.clone(), clock.clone(), TenantService::new(db, clock));
    let mut group = c.benchmark_group(format!("bot_stats_{name}_{rows}_rows"));
    // Small samples: the whole bench (both backends, four ranges) runs in about a minute.
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for (label, range) in [
        ("90_days", Range::Days(90)),
        ("30_days", Range::Days(30)),
        ("7_days", Range::Days(7)),
        ("today", Range::Today),
    ] {
        group.bench_function(label, |b| {
            b.to_async(&runtime).iter(|| async {
                let stats = service.bot_stats(&tenant, range).await.expect("stats");
                assert!(range != Range::Days(90) || stats.total_generations == rows);
                stats
            })
        });
    }
    group.finish();
    bench_writes(c, name, &runtime, &service, &db_for_writes);
}

/// The write-path cost: one attempt recorded the old way (a single autocommitted INSERT) against
/// `record_usage` (the INSERT plus the rollup upserts, one transaction). Into a separate tenant, so
/// the report data stays as seeded.
fn bench_writes(
    c: &mut Criterion,
    name: &str,
    runtime: &tokio::runtime::Runtime,
    service: &AnalyticsService,
    db: &Db,
) {
    let tenant = &promostack::ids::TenantId::parse("bench-writes").expect("an id");
    runtime.block_on(async {
        promostack::on_pool!(db, pool => sqlx::query(
            "INSERT INTO tenants (id, slug, name, timezone, is_default, created_at, updated_at) \
             VALUES ($1, $1, $1, 'UTC', FALSE, 0, 0) ON CONFLICT (id) DO NOTHING"
        ).bind(tenant).execute(pool).await.affected())
        .expect("writes tenant");
    });
    let mut group = c.benchmark_group(format!("bot_usage_write_{name}"));
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    let counter = std::sync::atomic::AtomicI64::new(0);
    let next = || counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    group.bench_function("insert_row_only", |b| {
        b.to_async(runtime).iter(|| async {
            let i = next();
            promostack::on_pool!(db, pool => sqlx::query(
                "INSERT INTO bot_usage (id, tenant_id, user_id, chat_id, chat_type, template_slug, variant, code, success, reason, latency_ms, created_at) \
                 VALUES ($1, $2, $3, $3, 'private', $4, 'square', $5, TRUE, NULL, 100, $6)"
            ).bind(promostack::db::new_id()).bind(tenant).bind(i % 20_000).bind(format!("tpl-{}", i % 12))
                .bind(format!("CODE{}", i % 5_000)).bind(NOW - i * 1_000)
                .execute(pool).await.affected())
            .expect("insert")
        })
    });
    group.bench_function("record_usage_with_rollups", |b| {
        b.to_async(runtime).iter(|| async {
            let i = next();
            let (template, code) = (format!("tpl-{}", i % 12), format!("CODE{}", i % 5_000));
            service
                .record_usage(&NewUsage {
                    tenant_id: tenant,
                    user_id: Some(i % 20_000),
                    chat_id: i % 20_000,
                    chat_type: "private",
                    template_slug: Some(&template),
                    variant: Some("square"),
                    code: Some(&code),
                    failure: None,
                    latency_ms: 100,
                    created_at: NOW - i * 1_000,
                })
                .await
                .expect("record")
        })
    });
    group.finish();
}

fn bot_stats(c: &mut Criterion) {
    let dir = std::env::var("BENCH_SQLITE_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::env::temp_dir().join("promostack-bench-bot-stats"));
    std::fs::create_dir_all(&dir).expect("bench dir");
    let path = dir.join(format!("usage-{}.db", rows()));
    bench_backend(c, "sqlite", DatabaseConfig::Sqlite { path });
    if let Ok(admin) = std::env::var("TEST_DATABASE_URL") {
        let name = format!("promostack_bench_usage_{}", rows());
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let mut conn = sqlx::PgConnection::connect(&admin).await.expect("postgres");
            let exists: Option<i32> =
                sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
                    .bind(&name)
                    .fetch_optional(&mut conn)
                    .await
                    .expect("lookup");
            if exists.is_none() {
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut conn)
                    .await
                    .expect("create database");
            }
        });
        let url = promostack_testkit::db::replace_database(&admin, &name);
        bench_backend(
            c,
            "postgres",
            DatabaseConfig::Postgres {
                url: Secret::new(url),
            },
        );
    } else {
        eprintln!("TEST_DATABASE_URL unset: PostgreSQL skipped");
    }
}

criterion_group!(benches, bot_stats);
criterion_main!(benches);

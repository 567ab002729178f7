//! Benchmark (ignored in the normal run; numbers in docs/performance.md, "Broadcasts"):
//! 10,000 recipients against the fake Bot API at a raised test rate. Run with
//! `cargo test -p promostack --test broadcast_bench -- --ignored --nocapture --test-threads 1`
//! (`BENCH_RATE` overrides the rate, default 500 msg/s; `BENCH_LATENCY_MS` makes every Bot API
//! call take that long, default 0).
//!
//! - clean: wall time (first to last request the fake received) against recipients ÷ rate;
//! - faults: 5 % of users blocked and a 429 (retry_after 1 s) injected every 2 s: nothing lost,
//!   nothing duplicated.
use std::collections::HashMap;
use std::time::{Duration, Instant};

use promostack::config::Secret;
use promostack_testkit::broadcast::{seed_bot_users, seed_db};
use promostack_testkit::telegram::{FakeTelegram, Fault};
use promostack_testkit::{Backend, TestApp, json, spawn_app_with};
use serde_json::json;

const RECIPIENTS: i64 = 10_000;

fn rate() -> f64 {
    std::env::var("BENCH_RATE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500.0)
}

fn latency() -> Duration {
    Duration::from_millis(
        std::env::var("BENCH_LATENCY_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
    )
}

async fn setup(
    backend: Backend,
    blocked_every: Option<i64>,
) -> (TestApp, FakeTelegram, Vec<i64>, Vec<i64>) {
    promostack::install_crypto_provider();
    let fake = FakeTelegram::start().await;
    fake.set_latency(latency());
    let url = fake.url.clone();
    let app = spawn_app_with(backend, move |c| {
        c.integrations.telegram_bot_token = Some(Secret::new("123456:BENCH"));
        c.integrations.telegram_api_url = url;
        c.integrations.telegram_unpaced = true;
        c.broadcast.max_rate_per_sec = 10_000.0;
    })
    .await;
    app.login_admin().await;
    let tenant = app.tenant_id().await;
    let users: Vec<i64> = (1..=RECIPIENTS).map(|i| 10_000_000 + i).collect();
    let blocked: Vec<i64> = match blocked_every {
        Some(n) => users.iter().copied().filter(|u| u % n == 0).collect(),
        None => Vec::new(),
    };
    for id in &blocked {
        fake.block_chat(*id);
    }
    seed_bot_users(&seed_db(&app.config.database), &tenant, &users, false).await;
    (app, fake, users, blocked)
}

async fn run(app: &TestApp) -> serde_json::Value {
    let created = json(
        app.broadcast(json!({"message": "Benchmark broadcast", "rate": rate()}))
            .await,
        201,
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();
    app.wait_broadcast(&id, Duration::from_secs(600), |s| {
        s["status"] == "completed"
    })
    .await
}

fn deliveries(fake: &FakeTelegram) -> HashMap<i64, usize> {
    let mut per_chat = HashMap::new();
    for call in fake.calls_of("sendMessage").iter().filter(|c| c.ok()) {
        *per_chat.entry(call.chat_id().unwrap()).or_default() += 1;
    }
    per_chat
}

async fn clean(backend: Backend) {
    let (app, fake, users, _) = setup(backend, None).await;
    let started = Instant::now();
    let status = run(&app).await;
    let total = started.elapsed();
    let calls = fake.calls_of("sendMessage");
    let first = calls.iter().map(|c| c.at).min().unwrap();
    let last = calls.iter().map(|c| c.at).max().unwrap();
    let ideal = Duration::from_secs_f64((RECIPIENTS - 1) as f64 / rate());
    let span = last - first;
    let per_chat = deliveries(&fake);
    assert_eq!(status["sent"], RECIPIENTS);
    assert!(
        users.iter().all(|u| per_chat.get(u) == Some(&1)),
        "lost or duplicated"
    );
    let deviation = (span.as_secs_f64() - ideal.as_secs_f64()) / ideal.as_secs_f64() * 100.0;
    eprintln!(
        "{backend:?} clean: {RECIPIENTS} recipients at {} msg/s, Bot API latency {:?}: first-to-last send {span:.2?} (ideal {ideal:.2?}, {deviation:+.2} %), request to completed {total:.2?}",
        rate(),
        latency()
    );
    assert!(
        deviation.abs() <= 5.0,
        "wall time {deviation:+.2} % off recipients / rate"
    );
}

async fn faults(backend: Backend) {
    let (app, fake, users, blocked) = setup(backend, Some(20)).await;
    let injector = {
        let fake = fake.clone();
        tokio::spawn(async move {
            for _ in 0..30 {
                tokio::time::sleep(Duration::from_secs(2)).await;
                fake.fail_next("sendMessage", Fault::RetryAfter(1), 1);
            }
        })
    };
    let started = Instant::now();
    let status = run(&app).await;
    injector.abort();
    let per_chat = deliveries(&fake);
    let limited = fake
        .calls_of("sendMessage")
        .iter()
        .filter(|c| c.status == 429)
        .count();
    let blocked_n = blocked.len() as i64;
    assert_eq!(status["blocked"], blocked_n);
    assert_eq!(status["sent"], RECIPIENTS - blocked_n);
    assert_eq!(
        (
            status["failed"].as_i64(),
            status["uncertain"].as_i64(),
            status["pending"].as_i64()
        ),
        (Some(0), Some(0), Some(0))
    );
    for user in &users {
        let expected = usize::from(!blocked.contains(user));
        assert_eq!(
            per_chat.get(user).copied().unwrap_or(0),
            expected,
            "user {user}"
        );
    }
    eprintln!(
        "{backend:?} faults: {blocked_n} blocked, {limited} x 429 (retry_after 1 s) served; sent {}, lost 0, duplicates 0; {:.2?}",
        status["sent"],
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run with --ignored"]
async fn bench_10k_clean_sqlite() {
    clean(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run with --ignored"]
async fn bench_10k_clean_postgres() {
    clean(Backend::Postgres).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run with --ignored"]
async fn bench_10k_faults_sqlite() {
    faults(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run with --ignored"]
async fn bench_10k_faults_postgres() {
    faults(Backend::Postgres).await
}

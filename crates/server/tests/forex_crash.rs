//! Exactly-once signal posts with the real binary: the bundled replay runs fast, the Signal
//! Bot posts to the fake Bot API, the process is SIGKILLed mid-stream and started again on the
//! same database (SQLite and PostgreSQL). Afterwards: no post went out twice, every event has
//! its post, only a post in flight at the kill is uncertain, and the signals across the crash
//! are exactly the trades `run_backtest` finds on the stored bars.
use std::collections::HashMap;
use std::time::Duration;

use promostack::config::DatabaseConfig;
use promostack_signals::backtest::{BacktestOptions, run_backtest};
use promostack_signals::bars::{Bar, Timeframe};
use promostack_signals::lifecycle::Outcome;
use promostack_testkit::broadcast::seed_db;
use promostack_testkit::forex::{SIGNAL_TOKEN, VIP_CHANNEL, add_signal_bot};
use promostack_testkit::process::ServerProcess;
use promostack_testkit::telegram::FakeTelegram;
use promostack_testkit::{Backend, TestDatabase, backend_tests};
use serde_json::json;

backend_tests!(kill_9_mid_stream_posts_every_event_once);

async fn start(
    database: &DatabaseConfig,
    data_dir: &std::path::Path,
    fake: &FakeTelegram,
) -> ServerProcess {
    let url = match database {
        DatabaseConfig::Postgres { url } => Some(url.expose().to_owned()),
        _ => None,
    };
    let mut env = vec![
        ("TELEGRAM_API_URL", fake.url.as_str()),
        ("TELEGRAM_RATE_LIMIT", "off"),
        ("MARKET_DATA_REPLAY_SPEED", "25"),
        ("LEADER_LEASE_TTL_MS", "3000"),
        ("SECRET_KEY", "forex-crash-test-secret-key-0123456789abcdef"),
    ];
    if let Some(url) = &url {
        env.push(("DATABASE_URL", url.as_str()));
    }
    ServerProcess::start(env!("CARGO_BIN_EXE_promostack"), data_dir, &env).await
}

async fn sent_posts(process: &ServerProcess, fake: &FakeTelegram, at_least: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    while fake.sent_to(VIP_CHANNEL).len() < at_least {
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} posts; status {}",
            fake.sent_to(VIP_CHANNEL).len(),
            process.get("/api/signal-bot/status").await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[derive(Debug, sqlx::FromRow)]
struct Post {
    post_key: String,
    text: String,
    status: String,
    message_id: Option<i64>,
}

async fn kill_9_mid_stream_posts_every_event_once(backend: Backend) {
    promostack::install_crypto_provider();
    let fake = FakeTelegram::start().await;
    add_signal_bot(&fake);
    let database = TestDatabase::create(backend).await;
    let data_dir = tempfile::tempdir().unwrap();
    let db_config = match backend {
        Backend::Sqlite => DatabaseConfig::Sqlite {
            path: data_dir.path().join("promostack.db"),
        },
        Backend::Postgres => database.config.clone(),
    };

    let first = start(&db_config, data_dir.path(), &fake).await;
    let saved = first
        .client
        .put(format!("{}/api/connections/signal-bot", first.base))
        .json(&json!({"token": SIGNAL_TOKEN, "vipChannel": "@gold_vip"}))
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), 200, "{}", saved.text().await.unwrap());
    let enabled = first
        .client
        .post(format!("{}/api/forex-config", first.base))
        .json(&json!({"enabled": true, "symbol": "EUR/USD", "timeframe": "1h"}))
        .send()
        .await
        .unwrap();
    assert_eq!(enabled.status(), 200);
    // Where the service starts trading: the newest bar stored when it was turned on.
    let start_close = loop {
        let status = first.get("/api/signal-bot/status").await;
        if let Some(close) = status["lastBarClose"].as_i64() {
            break close / 1000;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };

    sent_posts(&first, &fake, 12).await;
    first.kill_9();
    let db = seed_db(&db_config);
    let in_flight: Vec<String> = promostack::on_pool!(&db, pool => sqlx::query_scalar::<_, String>(
        "SELECT post_key FROM forex_posts WHERE status = 'sending' ORDER BY post_key"
    ).fetch_all(pool).await)
    .unwrap();
    let before = fake.sent_to(VIP_CHANNEL).len();

    let second = start(&db_config, data_dir.path(), &fake).await;
    sent_posts(&second, &fake, before + 12).await;
    second.kill_9();

    // The outbox against what the fake received.
    let posts: Vec<Post> = promostack::on_pool!(&db, pool => sqlx::query_as::<_, Post>(
        "SELECT post_key, text, status, message_id FROM forex_posts ORDER BY created_at, post_key"
    ).fetch_all(pool).await)
    .unwrap();
    let sent = fake.sent_to(VIP_CHANNEL);
    let received: HashMap<i64, &str> = sent
        .iter()
        .enumerate()
        .map(|(i, c)| (i as i64 + 1, c.text().unwrap()))
        .collect();
    let mut delivered_ids = Vec::new();
    for post in &posts {
        match post.status.as_str() {
            "sent" => {
                let id = post.message_id.expect("a sent post has its message id");
                delivered_ids.push(id);
            }
            "uncertain" => assert!(
                in_flight.contains(&post.post_key),
                "{} is uncertain but was not in flight at the kill",
                post.post_key
            ),
            "pending" | "sending" => {}
            other => panic!("{} ended {other}", post.post_key),
        }
    }
    delivered_ids.sort();
    delivered_ids.dedup();
    let sent_rows = posts.iter().filter(|p| p.status == "sent").count();
    assert_eq!(delivered_ids.len(), sent_rows, "two posts share a message");
    // Each Telegram message is one post's text (the fake numbers its messages 1, 2, …; one
    // uncertain post may have reached it without its id being recorded).
    let uncertain = posts.iter().filter(|p| p.status == "uncertain").count();
    // Rows `sending` at the second kill may or may not have gone out, like uncertain ones.
    let sending = posts.iter().filter(|p| p.status == "sending").count();
    assert!(
        sent.len() >= sent_rows && sent.len() <= sent_rows + uncertain + sending,
        "{} messages for {sent_rows} sent, {uncertain} uncertain, {sending} sending rows",
        sent.len()
    );
    for post in posts.iter().filter(|p| p.status == "sent") {
        let id = post.message_id.unwrap();
        assert_eq!(
            received.get(&id).copied(),
            Some(post.text.as_str()),
            "{}: message {id} is another text",
            post.post_key
        );
    }

    // Every event has its post; events of a signal are numbered without gaps or repeats.
    let events: Vec<(i64, i64, String)> = promostack::on_pool!(&db, pool => sqlx::query_as::<_, (i64, i64, String)>(
        "SELECT s.seq, e.seq, e.kind FROM forex_signal_events e JOIN forex_signals s ON s.id = e.signal_id ORDER BY s.seq, e.seq"
    ).fetch_all(pool).await)
    .unwrap();
    let keys: std::collections::HashSet<&str> = posts.iter().map(|p| p.post_key.as_str()).collect();
    let mut expected_seq: HashMap<i64, i64> = HashMap::new();
    for (signal, n, kind) in &events {
        let next = expected_seq.entry(*signal).or_default();
        assert_eq!(n, next, "signal {signal}: event numbers run on");
        *next += 1;
        if *n == 0 {
            assert_eq!(kind, "opened");
        }
        let key = format!("signal:{signal:06}:{n:03}");
        assert!(keys.contains(key.as_str()), "no post for {key} ({kind})");
    }

    // Across the crash the service traded exactly what the backtest finds on the stored bars.
    let bars: Vec<Bar> =
        promostack::on_pool!(&db, pool => sqlx::query_as::<_, (i64, f64, f64, f64, f64)>(
        "SELECT open_time, open, high, low, close FROM market_bars ORDER BY open_time"
    ).fetch_all(pool).await)
        .unwrap()
        .into_iter()
        .map(|(time, open, high, low, close)| Bar {
            time,
            open,
            high,
            low,
            close,
        })
        .collect();
    let processed_to: i64 = promostack::on_pool!(&db, pool => sqlx::query_scalar::<_, i64>(
        "SELECT last_bar_close FROM forex_config"
    ).fetch_one(pool).await)
    .unwrap();
    let mut options = BacktestOptions::new("EUR/USD", "aggressive", Timeframe::H1);
    options.from = Some(start_close);
    options.to = Some(processed_to - 3600 + 1);
    let report = run_backtest(&bars, 3600, &options, &mut |_, _| {}).unwrap();
    let closed: Vec<(i64, String, i64, Option<f64>)> = promostack::on_pool!(&db, pool => sqlx::query_as::<_, (i64, String, i64, Option<f64>)>(
        "SELECT seq, status, opened_at, net_pips FROM forex_signals WHERE status <> 'open' ORDER BY seq"
    ).fetch_all(pool).await)
    .unwrap();
    let trades: Vec<_> = report
        .trades
        .iter()
        .filter(|t| t.outcome != Outcome::EndOfData)
        .collect();
    assert_eq!(closed.len(), trades.len(), "{closed:?}");
    for ((seq, status, opened_at, pips), trade) in closed.iter().zip(trades) {
        assert_eq!(*seq, trade.id as i64);
        assert_eq!(status, trade.outcome.label());
        assert_eq!(*opened_at, trade.opened_at * 1000);
        assert!((pips.unwrap() - trade.pips).abs() < 1e-9);
    }
    eprintln!(
        "{backend:?}: {} posts ({sent_rows} sent, {uncertain} uncertain, {} in flight at the kill), {} signals",
        posts.len(),
        in_flight.len(),
        expected_seq.len()
    );
    drop(database);
}

//! Crash safety with the real binary: start `promostack` as a child process (on PostgreSQL and
//! on SQLite), let a broadcast run, SIGKILL the process mid-job, start it again on the same
//! database, and check that the job finishes with nobody receiving the message twice (the fake
//! Bot API records every call) and at most the rows in flight at the kill marked uncertain —
//! with a fast Bot API (one or two in flight) and a slow one (300 ms per call: about ten in
//! flight, never more than the sender's in-flight bound).
use std::collections::HashMap;
use std::time::Duration;

use promostack::config::DatabaseConfig;
use promostack::domains::broadcast::sender::MAX_IN_FLIGHT;
use promostack_testkit::broadcast::{seed_bot_users, seed_db};
use promostack_testkit::process::ServerProcess;
use promostack_testkit::telegram::FakeTelegram;
use promostack_testkit::{Backend, TestDatabase, backend_tests};
use serde_json::{Value, json};

backend_tests!(
    kill_9_mid_broadcast_resumes_without_duplicates,
    kill_9_with_slow_telegram_leaves_only_in_flight_rows_uncertain
);

const RECIPIENTS: i64 = 150;

/// The real binary against the fake Bot API, on `database`.
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
        ("TELEGRAM_BOT_TOKEN", "123456:CRASH-TEST"),
        ("TELEGRAM_API_URL", fake.url.as_str()),
        ("TELEGRAM_RATE_LIMIT", "off"),
        ("BROADCAST_RATE", "30"),
        // A dead leader's lease (and its job's claim) lapse after 3 s.
        ("LEADER_LEASE_TTL_MS", "3000"),
    ];
    if let Some(url) = &url {
        env.push(("DATABASE_URL", url.as_str()));
    }
    ServerProcess::start(env!("CARGO_BIN_EXE_promostack"), data_dir, &env).await
}

async fn kill_9_mid_broadcast_resumes_without_duplicates(backend: Backend) {
    // At 30 msg/s on loopback, one or two requests are in flight at any moment.
    kill_9_mid_broadcast(backend, Duration::ZERO).await;
}

async fn kill_9_with_slow_telegram_leaves_only_in_flight_rows_uncertain(backend: Backend) {
    // 300 ms per call at 30 msg/s: about ten requests in flight when the process dies.
    kill_9_mid_broadcast(backend, Duration::from_millis(300)).await;
}

/// Kill -9 a third of the way through, restart, and check the ledger against the fake's
/// record: exactly the rows in flight at the kill (never more than the sender's bound) end
/// uncertain, nobody got the message twice.
async fn kill_9_mid_broadcast(backend: Backend, latency: Duration) {
    promostack::install_crypto_provider();
    let fake = FakeTelegram::start().await;
    fake.set_latency(latency);
    let database = TestDatabase::create(backend).await;
    let data_dir = tempfile::tempdir().unwrap();
    let sqlite_config = DatabaseConfig::Sqlite {
        path: data_dir.path().join("promostack.db"),
    };
    let db_config = match backend {
        Backend::Sqlite => sqlite_config,
        Backend::Postgres => database.config.clone(),
    };

    let first = start(&db_config, data_dir.path(), &fake).await;
    let tenant = first.get("/api/tenant").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let users: Vec<i64> = (5_001..5_001 + RECIPIENTS).collect();
    seed_bot_users(&seed_db(&db_config), &tenant, &users, false).await;
    let created: Value = first
        .client
        .post(format!("{}/api/broadcast", first.base))
        .json(&json!({"message": "Crash-safe hello"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().expect("created").to_owned();

    // Let about a third go out, then kill -9.
    loop {
        let status = first.get(&format!("/api/broadcast-status/{id}")).await;
        if status["sent"].as_i64().unwrap() >= RECIPIENTS / 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.kill_9();
    // The rows in flight at the kill: claimed (`sending` committed), outcome not committed.
    let in_flight: Vec<i64> = ledger(&db_config, &id)
        .await
        .into_iter()
        .filter(|(_, status)| status == "sending")
        .map(|(user, _)| user)
        .collect();
    let delivered_before = fake
        .calls_of("sendMessage")
        .iter()
        .filter(|c| c.ok())
        .count() as i64;
    assert!(
        delivered_before < RECIPIENTS,
        "killed mid-job ({delivered_before} sent)"
    );

    let second = start(&db_config, data_dir.path(), &fake).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    let status = loop {
        let status = second.get(&format!("/api/broadcast-status/{id}")).await;
        if status["status"] == "completed" {
            break status;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never finished: {status}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    eprintln!(
        "{backend:?}, Bot API latency {latency:?}: killed after {delivered_before} deliveries with {} in flight; final sent {} uncertain {}",
        in_flight.len(),
        status["sent"],
        status["uncertain"]
    );
    second.kill_9();

    // Nobody got it twice; everyone is accounted for.
    let mut per_chat: HashMap<i64, usize> = HashMap::new();
    for call in fake.calls_of("sendMessage").iter().filter(|c| c.ok()) {
        *per_chat.entry(call.chat_id().unwrap()).or_default() += 1;
    }
    assert!(
        per_chat.values().all(|&n| n == 1),
        "a duplicate: {per_chat:?}"
    );
    let sent = status["sent"].as_i64().unwrap();
    let uncertain = status["uncertain"].as_i64().unwrap();
    assert!(
        uncertain <= MAX_IN_FLIGHT as i64,
        "{uncertain} uncertain, more than the {MAX_IN_FLIGHT} that can be in flight"
    );
    assert_eq!(sent + uncertain, RECIPIENTS, "{status}");
    assert_eq!(status["pending"], 0);
    assert_eq!(status["failed"], 0);
    // Every row reported sent was delivered exactly once; uncertain ones at most once.
    assert!(per_chat.len() as i64 >= sent && per_chat.len() as i64 <= sent + uncertain);
    let report = ledger(&db_config, &id).await;
    let uncertain_rows: Vec<i64> = report
        .iter()
        .filter(|(_, status)| status == "uncertain")
        .map(|(user, _)| *user)
        .collect();
    assert_eq!(
        uncertain_rows, in_flight,
        "exactly the rows in flight at the kill end uncertain"
    );
    for (user, row_status) in report {
        let got = per_chat.get(&user).copied().unwrap_or(0);
        match row_status.as_str() {
            "sent" => assert_eq!(got, 1, "user {user}"),
            "uncertain" => assert!(got <= 1),
            other => panic!("user {user} ended {other}"),
        }
    }
    drop(database);
}

/// The ledger as stored, by user id (no process is running when it is read).
async fn ledger(config: &DatabaseConfig, id: &str) -> Vec<(i64, String)> {
    let db = seed_db(config);
    promostack::on_pool!(&db, pool => sqlx::query_as::<_, (i64, String)>(
        "SELECT user_id, status FROM broadcast_recipients WHERE broadcast_id = $1 ORDER BY user_id"
    ).bind(id).fetch_all(pool).await)
    .unwrap()
}

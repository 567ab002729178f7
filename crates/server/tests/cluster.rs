//! Several instances on one PostgreSQL: leader failover, and riding out a database outage.
use std::time::Duration;

use promostack::config::{DatabaseConfig, LeaderTimings, Secret};
use promostack_testkit::proxy::Proxy;
use promostack_testkit::{
    Backend, TestApp, TestDatabase, expect_error, json, local_config, start_app,
};

const FAST: LeaderTimings = LeaderTimings {
    ttl_ms: 1_500,
    renew_every_ms: 300,
    retry_every_ms: 300,
};

async fn instance(database: &DatabaseConfig, dir: &std::path::Path) -> TestApp {
    let mut config = local_config(dir, database.clone());
    config.leader = FAST;
    // Every instance must share the key material to accept each other's sessions.
    config.secret_key = Some(Secret::new("cluster-test-secret"));
    let app = start_app(config).await;
    app.wait_ready().await;
    app.login_admin().await;
    app
}

async fn status(app: &TestApp) -> serde_json::Value {
    json(app.system_status().await, 200).await
}

/// Wait until `app` reports leadership `expected`; panics after `limit`.
async fn wait_leader(app: &TestApp, expected: bool, limit: Duration) -> serde_json::Value {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let s = status(app).await;
        if s["leader"] == expected {
            return s;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "leadership never became {expected}: {s}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_leader_failover_on_stop_and_on_crash() {
    let database = TestDatabase::create(Backend::Postgres).await;
    let dirs = [
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    ];
    let a = instance(&database.config, dirs[0].path()).await;
    let b = instance(&database.config, dirs[1].path()).await;

    // Exactly one of the two leads and runs the workers; the other serves HTTP as a standby.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let (leader, standby) = loop {
        let (sa, sb) = (status(&a).await, status(&b).await);
        match (
            sa["leader"].as_bool().unwrap(),
            sb["leader"].as_bool().unwrap(),
        ) {
            (true, false) => break (a, b),
            (false, true) => break (b, a),
            (true, true) => panic!("two leaders: {sa} {sb}"),
            (false, false) => assert!(tokio::time::Instant::now() < deadline, "no leader elected"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let first = status(&leader).await;
    assert!(
        !first["workers"].as_array().unwrap().is_empty(),
        "the leader runs workers: {first}"
    );
    let standby_status = status(&standby).await;
    assert!(
        standby_status["workers"].as_array().unwrap().is_empty(),
        "standby runs none: {standby_status}"
    );
    assert_eq!(
        json(standby.get_tenant().await, 200).await["slug"],
        "default",
        "standby serves the API"
    );

    // Graceful stop releases the lease; the standby takes over with a higher epoch.
    leader.stop().await;
    let second = wait_leader(&standby, true, Duration::from_secs(10)).await;
    assert!(
        second["leaderEpoch"].as_i64() > first["leaderEpoch"].as_i64(),
        "{first} -> {second}"
    );

    // A crash (no release): a third instance takes over once the lease expires.
    let c = instance(&database.config, dirs[2].path()).await;
    assert_eq!(status(&c).await["leader"], false);
    standby.kill();
    let third = wait_leader(&c, true, Duration::from_secs(10)).await;
    assert!(third["leaderEpoch"].as_i64() > second["leaderEpoch"].as_i64());
    c.stop().await;
}

/// With the default lease timings and the real binary: one leader at a time while both run
/// (no false failover over several renewals), and after `kill -9` of the leader (no release)
/// the standby leads within 15 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_kill_9_failover_within_15_s_on_default_timings() {
    use promostack_testkit::process::ServerProcess;
    let database = TestDatabase::create(Backend::Postgres).await;
    let DatabaseConfig::Postgres { url } = &database.config else {
        unreachable!()
    };
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let env = [
        ("DATABASE_URL", url.expose()),
        ("SECRET_KEY", "cluster-test-secret"),
    ];
    let bin = env!("CARGO_BIN_EXE_promostack");
    let a = ServerProcess::start(bin, dirs[0].path(), &env).await;
    let b = ServerProcess::start(bin, dirs[1].path(), &env).await;
    // Both up: exactly one leader, and the same one with the same epoch for 7 s (two renewals).
    let mut first = None;
    let observe_until = tokio::time::Instant::now() + Duration::from_secs(7);
    while tokio::time::Instant::now() < observe_until {
        let (sa, sb) = (
            a.get("/api/system/status").await,
            b.get("/api/system/status").await,
        );
        let leaders = (
            sa["leader"].as_bool().unwrap(),
            sb["leader"].as_bool().unwrap(),
        );
        assert!(leaders != (true, true), "two leaders: {sa} {sb}");
        if leaders != (false, false) {
            let now = (
                leaders.0,
                if leaders.0 { &sa } else { &sb }["leaderEpoch"].as_i64(),
            );
            assert!(
                first.is_none_or(|f| f == now),
                "leadership moved without a failure"
            );
            first = Some(now);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let (a_leads, epoch) = first.expect("a leader was elected");
    let (leader, standby) = if a_leads { (a, b) } else { (b, a) };
    let killed = tokio::time::Instant::now();
    leader.kill_9();
    loop {
        let s = standby.get("/api/system/status").await;
        if s["leader"] == true {
            assert!(
                s["leaderEpoch"].as_i64() > epoch,
                "a takeover bumps the epoch: {s}"
            );
            break;
        }
        assert!(
            killed.elapsed() < Duration::from_secs(15),
            "no takeover within 15 s of kill -9"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let took = killed.elapsed();
    eprintln!("failover after kill -9 took {:.1} s", took.as_secs_f64());
    assert!(took <= Duration::from_secs(15), "failover took {took:?}");
    drop(standby);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_outage_gives_503_json_and_recovers_by_itself() {
    let database = TestDatabase::create(Backend::Postgres).await;
    let DatabaseConfig::Postgres { url } = &database.config else {
        unreachable!()
    };
    // Route the app's connections through a proxy we can cut.
    let host_port = url
        .expose()
        .split('@')
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let proxy = Proxy::start(host_port.clone()).await;
    let proxied = url
        .expose()
        .replacen(&host_port, &format!("127.0.0.1:{}", proxy.port), 1);
    let dir = tempfile::tempdir().unwrap();

    // Start while the database is unreachable: the process starts and answers 503 JSON.
    proxy.cut();
    let mut config = local_config(
        dir.path(),
        DatabaseConfig::Postgres {
            url: Secret::new(proxied),
        },
    );
    config.leader = FAST;
    let app = start_app(config).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while app.client.get(app.url("/healthz")).send().await.is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "server never listened"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        app.healthz().await.status(),
        200,
        "liveness does not need the database"
    );
    expect_error(
        app.login(promostack_testkit::ADMIN_PASSWORD).await,
        503,
        "unavailable",
    )
    .await;
    assert_eq!(app.readyz().await.status(), 503);

    // The database comes back: bootstrap finishes by itself.
    proxy.restore();
    app.wait_ready_for(Duration::from_secs(20)).await;
    app.login_admin().await;
    assert_eq!(app.get_tenant().await.status(), 200);

    // An outage while running: 503 JSON, then recovery without a restart.
    proxy.cut();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let response = app.get_tenant().await;
        if response.status() == 503 {
            expect_error(response, 503, "unavailable").await;
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never noticed the outage"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    proxy.restore();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if app.get_tenant().await.status() == 200 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "never recovered");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    app.stop().await;
}

/// The database is dropped under a running instance and comes back empty: every answer in
/// between is 503 JSON (never 500), readiness says so, and the instance builds the schema
/// again by itself (migrations + bootstrap) and serves again after a fresh login.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_database_dropped_and_recreated_empty_recovers() {
    use sqlx::Connection;
    let database = TestDatabase::create(Backend::Postgres).await;
    let DatabaseConfig::Postgres { url } = &database.config else {
        unreachable!()
    };
    let name = url
        .expose()
        .rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let dir = tempfile::tempdir().unwrap();
    let mut config = local_config(dir.path(), database.config.clone());
    config.leader = FAST;
    let app = start_app(config).await;
    app.wait_ready().await;
    app.login_admin().await;
    assert_eq!(app.get_tenant().await.status(), 200);

    let mut admin = sqlx::PgConnection::connect(&promostack_testkit::db::postgres_admin_url())
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE {name} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await
    .unwrap();
    let mut seen = Vec::new();
    for _ in 0..10 {
        let response = app.get_tenant().await;
        seen.push(response.status().as_u16());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap();
    // Empty now: 503 until the probe notices and re-bootstraps, then 401 (the session row went
    // with the old database), then a fresh login works.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let status = app.get_tenant().await.status().as_u16();
        seen.push(status);
        if status == 401 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never rebuilt the schema: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        seen.iter().all(|s| matches!(s, 200 | 503 | 401)),
        "only 503 while the database was gone or empty: {seen:?}"
    );
    assert!(seen.contains(&503), "{seen:?}");
    assert_eq!(json(app.readyz().await, 200).await["database"], "ok");
    app.login_admin().await;
    assert_eq!(app.get_tenant().await.status(), 200);
    app.stop().await;
}

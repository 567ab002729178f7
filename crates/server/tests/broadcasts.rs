//! Broadcasts through the HTTP API on both backends: validation before anything is queued,
//! dry runs, idempotent creation, tenant isolation on every route and in every repository
//! function. Sending itself (rate, 403, 429, progress, controls, report) is in
//! broadcast_sending.rs; the kill -9 test in broadcast_crash.rs.
use promostack::ids::TenantId;
use std::time::Duration;

use promostack::domains::broadcast::repo;
use promostack_testkit::broadcast::{seed_bot_users, seed_db};
use promostack_testkit::{Backend, TestApp, backend_tests, expect_error, json, spawn_app};
use serde_json::{Value, json};

backend_tests!(
    bad_broadcasts_are_refused_with_a_reason,
    dry_run_counts_the_audience,
    idempotency_key_creates_one_broadcast,
    broadcasts_are_tenant_scoped,
    repository_calls_with_another_tenant_touch_nothing
);

async fn app_with_audience(backend: Backend, users: &[i64], blocked: &[i64]) -> (TestApp, String) {
    let app = spawn_app(backend).await;
    app.login_admin().await;
    let tenant = app.tenant_id().await;
    let db = seed_db(&app.config.database);
    seed_bot_users(&db, &tenant, users, false).await;
    seed_bot_users(&db, &tenant, blocked, true).await;
    (app, tenant)
}

async fn refused(app: &TestApp, body: Value, needle: &str) {
    let err = expect_error(app.broadcast(body.clone()).await, 422, "validation_failed").await;
    let message = err["error"].as_str().unwrap();
    assert!(message.contains(needle), "{body} -> {message}");
}

async fn bad_broadcasts_are_refused_with_a_reason(backend: Backend) {
    let (app, _) = app_with_audience(backend, &[1, 2], &[]).await;
    refused(&app, json!({"message": ""}), "empty").await;
    refused(&app, json!({"message": "   \n "}), "empty").await;
    refused(&app, json!({"message": "a".repeat(4097)}), "4096").await;
    refused(
        &app,
        json!({"message": "a".repeat(1025), "photo": "https://cdn.example.com/p.jpg"}),
        "1024",
    )
    .await;
    refused(
        &app,
        json!({"message": "<b>bold</i>", "parse_mode": "HTML"}),
        "HTML",
    )
    .await;
    refused(
        &app,
        json!({"message": "<script>x</script>", "parse_mode": "HTML"}),
        "not supported",
    )
    .await;
    refused(
        &app,
        json!({"message": "Sale!", "parse_mode": "MarkdownV2"}),
        "'!' at character 5",
    )
    .await;
    refused(
        &app,
        json!({"message": "*open", "parse_mode": "MarkdownV2"}),
        "never closed",
    )
    .await;
    refused(
        &app,
        json!({"message": "x", "parse_mode": "Markdown"}),
        "HTML or MarkdownV2",
    )
    .await;
    refused(
        &app,
        json!({"message": "x", "photo": "javascript:alert(1)"}),
        "photo",
    )
    .await;
    refused(
        &app,
        json!({"message": "x", "buttons": [[{"text": "Shop", "url": "ftp://x"}]]}),
        "URL",
    )
    .await;
    refused(
        &app,
        json!({"message": "x", "buttons": [[{"text": "", "url": "https://x.test"}]]}),
        "text",
    )
    .await;
    refused(&app, json!({"message": "x", "rate": 31}), "at most 30").await;
    refused(&app, json!({"message": "x", "rate": 0}), "rate").await;
    // Unknown fields and wrong types are refused too.
    expect_error(
        app.broadcast(json!({"message": "x", "mesage": 1})).await,
        422,
        "validation_failed",
    )
    .await;
    expect_error(
        app.broadcast(json!({"message": 5})).await,
        422,
        "validation_failed",
    )
    .await;
    // Markup that is right passes the check (and the HTML length excludes tags).
    let ok = json(
        app.broadcast(json!({"message": format!("<b>{}</b>", "a".repeat(4096)), "parse_mode": "HTML", "dry_run": true}))
            .await,
        200,
    )
    .await;
    assert_eq!(ok["recipients"], 2);
    // Nothing was queued by any of it.
    assert_eq!(
        json(app.broadcast_jobs().await, 200).await["jobs"],
        json!([])
    );
}

async fn dry_run_counts_the_audience(backend: Backend) {
    let (app, _) = app_with_audience(backend, &[10, 11, 12], &[13, 14]).await;
    assert_eq!(
        json(app.broadcast_audience().await, 200).await["recipients"],
        3
    );
    let dry = json(
        app.broadcast(
            json!({"message": "*New* templates\\!", "parse_mode": "MarkdownV2", "dry_run": true}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["recipients"], 3);
    assert_eq!(
        json(app.broadcast_jobs().await, 200).await["jobs"],
        json!([])
    );
    // An empty audience cannot be broadcast to (but can be counted).
    let b = app.create_tenant("Nobody", "nobody").await;
    app.use_tenant(Some(&b));
    assert_eq!(
        json(app.broadcast_audience().await, 200).await["recipients"],
        0
    );
    let err = expect_error(
        app.broadcast(json!({"message": "hi"})).await,
        422,
        "validation_failed",
    )
    .await;
    assert!(err["error"].as_str().unwrap().contains("nobody to send to"));
    assert_eq!(
        json(app.broadcast_jobs().await, 200).await["jobs"],
        json!([]),
        "nothing half-written"
    );
}

async fn idempotency_key_creates_one_broadcast(backend: Backend) {
    let (app, _) = app_with_audience(backend, &[1, 2, 3], &[]).await;
    let body = json!({"message": "Hello"});
    let first = json(app.broadcast_with_key(body.clone(), "click-1").await, 201).await;
    assert_eq!(first["created"], true);
    assert_eq!(first["recipients"], 3);
    let again = json(app.broadcast_with_key(body.clone(), "click-1").await, 200).await;
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["created"], false);
    let other = json(app.broadcast_with_key(body, "click-2").await, 201).await;
    assert_ne!(other["id"], first["id"]);
    let jobs = json(app.broadcast_jobs().await, 200).await;
    assert_eq!(jobs["jobs"].as_array().unwrap().len(), 2);
    let status = json(
        app.broadcast_status(first["id"].as_str().unwrap()).await,
        200,
    )
    .await;
    assert_eq!(status["recipients"], 3);
    assert_eq!(status["message"], "Hello");
    assert_eq!(status["rate"], 20.0, "the default rate");
}

async fn broadcasts_are_tenant_scoped(backend: Backend) {
    let (app, _) = app_with_audience(backend, &[1, 2, 3], &[]).await;
    let created = json(
        app.broadcast(json!({"message": "For tenant A only"})).await,
        201,
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();
    let b_id = app.create_tenant("B", "tenant-b").await;
    let db = seed_db(&app.config.database);
    seed_bot_users(&db, &b_id, &[900], false).await;
    app.use_tenant(Some(&b_id));
    assert_eq!(
        json(app.broadcast_audience().await, 200).await["recipients"],
        1
    );
    assert_eq!(
        json(app.broadcast_jobs().await, 200).await["jobs"],
        json!([])
    );
    expect_error(app.broadcast_status(&id).await, 404, "not_found").await;
    expect_error(app.broadcast_report(&id).await, 404, "not_found").await;
    for action in ["pause", "resume", "cancel"] {
        expect_error(app.broadcast_action(&id, action).await, 404, "not_found").await;
    }
    // B's idempotency keys live in B's space.
    let mine = json(
        app.broadcast_with_key(json!({"message": "B"}), "same-key")
            .await,
        201,
    )
    .await;
    app.use_tenant(None);
    let a_same = json(
        app.broadcast_with_key(json!({"message": "A"}), "same-key")
            .await,
        201,
    )
    .await;
    assert_ne!(a_same["id"], mine["id"]);
    expect_error(
        app.broadcast_status(mine["id"].as_str().unwrap()).await,
        404,
        "not_found",
    )
    .await;
    // A's broadcast is untouched by B's attempts.
    let status = json(app.broadcast_status(&id).await, 200).await;
    assert_ne!(status["status"], "cancelled");
    assert_eq!(status["recipients"], 3);
    // Signed out: nothing.
    app.logout().await;
    expect_error(app.broadcast_jobs().await, 401, "unauthenticated").await;
    expect_error(
        app.broadcast(json!({"message": "x"})).await,
        401,
        "unauthenticated",
    )
    .await;
}

/// Every broadcast repository function filters on the tenant it is given: called with tenant
/// B's id, none of them reads or changes tenant A's broadcast or its ledger; the same calls with
/// A's id do.
async fn repository_calls_with_another_tenant_touch_nothing(backend: Backend) {
    let (app, a_id) = app_with_audience(backend, &[1, 2, 3], &[]).await;
    let a_id = TenantId::parse(&a_id).unwrap();
    let created = json(
        app.broadcast(json!({"message": "For tenant A only"})).await,
        201,
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();
    // A has no bot: the sender fails the broadcast (through A's id) and leaves the ledger alone.
    let failed = app
        .wait_broadcast(&id, Duration::from_secs(30), |s| s["status"] == "failed")
        .await;
    assert!(
        failed["error"]
            .as_str()
            .unwrap()
            .contains("no Coupon Bot is connected"),
        "{failed}"
    );
    let b = json(app.admin_create_tenant("B", "tenant-b", None).await, 201).await;
    let b_id = TenantId::parse(b["id"].as_str().unwrap()).unwrap();
    let db = seed_db(&app.config.database);
    let now = 1_900_000_000_000;
    let by_status = |counts: Vec<repo::StatusCount>| {
        let mut counts: Vec<(String, i64)> = counts
            .into_iter()
            .map(|c| (c.status.as_str().to_owned(), c.count))
            .collect();
        counts.sort();
        counts
    };

    assert_eq!(
        repo::status_of(&db, &a_id, &id).await.unwrap(),
        Some(repo::BroadcastState::Failed)
    );
    assert_eq!(repo::status_of(&db, &b_id, &id).await.unwrap(), None);
    assert_eq!(
        by_status(repo::counts(&db, &a_id, &id).await.unwrap()),
        [("pending".to_owned(), 3)]
    );
    assert!(repo::counts(&db, &b_id, &id).await.unwrap().is_empty());
    assert_eq!(
        repo::next_pending(&db, &a_id, &id, i64::MIN, 10)
            .await
            .unwrap(),
        [1, 2, 3]
    );
    assert!(
        repo::next_pending(&db, &b_id, &id, i64::MIN, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let (lines, mut report) = tokio::sync::mpsc::channel(16);
    repo::stream_report(&db, &b_id, &id, &lines, |r| r.user_id.to_string())
        .await
        .unwrap();
    drop(lines);
    assert_eq!(report.recv().await, None, "no report rows through tenant B");
    repo::set_error(&db, &b_id, &id, "written through tenant B", now)
        .await
        .unwrap();

    let mut tx = db.begin().await.unwrap();
    repo::set_recipient_count(&mut tx, &b_id, &id, 99)
        .await
        .unwrap();
    assert!(
        repo::mark_sending(&mut tx, &b_id, &id, &[1, 2], now)
            .await
            .unwrap()
            .is_empty(),
        "B claims nothing"
    );
    assert_eq!(
        repo::mark_sending(&mut tx, &a_id, &id, &[1, 2], now)
            .await
            .unwrap(),
        [1, 2],
        "A claims its rows"
    );
    let sent = [repo::SendResult {
        user_id: 1,
        status: repo::RecipientStatus::Sent,
        error: None,
        message_id: Some(11),
    }];
    repo::mark_results(&mut tx, &b_id, &id, &sent, now)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        by_status(repo::counts(&db, &a_id, &id).await.unwrap()),
        [("pending".to_owned(), 1), ("sending".to_owned(), 2)],
        "B's results were not recorded"
    );
    assert_eq!(repo::cancel_pending(&db, &b_id, &id, now).await.unwrap(), 0);
    assert_eq!(
        repo::mark_in_flight_uncertain(&db, &b_id, &id, now)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        repo::mark_in_flight_uncertain(&db, &a_id, &id, now)
            .await
            .unwrap(),
        2
    );
    assert_eq!(repo::cancel_pending(&db, &a_id, &id, now).await.unwrap(), 1);

    let row = repo::get(&db, &a_id, &id).await.unwrap().unwrap();
    assert_eq!(row.recipients, 3, "B's recipient count did not land");
    assert!(
        row.error.unwrap().contains("no Coupon Bot is connected"),
        "B's error did not land"
    );
}

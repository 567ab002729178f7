//! Broadcasts sent through the fake Telegram Bot API on both backends: the rate is respected
//! (send times recorded by the fake), also when every call takes 20 ms, 403 marks the user blocked, a 429 holds every send for
//! `retry_after`, pause / resume / cancel, photo + buttons, the CSV delivery report, and a
//! workspace without a bot.
use std::collections::HashMap;
use std::time::Duration;

use promostack::config::Secret;
use promostack_testkit::broadcast::{is_blocked, seed_bot_users, seed_db, set_username};
use promostack_testkit::telegram::{FakeTelegram, Fault};
use promostack_testkit::{
    Backend, TestApp, backend_tests, csv_attachment, expect_error, json, spawn_app_with,
};
use serde_json::{Value, json};

backend_tests!(
    rate_blocked_users_and_429,
    rate_holds_when_telegram_answers_slowly,
    pause_resume_cancel_and_report,
    photo_buttons_and_markup_reach_telegram,
    workspace_without_a_bot_fails_clearly,
    revoked_token_pauses_until_the_bot_is_connected_again
);

pub const TOKEN: &str = "123456:BROADCAST-TEST";

async fn app_with_bot(backend: Backend, fake: &FakeTelegram) -> (TestApp, String) {
    let url = fake.url.clone();
    let app = spawn_app_with(backend, move |c| {
        c.integrations.telegram_bot_token = Some(Secret::new(TOKEN));
        c.integrations.telegram_api_url = url;
        // The fake has no limits: the broadcast's own pacing is what is measured.
        c.integrations.telegram_unpaced = true;
        c.broadcast.max_rate_per_sec = 1_000.0;
    })
    .await;
    app.login_admin().await;
    let tenant = app.tenant_id().await;
    (app, tenant)
}

fn sends(fake: &FakeTelegram) -> Vec<promostack_testkit::telegram::Call> {
    let mut calls = fake.calls_of("sendMessage");
    calls.extend(fake.calls_of("sendPhoto"));
    calls.sort_by_key(|c| c.at);
    calls
}

async fn finished(app: &TestApp, id: &str, limit: Duration) -> Value {
    app.wait_broadcast(id, limit, |s| {
        matches!(
            s["status"].as_str(),
            Some("completed" | "cancelled" | "failed")
        )
    })
    .await
}

async fn rate_blocked_users_and_429(backend: Backend) {
    let fake = FakeTelegram::start().await;
    let (app, tenant) = app_with_bot(backend, &fake).await;
    let db = seed_db(&app.config.database);
    let users: Vec<i64> = (1001..=1080).collect();
    seed_bot_users(&db, &tenant, &users, false).await;
    let blocked = [1010, 1020, 1030, 1040];
    for id in blocked {
        fake.block_chat(id);
    }
    fake.fail_next("sendMessage", Fault::RetryAfter(1), 1);
    let rate = 40.0;
    let created = json(
        app.broadcast(json!({"message": "New templates are in!", "rate": rate}))
            .await,
        201,
    )
    .await;
    let id = created["id"].as_str().unwrap();
    let status = finished(&app, id, Duration::from_secs(60)).await;
    assert_eq!(status["status"], "completed", "{status}");
    assert_eq!(status["recipients"], 80);
    assert_eq!(status["sent"], 76);
    assert_eq!(status["blocked"], 4);
    assert_eq!(
        (
            status["failed"].as_i64(),
            status["pending"].as_i64(),
            status["uncertain"].as_i64()
        ),
        (Some(0), Some(0), Some(0))
    );
    assert_eq!(status["progress"], 100.0);

    // Everyone got it exactly once; blocked users were tried once and left alone.
    let calls = sends(&fake);
    let mut delivered: HashMap<i64, usize> = HashMap::new();
    for call in calls.iter().filter(|c| c.ok()) {
        *delivered.entry(call.chat_id().unwrap()).or_default() += 1;
        assert_eq!(call.text(), Some("New templates are in!"));
    }
    for user in &users {
        let expected = usize::from(!blocked.contains(user));
        assert_eq!(
            delivered.get(user).copied().unwrap_or(0),
            expected,
            "user {user}: {:?}",
            fake.sent_to(*user)
                .iter()
                .map(|c| (c.status, c.params.clone()))
                .collect::<Vec<_>>()
        );
    }
    for id in blocked {
        assert!(is_blocked(&db, &tenant, id).await, "403 marks {id} blocked");
        assert_eq!(
            calls.iter().filter(|c| c.chat_id() == Some(id)).count(),
            1,
            "one try for {id}"
        );
    }
    assert_eq!(
        json(app.broadcast_audience().await, 200).await["recipients"],
        76
    );

    // Rate: any 21 consecutive requests span at least 20 intervals (minus timer slack).
    let interval = Duration::from_secs_f64(1.0 / rate);
    for window in calls.windows(21) {
        let span = window[20].at - window[0].at;
        assert!(
            span >= interval * 20 * 9 / 10,
            "21 sends in {span:?} at {rate}/s"
        );
    }
    // 429: nothing was sent for retry_after (1 s) after it; then the same user got it.
    let limited = calls
        .iter()
        .position(|c| c.status == 429)
        .expect("the 429 was served");
    let after = &calls[limited + 1];
    assert!(
        after.at - calls[limited].at >= Duration::from_millis(950),
        "next send {:?} after the 429",
        after.at - calls[limited].at
    );
    assert_eq!(calls.len(), 81, "80 recipients + the one 429");
}

/// 20 ms per call at 100 msg/s: requests overlap, and neither the Bot API's latency nor the
/// ledger's commits may stretch the schedule (a send-then-record loop would take 2× as long).
async fn rate_holds_when_telegram_answers_slowly(backend: Backend) {
    let fake = FakeTelegram::start().await;
    fake.set_latency(Duration::from_millis(20));
    let (app, tenant) = app_with_bot(backend, &fake).await;
    let db = seed_db(&app.config.database);
    let users: Vec<i64> = (2001..=2300).collect();
    seed_bot_users(&db, &tenant, &users, false).await;
    let rate = 100.0;
    let created = json(
        app.broadcast(json!({"message": "Slow API", "rate": rate}))
            .await,
        201,
    )
    .await;
    let id = created["id"].as_str().unwrap();
    let status = finished(&app, id, Duration::from_secs(60)).await;
    assert_eq!(status["sent"], 300, "{status}");
    assert_eq!(status["uncertain"], 0, "{status}");

    // Arrival times at the fake: first to last close to (n - 1) / rate. A loop that waited for
    // each answer and its commits would take over twice as long (≥ 22 ms a send); the 5 % target
    // is the benchmark's (10,000 sends), this 3-second run on a shared 2-core CI machine gets
    // slack for stalls…
    let calls = sends(&fake);
    assert_eq!(calls.len(), 300);
    let mut delivered: HashMap<i64, usize> = HashMap::new();
    for call in &calls {
        *delivered.entry(call.chat_id().unwrap()).or_default() += 1;
    }
    assert!(delivered.values().all(|&n| n == 1), "a duplicate");
    let ideal = Duration::from_secs_f64(299.0 / rate);
    let span = calls[299].at - calls[0].at;
    assert!(
        span >= ideal * 95 / 100 && span <= ideal * 160 / 100,
        "300 sends at {rate}/s with 20 ms per call took {span:?} (ideal {ideal:?})"
    );
    // …and never faster than the rate: any second of sends spans nearly a second (catching up
    // after a late timer may bunch a few).
    for window in calls.windows(101) {
        let span = window[100].at - window[0].at;
        assert!(
            span >= Duration::from_millis(900),
            "101 sends in {span:?} at {rate}/s"
        );
    }
}

async fn pause_resume_cancel_and_report(backend: Backend) {
    let fake = FakeTelegram::start().await;
    let (app, tenant) = app_with_bot(backend, &fake).await;
    let db = seed_db(&app.config.database);
    let users: Vec<i64> = (1..=60).collect();
    seed_bot_users(&db, &tenant, &users, false).await;
    set_username(&db, &tenant, 7, "=cmd|' /C calc'!A0").await;
    let created = json(
        app.broadcast(json!({"message": "Hello", "rate": 20})).await,
        201,
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();

    app.wait_broadcast(&id, Duration::from_secs(30), |s| {
        s["sent"].as_i64() >= Some(5)
    })
    .await;
    let paused = json(app.broadcast_action(&id, "pause").await, 200).await;
    assert_eq!(paused["status"], "paused");
    // The sender drains what is in flight and stops.
    // A send already past its last status check may still go out.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let settled = app
        .wait_broadcast(&id, Duration::from_secs(10), |s| s["sending"] == 0)
        .await;
    let calls_at_pause = sends(&fake).len();
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        sends(&fake).len(),
        calls_at_pause,
        "nothing is sent while paused"
    );
    let still = json(app.broadcast_status(&id).await, 200).await;
    assert_eq!(still["sent"], settled["sent"]);
    assert!(still["eta_seconds"].is_null(), "no ETA while paused");
    expect_error(app.broadcast_action(&id, "pause").await, 409, "conflict").await;

    let resumed = json(app.broadcast_action(&id, "resume").await, 200).await;
    assert_eq!(resumed["status"], "queued");
    app.wait_broadcast(&id, Duration::from_secs(30), |s| {
        s["sent"].as_i64() >= Some(still["sent"].as_i64().unwrap() + 5)
    })
    .await;
    let cancelled = json(app.broadcast_action(&id, "cancel").await, 200).await;
    assert_eq!(cancelled["status"], "cancelled");
    let done = app
        .wait_broadcast(&id, Duration::from_secs(10), |s| {
            s["pending"] == 0 && s["sending"] == 0
        })
        .await;
    let sent = done["sent"].as_i64().unwrap();
    assert!(
        sent < 60 && done["cancelled"].as_i64().unwrap() > 0,
        "{done}"
    );
    assert_eq!(sent + done["cancelled"].as_i64().unwrap(), 60);
    let calls = sends(&fake).len();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sends(&fake).len(), calls, "nothing after cancel");
    assert_eq!(calls as i64, sent);
    expect_error(app.broadcast_action(&id, "resume").await, 409, "conflict").await;
    expect_error(app.broadcast_action(&id, "cancel").await, 409, "conflict").await;

    let history = json(app.broadcast_jobs().await, 200).await;
    assert_eq!(history["jobs"][0]["id"], id.as_str());
    assert_eq!(history["jobs"][0]["status"], "cancelled");

    let csv = csv_attachment(
        app.broadcast_report(&id).await,
        &format!("broadcast-{id}.csv"),
    )
    .await;
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines[0], "user_id,username,status,error,time");
    assert_eq!(lines.len(), 61);
    assert!(lines[1].starts_with("1,user1,sent,,20"), "{}", lines[1]);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("7,'=cmd|' /C calc'!A0,sent")),
        "formula defused: {csv}"
    );
    assert_eq!(
        lines.iter().filter(|l| l.contains(",cancelled,")).count() as i64,
        done["cancelled"].as_i64().unwrap()
    );
}

async fn photo_buttons_and_markup_reach_telegram(backend: Backend) {
    let fake = FakeTelegram::start().await;
    let (app, tenant) = app_with_bot(backend, &fake).await;
    let db = seed_db(&app.config.database);
    seed_bot_users(&db, &tenant, &[5, 6], false).await;
    let body = json!({
        "message": "<b>Black Friday</b> templates &amp; more",
        "parse_mode": "html",
        "photo": "https://cdn.example.com/black-friday.jpg",
        "buttons": [[{"text": "Open the bot", "url": "https://t.me/promostack_test_bot"}]],
        "rate": 100
    });
    let id = json(app.broadcast(body).await, 201).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let status = finished(&app, &id, Duration::from_secs(30)).await;
    assert_eq!(status["sent"], 2, "{status}");
    assert_eq!(status["parse_mode"], "HTML");
    assert_eq!(status["buttons"][0][0]["text"], "Open the bot");
    let photos = fake.calls_of("sendPhoto");
    assert_eq!(photos.len(), 2);
    let p = &photos[0].params;
    assert_eq!(p["caption"], "<b>Black Friday</b> templates &amp; more");
    assert_eq!(p["parse_mode"], "HTML");
    assert_eq!(p["photo"], "https://cdn.example.com/black-friday.jpg");
    assert_eq!(
        p["reply_markup"]["inline_keyboard"][0][0]["url"],
        "https://t.me/promostack_test_bot"
    );
    assert!(fake.calls_of("sendMessage").is_empty());
}

async fn workspace_without_a_bot_fails_clearly(backend: Backend) {
    let fake = FakeTelegram::start().await;
    let (app, _) = app_with_bot(backend, &fake).await;
    let b_id = app.create_tenant("No bot", "no-bot").await;
    let db = seed_db(&app.config.database);
    seed_bot_users(&db, &b_id, &[42], false).await;
    app.use_tenant(Some(&b_id));
    let id = json(app.broadcast(json!({"message": "hi"})).await, 201).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let status = finished(&app, &id, Duration::from_secs(30)).await;
    assert_eq!(status["status"], "failed");
    assert!(
        status["error"]
            .as_str()
            .unwrap()
            .contains("no Coupon Bot is connected"),
        "{status}"
    );
    assert_eq!(status["pending"], 1, "nobody was marked as sent");
    assert!(
        fake.sent_to(42).is_empty(),
        "the default tenant's bot is never used for B"
    );
}

/// Telegram answers 401 mid-broadcast (the token was revoked in @BotFather): the broadcast
/// pauses with what to do, the rows not sent stay pending (none failed, none lost), the
/// connection shows "token rejected", and after the bot is connected again with its new token
/// a resume sends the rest exactly once.
async fn revoked_token_pauses_until_the_bot_is_connected_again(backend: Backend) {
    const OLD: &str = "7300003:AAH-revoked-coupon-token";
    const NEW: &str = "7300003:AAH-the-replacement-token";
    let fake = FakeTelegram::start().await;
    fake.add_bot(OLD, "b_coupon_bot");
    let (app, _) = app_with_bot(backend, &fake).await;
    let b_id = app.create_tenant("Revoked", "revoked").await;
    app.use_tenant(Some(&b_id));
    let connected = app
        .request(reqwest::Method::PUT, "/api/connections/coupon-bot")
        .json(&json!({"token": OLD}))
        .send()
        .await
        .unwrap();
    assert_eq!(connected.status(), 200);
    let db = seed_db(&app.config.database);
    let users: Vec<i64> = (9_001..=9_040).collect();
    seed_bot_users(&db, &b_id, &users, false).await;
    let id = json(
        app.broadcast(json!({"message": "Flash sale", "rate": 20}))
            .await,
        201,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.wait_broadcast(&id, Duration::from_secs(30), |s| {
        s["sent"].as_i64() >= Some(5)
    })
    .await;
    fake.revoke_token(OLD);
    let paused = app
        .wait_broadcast(&id, Duration::from_secs(30), |s| {
            s["status"] == "paused" && s["sending"] == 0
        })
        .await;
    assert!(
        paused["error"].as_str().unwrap().contains("401"),
        "{paused}"
    );
    let sent = paused["sent"].as_i64().unwrap();
    assert_eq!(sent + paused["pending"].as_i64().unwrap(), 40, "{paused}");
    assert_eq!(
        (paused["failed"].as_i64(), paused["uncertain"].as_i64()),
        (Some(0), Some(0)),
        "{paused}"
    );
    let list = json(
        app.request(reqwest::Method::GET, "/api/connections")
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(list["connections"][0]["status"], "token_rejected", "{list}");

    // A new token for the same bot; resume sends the rest, each once.
    fake.add_bot(NEW, "b_coupon_bot");
    let reconnected = app
        .request(reqwest::Method::PUT, "/api/connections/coupon-bot")
        .json(&json!({"token": NEW}))
        .send()
        .await
        .unwrap();
    assert_eq!(reconnected.status(), 200);
    json(app.broadcast_action(&id, "resume").await, 200).await;
    let done = finished(&app, &id, Duration::from_secs(30)).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["sent"], 40, "{done}");
    for user in users {
        assert_eq!(
            fake.sent_to(user).len(),
            1,
            "user {user} got it exactly once"
        );
    }
}

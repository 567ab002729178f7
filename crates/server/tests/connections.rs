//! Connections against the fake Bot API on both backends: the live checks on save and their
//! actionable errors (nothing half-saved), one workspace per bot (409), tenant isolation of every
//! route, the resolver failing fast after a 401, rotation and disconnect — and tokens absent from
//! every response and every captured log line.
use std::sync::{Mutex, OnceLock};

use promostack_testkit::telegram::updates;
use promostack_testkit::telegram::{ChatKind, FakeTelegram, Member};
use promostack_testkit::{
    Backend, TestApp, backend_tests, expect_error, json, spawn_app_with, spawn_app_with_clock,
};
use reqwest::Method;
use serde_json::{Value, json};

const SIGNAL: &str = "7200002:AAH-signal_bot-token-0123456789";
const COUPON: &str = "7100001:AAH-coupon_bot-token-9876543210";
const UNKNOWN: &str = "7999999:AAH-never-issued-token-000000";
const SECRETS: [&str; 3] = [
    "AAH-signal_bot-token-0123456789",
    "AAH-coupon_bot-token-9876543210",
    "AAH-never-issued-token-000000",
];
const VIP: i64 = -1_001_000_000_001;
const FREE: i64 = -1_001_000_000_002;

/// Every log line of this test process (both backends' apps), for the token grep.
static LOGS: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct Capture;

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOGS.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture_logs() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let _ = tracing_subscriber::fmt()
            .with_writer(|| Capture)
            .with_ansi(false)
            .with_max_level(tracing::Level::DEBUG)
            .try_init();
    });
}

fn logs() -> String {
    String::from_utf8_lossy(&LOGS.lock().unwrap()).into_owned()
}

/// Call the API and check that no token shows in the answer, whatever it is.
async fn call(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut request = app.request(method, path);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    for secret in SECRETS {
        assert!(!text.contains(secret), "a token leaked into {path}: {text}");
    }
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn put(app: &TestApp, role: &str, body: Value) -> (u16, Value) {
    call(
        app,
        Method::PUT,
        &format!("/api/connections/{role}"),
        Some(body),
    )
    .await
}

fn field_error(answer: &(u16, Value), field: &str, contains: &str) {
    assert_eq!(answer.0, 422, "{}", answer.1);
    assert_eq!(answer.1["code"], "validation_failed", "{}", answer.1);
    assert_eq!(answer.1["field"], field, "{}", answer.1);
    let message = answer.1["error"].as_str().unwrap();
    assert!(
        message.contains(contains),
        "{message:?} should mention {contains:?}"
    );
}

async fn app_with(backend: Backend, fake: &FakeTelegram) -> TestApp {
    let url = fake.url.clone();
    let app = spawn_app_with(backend, move |config| {
        config.integrations.telegram_api_url = url;
        config.integrations.telegram_unpaced = true;
    })
    .await;
    app.login_admin().await;
    app
}

async fn connect_check_isolate_reject_and_disconnect(backend: Backend) {
    capture_logs();
    let fake = FakeTelegram::start().await;
    fake.add_bot(SIGNAL, "gold_signals_bot");
    fake.add_bot(COUPON, "coupon_bot");
    fake.add_chat(VIP, ChatKind::Channel, "Gold VIP", Some("gold_vip"));
    fake.add_chat(FREE, ChatKind::Channel, "Gold FREE", None);
    fake.set_bot_member(SIGNAL, VIP, Member::admin().restrict(false));
    let app = app_with(backend, &fake).await;

    // Bad input: each a 422 naming the field and what to do; nothing is stored.
    field_error(
        &put(&app, "signal-bot", json!({"token": "nonsense"})).await,
        "token",
        "@BotFather",
    );
    field_error(
        &put(
            &app,
            "signal-bot",
            json!({"token": UNKNOWN, "vipChannel": "@gold_vip"}),
        )
        .await,
        "token",
        "rejected",
    );
    field_error(
        &put(
            &app,
            "signal-bot",
            json!({"token": SIGNAL, "vipChannel": "gold vip"}),
        )
        .await,
        "vipChannel",
        "-100",
    );
    field_error(
        &put(
            &app,
            "signal-bot",
            json!({"token": SIGNAL, "vipChannel": "-1009999999999"}),
        )
        .await,
        "vipChannel",
        "add @gold_signals_bot to the channel as an administrator",
    );
    field_error(
        &put(
            &app,
            "signal-bot",
            json!({"token": SIGNAL, "vipChannel": "@gold_vip"}),
        )
        .await,
        "vipChannel",
        "ban users",
    );
    field_error(
        &put(&app, "signal-bot", json!({"token": SIGNAL})).await,
        "vipChannel",
        "VIP channel",
    );
    let (status, list) = call(&app, Method::GET, "/api/connections", None).await;
    assert_eq!(
        (status, list["connections"].clone()),
        (200, json!([])),
        "nothing half-saved"
    );
    assert_eq!(list["environment"], json!([]), "no FOREX_BOT_TOKEN here");

    // With the rights given, the save goes through and shows what was checked.
    fake.set_bot_member(SIGNAL, VIP, Member::admin());
    fake.set_bot_member(SIGNAL, FREE, Member::admin().invite(false).restrict(false));
    let (status, saved) = put(
        &app,
        "signal-bot",
        json!({"token": SIGNAL, "vipChannel": "@gold_vip", "freeChannel": FREE.to_string()}),
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["role"], "signal_bot");
    assert_eq!(saved["botUsername"], "gold_signals_bot");
    assert_eq!(saved["botId"], 7_200_002);
    assert_eq!(saved["vipChannel"], json!({"id": VIP, "title": "Gold VIP"}));
    assert_eq!(
        saved["freeChannel"],
        json!({"id": FREE, "title": "Gold FREE"})
    );
    assert_eq!(saved["status"], "ok");
    let checks: Vec<&str> = saved["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == true)
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    assert_eq!(
        checks,
        [
            "token",
            "vip_channel.can_post_messages",
            "vip_channel.can_invite_users",
            "vip_channel.can_restrict_members",
            "free_channel.can_post_messages"
        ]
    );

    // The resolver's client sends the test message to the VIP channel.
    let (status, sent) = call(
        &app,
        Method::POST,
        "/api/connections/signal-bot/test",
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 200, "{sent}");
    assert_eq!(fake.sent_to(VIP).len(), 1);

    // Another workspace sees none of it, cannot take the bot, cannot touch the connection.
    let b = json(app.admin_create_tenant("B", "tenant-b", None).await, 201).await;
    app.use_tenant(b["id"].as_str());
    let (_, list) = call(&app, Method::GET, "/api/connections", None).await;
    assert_eq!(list["connections"], json!([]));
    let (status, taken) = put(
        &app,
        "signal-bot",
        json!({"token": SIGNAL, "vipChannel": "@gold_vip"}),
    )
    .await;
    assert_eq!(
        (status, taken["code"].as_str()),
        (409, Some("conflict")),
        "{taken}"
    );
    assert!(
        taken["error"]
            .as_str()
            .unwrap()
            .contains("another workspace")
    );
    let (status, _) = call(&app, Method::DELETE, "/api/connections/signal-bot", None).await;
    assert_eq!(status, 404);
    let (status, _) = call(
        &app,
        Method::POST,
        "/api/connections/signal-bot/rotate-secret",
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (status, missing) = call(
        &app,
        Method::POST,
        "/api/connections/signal-bot/test",
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 409);
    assert!(
        missing["error"]
            .as_str()
            .unwrap()
            .contains("connect a Signal Bot under Settings → Connections"),
        "{missing}"
    );
    let (status, coupon) = put(&app, "coupon-bot", json!({"token": COUPON})).await;
    assert_eq!(status, 200, "{coupon}");
    field_error(
        &put(&app, "coupon-bot", json!({"vipChannel": "@gold_vip"})).await,
        "vipChannel",
        "no channels",
    );
    let (_, list) = call(&app, Method::GET, "/api/connections", None).await;
    assert_eq!(list["connections"].as_array().unwrap().len(), 1);
    assert_eq!(list["connections"][0]["role"], "coupon_bot");
    app.use_tenant(None);
    let (_, list) = call(&app, Method::GET, "/api/connections", None).await;
    assert_eq!(list["connections"].as_array().unwrap().len(), 1);
    assert_eq!(list["connections"][0]["role"], "signal_bot");
    let (status, _) = call(&app, Method::GET, "/api/connections/unknown-role", None).await;
    assert_eq!(status, 405, "GET on a role path is not a route");
    let (status, _) = call(&app, Method::DELETE, "/api/connections/message-bot", None).await;
    assert_eq!(status, 404);

    // Revoked in @BotFather: the first send learns it (401, not retried) and marks the
    // connection; later ones fail fast without calling Telegram.
    fake.revoke_token(SIGNAL);
    let (status, rejected) = call(
        &app,
        Method::POST,
        "/api/connections/signal-bot/test",
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 409, "{rejected}");
    assert!(rejected["error"].as_str().unwrap().contains("rejected"));
    // (Counted for this bot only: the leader sets up workspace B's Coupon Bot meanwhile.)
    let signal_calls = || fake.calls().iter().filter(|c| c.token == SIGNAL).count();
    let calls = signal_calls();
    let (status, _) = call(
        &app,
        Method::POST,
        "/api/connections/signal-bot/test",
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(signal_calls(), calls, "fail fast: no call to Telegram");
    let (_, list) = call(&app, Method::GET, "/api/connections", None).await;
    assert_eq!(list["connections"][0]["status"], "token_rejected");

    let (status, rotated) = call(
        &app,
        Method::POST,
        "/api/connections/signal-bot/rotate-secret",
        None,
    )
    .await;
    assert_eq!(status, 200, "{rotated}");
    let (status, _) = call(&app, Method::DELETE, "/api/connections/signal-bot", None).await;
    assert_eq!(status, 204);
    let (_, list) = call(&app, Method::GET, "/api/connections", None).await;
    assert_eq!(list["connections"], json!([]));
    // The coupon bot stays B's: this workspace cannot take it either.
    expect_error(
        app.request(Method::PUT, "/api/connections/coupon-bot")
            .json(&json!({"token": COUPON}))
            .send()
            .await
            .unwrap(),
        409,
        "conflict",
    )
    .await;

    app.stop().await;
    let logs = logs();
    assert!(logs.contains("connection saved"), "logs are captured");
    for secret in SECRETS {
        assert!(!logs.contains(secret), "a token was logged");
    }
}

/// With `PUBLIC_URL` the bot's webhook is registered on save with its role's updates and its own
/// secret; rotating registers the new secret; `my_chat_member` updates delivered to it mark the
/// connection degraded and healthy again.
async fn webhook_per_bot_and_degrade_on_my_chat_member(backend: Backend) {
    capture_logs();
    let fake = FakeTelegram::start().await;
    fake.add_bot(SIGNAL, "gold_signals_bot");
    fake.add_chat(VIP, ChatKind::Channel, "Gold VIP", None);
    fake.set_bot_member(SIGNAL, VIP, Member::admin());
    let url = fake.url.clone();
    let clock = promostack::time::Clock::fixed(1_800_000_000_000);
    let app = spawn_app_with_clock(backend, clock.clone(), move |config| {
        config.integrations.telegram_api_url = url;
        config.integrations.telegram_unpaced = true;
        config.public_url = Some("https://promo.example".into());
    })
    .await;
    app.login_admin().await;
    let (status, saved) = put(
        &app,
        "signal-bot",
        json!({"token": SIGNAL, "vipChannel": VIP.to_string()}),
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    let hook = fake.webhook_of(SIGNAL).expect("registered on save");
    let hook_url = hook["url"].as_str().unwrap().to_owned();
    assert!(
        hook_url.starts_with("https://promo.example/api/telegram-webhook/"),
        "{hook_url}"
    );
    assert_eq!(
        hook["allowed_updates"],
        json!([
            "message",
            "callback_query",
            "my_chat_member",
            "chat_member",
            "chat_join_request"
        ])
    );
    let first_secret = hook["secret_token"].as_str().unwrap().to_owned();
    assert!(first_secret.len() >= 32);
    assert!(
        !saved.to_string().contains(&first_secret),
        "the secret is never shown"
    );

    let (status, _) = call(
        &app,
        Method::POST,
        "/api/connections/signal-bot/rotate-secret",
        None,
    )
    .await;
    assert_eq!(status, 200);
    let hook = fake.webhook_of(SIGNAL).unwrap();
    assert_eq!(hook["url"], hook_url.as_str(), "same URL, new secret");
    assert_ne!(hook["secret_token"], first_secret.as_str());
    // Updates Telegram signed with the old secret before it switched still open the webhook
    // for the grace period; after it, only the new secret does.
    let path = hook_url.strip_prefix("https://promo.example").unwrap();
    let post_with = |path: String, secret: String| {
        let url = app.url(&path);
        async move {
            reqwest::Client::new()
                .post(url)
                .header("x-telegram-bot-api-secret-token", secret)
                .header("content-type", "application/json")
                .body(json!({"update_id": 1}).to_string())
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(
        post_with(path.into(), first_secret.clone()).await,
        200,
        "in the grace period"
    );
    clock.advance(10 * 60_000 + 1);
    assert_eq!(
        post_with(path.into(), first_secret.clone()).await,
        401,
        "after the grace period"
    );
    let new_secret = hook["secret_token"].as_str().unwrap().to_owned();
    assert_eq!(post_with(path.into(), new_secret.clone()).await, 200);
    // The original's path serves the default workspace's Signal Bot with the same secret.
    let forex = "/api/forex-telegram-webhook".to_owned();
    assert_eq!(post_with(forex.clone(), new_secret.clone()).await, 200);
    assert_eq!(post_with(forex.clone(), first_secret.clone()).await, 401);

    // An admin takes away "ban users": degraded, with what to fix.
    let update = fake.change_bot_member(SIGNAL, VIP, Member::admin().restrict(false));
    assert_eq!(
        fake.deliver(SIGNAL, &app.address, &update).await.status(),
        200
    );
    let (_, list) = call(&app, Method::GET, "/api/connections", None).await;
    let connection = &list["connections"][0];
    assert_eq!(connection["status"], "degraded", "{connection}");
    assert!(
        connection["statusReason"]
            .as_str()
            .unwrap()
            .contains("ban users")
    );
    // Given back: healthy again.
    let update = fake.change_bot_member(SIGNAL, VIP, Member::admin());
    assert_eq!(
        fake.deliver(SIGNAL, &app.address, &update).await.status(),
        200
    );
    let (_, list) = call(&app, Method::GET, "/api/connections", None).await;
    assert_eq!(list["connections"][0]["status"], "ok");
    // The same update through the original's path: degraded again, then healed there.
    let update = fake.change_bot_member(SIGNAL, VIP, Member::admin().post(false));
    let answer = reqwest::Client::new()
        .post(app.url("/api/forex-telegram-webhook"))
        .header("x-telegram-bot-api-secret-token", &new_secret)
        .json(&update)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let (_, list) = call(&app, Method::GET, "/api/connections", None).await;
    assert_eq!(list["connections"][0]["status"], "degraded");
    assert!(
        list["connections"][0]["statusReason"]
            .as_str()
            .unwrap()
            .contains("post messages"),
        "{}",
        list["connections"][0]
    );
    let update = fake.change_bot_member(SIGNAL, VIP, Member::admin());
    assert_eq!(
        fake.deliver(SIGNAL, &app.address, &update).await.status(),
        200
    );
    // Removed from the channel.
    let update = fake.change_bot_member(
        SIGNAL,
        VIP,
        Member::with_status(promostack_testkit::telegram::MemberStatus::Kicked),
    );
    assert_eq!(
        fake.deliver(SIGNAL, &app.address, &update).await.status(),
        200
    );
    let (_, list) = call(&app, Method::GET, "/api/connections", None).await;
    assert_eq!(list["connections"][0]["status"], "degraded");
    assert!(
        list["connections"][0]["statusReason"]
            .as_str()
            .unwrap()
            .contains("removed")
    );
    app.stop().await;
    for secret in SECRETS {
        assert!(!logs().contains(secret), "a token was logged");
    }
}

/// `FOREX_BOT_TOKEN`, `FOREX_CHANNEL_ID`, `FOREX_FREE_CHANNEL_ID` seed the default workspace's
/// Signal Bot at start, through the same checks.
async fn environment_seeds_the_default_signal_bot(backend: Backend) {
    capture_logs();
    let fake = FakeTelegram::start().await;
    fake.add_bot(SIGNAL, "gold_signals_bot");
    fake.add_chat(VIP, ChatKind::Channel, "Gold VIP", Some("gold_vip"));
    fake.add_chat(FREE, ChatKind::Channel, "Gold FREE", None);
    fake.set_bot_member(SIGNAL, VIP, Member::admin());
    fake.set_bot_member(SIGNAL, FREE, Member::admin());
    let url = fake.url.clone();
    let app = spawn_app_with(backend, move |config| {
        let i = &mut config.integrations;
        i.telegram_api_url = url;
        i.telegram_unpaced = true;
        i.forex_bot_token = Some(promostack::config::Secret::new(SIGNAL));
        i.forex_channel_id = Some("@gold_vip".into());
        i.forex_free_channel_id = Some(FREE.to_string());
    })
    .await;
    app.login_admin().await;
    let mut seeded = Value::Null;
    for _ in 0..100 {
        let (_, list) = call(&app, Method::GET, "/api/connections", None).await;
        if let Some(first) = list["connections"].get(0) {
            seeded = first.clone();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(seeded["role"], "signal_bot", "seeded: {seeded}");
    assert_eq!(seeded["vipChannel"]["id"], VIP);
    assert_eq!(seeded["freeChannel"]["title"], "Gold FREE");
    // The page says the environment wins, in the default workspace only.
    let (_, list) = call(&app, Method::GET, "/api/connections", None).await;
    assert_eq!(
        list["environment"],
        json!([{"role": "signal_bot",
            "variables": ["FOREX_BOT_TOKEN", "FOREX_CHANNEL_ID", "FOREX_FREE_CHANNEL_ID"]}])
    );
    let b = json(app.admin_create_tenant("B", "tenant-b", None).await, 201).await;
    app.use_tenant(b["id"].as_str());
    let (_, list) = call(&app, Method::GET, "/api/connections", None).await;
    assert_eq!(list["environment"], json!([]));
    assert_eq!(list["connections"], json!([]));
    app.use_tenant(None);
    app.stop().await;
    for secret in SECRETS {
        assert!(!logs().contains(secret), "a token was logged");
    }
}

/// A webhook lost while the bot is connected (deleted by hand, set by another deployment) is
/// registered again by the leader; with `TELEGRAM_MODE=polling` the leader removes the webhook
/// and long-polls the Signal Bot, whose `my_chat_member` updates degrade the connection as they
/// do through the webhook.
async fn leader_sets_up_and_polls_signal_bots(backend: Backend) {
    let fake = FakeTelegram::start().await;
    fake.add_bot(SIGNAL, "gold_signals_bot");
    fake.add_chat(VIP, ChatKind::Channel, "Gold VIP", None);
    fake.set_bot_member(SIGNAL, VIP, Member::admin());
    let url = fake.url.clone();
    let app = spawn_app_with(backend, move |config| {
        config.integrations.telegram_api_url = url;
        config.integrations.telegram_unpaced = true;
        config.public_url = Some("https://promo.example".into());
    })
    .await;
    app.login_admin().await;
    let (status, saved) = put(
        &app,
        "signal-bot",
        json!({"token": SIGNAL, "vipChannel": VIP.to_string()}),
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    let registered = fake.webhook_of(SIGNAL).expect("registered on save");
    let deleted = reqwest::Client::new()
        .post(format!("{}/bot{SIGNAL}/deleteWebhook", fake.url))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);
    assert!(fake.webhook_of(SIGNAL).is_none());
    let mut again = None;
    for _ in 0..150 {
        again = fake.webhook_of(SIGNAL);
        if again.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let again = again.expect("the leader registers the webhook again");
    assert_eq!(again["url"], registered["url"]);
    assert_eq!(again["secret_token"], registered["secret_token"]);
    app.stop().await;

    // Polling: the webhook set above is removed, updates are fetched with getUpdates.
    let url = fake.url.clone();
    let app = spawn_app_with(backend, move |config| {
        config.integrations.telegram_api_url = url;
        config.integrations.telegram_unpaced = true;
        config.integrations.telegram_mode = Some(promostack::config::TelegramMode::Polling);
    })
    .await;
    app.login_admin().await;
    let (status, saved) = put(
        &app,
        "signal-bot",
        json!({"token": SIGNAL, "vipChannel": VIP.to_string()}),
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    fake.change_bot_member(SIGNAL, VIP, Member::admin().invite(false));
    let mut connection = Value::Null;
    for _ in 0..200 {
        let (_, list) = call(&app, Method::GET, "/api/connections", None).await;
        connection = list["connections"][0].clone();
        if connection["status"] == "degraded" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(connection["status"], "degraded", "{connection}");
    assert!(
        connection["statusReason"]
            .as_str()
            .unwrap()
            .contains("invite users")
    );
    assert!(
        fake.webhook_of(SIGNAL).is_none(),
        "polling removes the webhook"
    );
    assert!(!fake.calls_of("getUpdates").is_empty());
    app.stop().await;
}

/// A Coupon Bot connected on the page in any workspace is the coupon bot: Telegram's updates to
/// its webhook are answered by the bot, broadcasts go out through it, and disconnecting stops it.
async fn coupon_bot_connected_on_the_page_runs(backend: Backend) {
    let fake = FakeTelegram::start().await;
    fake.add_bot(COUPON, "coupon_bot");
    let url = fake.url.clone();
    let app = spawn_app_with(backend, move |config| {
        config.integrations.telegram_api_url = url;
        config.integrations.telegram_unpaced = true;
        config.public_url = Some("https://promo.example".into());
    })
    .await;
    app.login_admin().await;
    let b = json(app.admin_create_tenant("B", "tenant-b", None).await, 201).await;
    app.use_tenant(b["id"].as_str());
    let (status, saved) = put(&app, "coupon-bot", json!({"token": COUPON})).await;
    assert_eq!(status, 200, "{saved}");
    let hook = fake.webhook_of(COUPON).expect("registered on save");
    assert!(
        hook["url"]
            .as_str()
            .unwrap()
            .starts_with("https://promo.example/api/telegram-webhook/"),
        "{hook}"
    );
    let user = 5_550_001;
    let answer = fake
        .deliver(COUPON, &app.address, &updates::text(1, user, "/start"))
        .await;
    assert_eq!(answer.status(), 200);
    let replies = fake.wait_sent(user, 1).await;
    assert!(replies[0].text().is_some(), "the bot answered /start");

    // A broadcast of workspace B goes out through B's bot (the resolver).
    // (The user is recorded with the outcome of their update, just after the reply.)
    let mut created = 0;
    for _ in 0..50 {
        created = app
            .broadcast(json!({"message": "Hello from B"}))
            .await
            .status()
            .as_u16();
        if created == 201 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(created, 201);
    let sent = fake.wait_sent(user, 2).await;
    assert_eq!(sent[1].text(), Some("Hello from B"));

    let (status, _) = call(&app, Method::DELETE, "/api/connections/coupon-bot", None).await;
    assert_eq!(status, 204);
    let after = fake
        .deliver(COUPON, &app.address, &updates::text(2, user, "/start"))
        .await;
    assert_eq!(after.status(), 404, "a disconnected bot's webhook is gone");
    app.use_tenant(None);
    app.stop().await;
}

/// `TELEGRAM_BOT_TOKEN` seeds the default workspace's Coupon Bot connection (checked with getMe
/// in the background) and the page says the environment wins.
async fn environment_seeds_the_default_coupon_bot(backend: Backend) {
    let fake = FakeTelegram::start().await;
    fake.add_bot(COUPON, "coupon_bot");
    let url = fake.url.clone();
    let app = spawn_app_with(backend, move |config| {
        let i = &mut config.integrations;
        i.telegram_api_url = url;
        i.telegram_unpaced = true;
        i.telegram_bot_token = Some(promostack::config::Secret::new(COUPON));
        i.telegram_webhook_secret = Some(promostack::config::Secret::new(
            promostack_testkit::telegram::TEST_WEBHOOK_SECRET,
        ));
    })
    .await;
    app.login_admin().await;
    let mut seeded = Value::Null;
    for _ in 0..100 {
        let (_, list) = call(&app, Method::GET, "/api/connections", None).await;
        seeded = list["connections"][0].clone();
        if seeded["botUsername"] == "coupon_bot" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(seeded["role"], "coupon_bot", "{seeded}");
    assert_eq!(seeded["botUsername"], "coupon_bot", "checked with getMe");
    assert_eq!(seeded["botId"], fake.bot_id_of(COUPON));
    let (_, list) = call(&app, Method::GET, "/api/connections", None).await;
    assert_eq!(
        list["environment"],
        json!([{"role": "coupon_bot", "variables": ["TELEGRAM_BOT_TOKEN"]}])
    );
    // The same bot serves the original webhook path.
    let answer = app
        .telegram_update(updates::text(7, 4_440_001, "/start"))
        .await;
    assert_eq!(answer["ok"], true, "{answer}");
    fake.wait_sent(4_440_001, 1).await;
    app.stop().await;
}

backend_tests!(
    connect_check_isolate_reject_and_disconnect,
    webhook_per_bot_and_degrade_on_my_chat_member,
    environment_seeds_the_default_signal_bot,
    leader_sets_up_and_polls_signal_bots,
    coupon_bot_connected_on_the_page_runs,
    environment_seeds_the_default_coupon_bot
);

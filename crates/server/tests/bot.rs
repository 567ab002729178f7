//! The Telegram coupon bot end to end: updates through the webhook, the fake Bot API as
//! Telegram, the real templates and coupons services, on SQLite and PostgreSQL.
use std::time::Duration;

use promostack::config::TelegramMode;
use promostack::db::{Affected, Db};
use promostack::storage::StorageConfig;
use promostack_testkit::telegram::{
    self, FAKE_BOT_USERNAME, FakeTelegram, Fault, TEST_BOT_TOKEN, TEST_WEBHOOK_SECRET, updates,
};
use promostack_testkit::{
    Backend, TestApp, TestDatabase, backend_tests, expect_error, json, local_config,
    spawn_app_with, start_app, wait_for,
};
use serde_json::{Value, json};

async fn bot_app(backend: Backend, fake: &FakeTelegram) -> TestApp {
    spawn_app_with(backend, |config| {
        config.demo_data = true;
        telegram::configure(config, fake);
    })
    .await
}

fn db(app: &TestApp) -> Db {
    Db::connect(&app.config.database).expect("db")
}

type UsageRow = (
    Option<String>,
    Option<String>,
    Option<String>,
    bool,
    Option<String>,
    String,
);

async fn usage(db: &Db) -> Vec<UsageRow> {
    promostack::on_pool!(db, pool => sqlx::query_as::<_, UsageRow>(
        "SELECT template_slug, variant, code, success, reason, chat_type FROM bot_usage ORDER BY created_at, id"
    ).fetch_all(pool).await).unwrap()
}

/// Wait until `bot_usage` holds `n` rows (they are written right after the reply is sent).
async fn wait_usage(db: &Db, n: usize) -> Vec<UsageRow> {
    wait_for(&format!("{n} bot_usage rows"), WAIT, async || {
        let rows = usage(db).await;
        (rows.len() >= n).then_some(rows)
    })
    .await
}

/// How long a test waits for the bot's rows to reach a state.
const WAIT: Duration = Duration::from_secs(10);

async fn user_row(db: &Db, user_id: i64) -> Option<(bool, Option<String>, Option<String>)> {
    promostack::on_pool!(db, pool => sqlx::query_as::<_, (bool, Option<String>, Option<String>)>(
        "SELECT blocked, language_code, start_payload FROM bot_users WHERE user_id = $1"
    ).bind(user_id).fetch_optional(pool).await)
    .unwrap()
}

async fn wait_blocked(db: &Db, user_id: i64, blocked: bool) {
    wait_for(
        &format!("user {user_id} blocked={blocked}"),
        WAIT,
        async || {
            user_row(db, user_id)
                .await
                .is_some_and(|u| u.0 == blocked)
                .then_some(())
        },
    )
    .await
}

/// `(update_id, status, error, attempts)` of every stored update, by update_id.
type UpdateRow = (i64, String, Option<String>, i64);

async fn update_rows(db: &Db) -> Vec<UpdateRow> {
    promostack::on_pool!(db, pool => sqlx::query_as::<_, UpdateRow>(
        "SELECT update_id, status, error, attempts FROM bot_updates ORDER BY update_id"
    ).fetch_all(pool).await)
    .unwrap()
}

/// The `offset` of a `getUpdates` call: updates below it are confirmed to Telegram.
fn offset(call: &telegram::Call) -> Option<i64> {
    match &call.params["offset"] {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn buttons(call: &telegram::Call) -> Vec<String> {
    call.params["reply_markup"]["inline_keyboard"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row.as_array().cloned().unwrap_or_default())
        .filter_map(|b| b["callback_data"].as_str().map(str::to_owned))
        .collect()
}

fn last(calls: &[telegram::Call]) -> &telegram::Call {
    calls.last().expect("a call")
}

async fn conversation_start_generate_pick_code_variant_photo(backend: Backend) {
    let fake = FakeTelegram::start().await;
    let app = bot_app(backend, &fake).await;
    let db = db(&app);
    let user = 1001;

    app.telegram_update(updates::text(1, user, "/start ref42"))
        .await;
    let sent = fake.wait_sent(user, 1).await;
    assert!(
        last(&sent).text().unwrap().starts_with("Welcome, Ada!"),
        "{:?}",
        last(&sent).text()
    );
    assert!(
        last(&sent).text().unwrap().contains("/black-friday"),
        "help lists templates"
    );

    app.telegram_update(updates::text(2, user, "/generate"))
        .await;
    let sent = fake.wait_sent(user, 2).await;
    assert_eq!(
        buttons(last(&sent)),
        ["t:black-friday", "t:summer-sale", "t:vip-welcome"],
        "Telegram-enabled templates, sorted by name"
    );

    app.telegram_update(updates::callback(3, user, "t:black-friday"))
        .await;
    let sent = fake.wait_sent(user, 3).await;
    assert_eq!(
        last(&sent).text(),
        Some("Black Friday it is. Now send me the coupon code.")
    );
    assert_eq!(
        fake.calls_of("answerCallbackQuery")[0].params["callback_query_id"],
        "cb3"
    );

    app.telegram_update(updates::text(4, user, "SAVE10")).await;
    let sent = fake.wait_sent(user, 4).await;
    assert_eq!(buttons(last(&sent)), ["v:portrait", "v:square"]);

    app.telegram_update(updates::callback(5, user, "v:portrait"))
        .await;
    let sent = fake.wait_sent(user, 5).await;
    let photo = last(&sent);
    assert_eq!(photo.method, "sendPhoto");
    assert_eq!(photo.params["caption"], "Black Friday · SAVE10");
    let upload = photo.upload.as_ref().expect("first time: uploaded");
    let image = image::load_from_memory_with_format(&upload.bytes, image::ImageFormat::Jpeg)
        .expect("a real JPEG");
    assert!(image.height() > image.width(), "portrait variant");

    // The same (template version, variant, code) again: re-sent by file_id, no upload.
    app.telegram_update(updates::text(6, user, "/black-friday/SAVE10/portrait"))
        .await;
    let sent = fake.wait_sent(user, 6).await;
    assert_eq!(last(&sent).method, "sendPhoto");
    assert!(last(&sent).upload.is_none(), "no upload the second time");
    assert!(
        last(&sent).params["photo"]
            .as_str()
            .unwrap()
            .starts_with("AgACAgFake")
    );
    assert_eq!(
        fake.calls_of("sendPhoto")
            .iter()
            .filter(|c| c.upload.is_some())
            .count(),
        1
    );

    // Direct form with a space; square by default: a new image.
    app.telegram_update(updates::text(7, user, "/black-friday WELCOME20"))
        .await;
    let sent = fake.wait_sent(user, 7).await;
    assert!(last(&sent).upload.is_some());
    // Flexible matching: case, '_' and a unique prefix; same image as before, so by file_id.
    app.telegram_update(updates::text(8, user, "/BLACK_FRI WELCOME20"))
        .await;
    let sent = fake.wait_sent(user, 8).await;
    assert_eq!(last(&sent).method, "sendPhoto");
    assert!(last(&sent).upload.is_none());

    // A typo: did you mean.
    app.telegram_update(updates::text(9, user, "/blakfriday SAVE10"))
        .await;
    let sent = fake.wait_sent(user, 9).await;
    assert_eq!(
        last(&sent).text(),
        Some("I don't know a template called \"blakfriday\". Did you mean /black-friday?")
    );
    // A code the coupon list does not have: a friendly refusal with the reason.
    app.telegram_update(updates::text(10, user, "/summer-sale/NOPE99"))
        .await;
    let sent = fake.wait_sent(user, 10).await;
    let refusal = last(&sent).text().unwrap();
    assert!(
        refusal.starts_with("Sorry, I can't make that one:"),
        "{refusal}"
    );
    assert!(refusal.contains("NOPE99"), "{refusal}");
    // Emoji in a code.
    app.telegram_update(updates::text(11, user, "/summer-sale/SAVE🔥"))
        .await;
    let sent = fake.wait_sent(user, 11).await;
    assert!(
        last(&sent)
            .text()
            .unwrap()
            .starts_with("Coupon codes are letters"),
        "{:?}",
        last(&sent).text()
    );
    assert_eq!(
        fake.calls_of("sendPhoto").len(),
        4,
        "no image for refused codes"
    );

    let rows = wait_usage(&db, 7).await;
    type Outcome<'a> = (Option<&'a str>, Option<&'a str>, bool, Option<&'a str>);
    let outcome: Vec<Outcome<'_>> = rows
        .iter()
        .map(|r| (r.0.as_deref(), r.2.as_deref(), r.3, r.4.as_deref()))
        .collect();
    assert_eq!(
        outcome,
        [
            (Some("black-friday"), Some("SAVE10"), true, None),
            (Some("black-friday"), Some("SAVE10"), true, None),
            (Some("black-friday"), Some("WELCOME20"), true, None),
            (Some("black-friday"), Some("WELCOME20"), true, None),
            (None, Some("SAVE10"), false, Some("unknown_template")),
            (
                Some("summer-sale"),
                Some("NOPE99"),
                false,
                Some("invalid_coupon")
            ),
            (Some("summer-sale"), None, false, Some("invalid_code")),
        ]
    );
    assert!(rows.iter().all(|r| r.5 == "private"));
    assert_eq!(rows[0].1.as_deref(), Some("portrait"));
    assert_eq!(rows[2].1.as_deref(), Some("square"));
    assert_eq!(
        user_row(&db, user).await,
        Some((false, Some("en".into()), Some("ref42".into()))),
        "first/last seen, language and deep-link payload kept"
    );
    app.stop().await;
}

async fn channel_posts_and_help(backend: Backend) {
    let fake = FakeTelegram::start().await;
    let app = bot_app(backend, &fake).await;
    let channel = -1_001_234_567_890;
    app.telegram_update(updates::channel_post(1, channel, "/summer-sale/GOLD50"))
        .await;
    let sent = fake.wait_sent(channel, 1).await;
    assert_eq!(
        sent[0].method, "sendPhoto",
        "the image is posted to the channel"
    );
    // Ordinary channel posts are not answered.
    app.telegram_update(updates::channel_post(2, channel, "Big sale today!"))
        .await;
    app.telegram_update(updates::text(3, 77, "/help")).await;
    let help = fake.wait_sent(77, 1).await;
    assert!(help[0].text().unwrap().contains("/generate"));
    assert_eq!(fake.sent_to(channel).len(), 1);
    let rows = wait_usage(&db(&app), 1).await;
    assert_eq!(rows[0].5, "channel");
    app.stop().await;
}

async fn blocked_user_is_marked_and_not_retried(backend: Backend) {
    let fake = FakeTelegram::start().await;
    let app = bot_app(backend, &fake).await;
    let db = db(&app);
    let user = 2002;
    fake.block_chat(user);
    app.telegram_update(updates::text(1, user, "/help")).await;
    wait_blocked(&db, user, true).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let attempts: Vec<_> = fake
        .calls_of("sendMessage")
        .into_iter()
        .filter(|c| c.chat_id() == Some(user))
        .collect();
    assert_eq!(attempts.len(), 1, "403 is not retried");
    assert_eq!(attempts[0].status, 403);
    let (status, error): (String, Option<String>) =
        promostack::on_pool!(&db, pool => sqlx::query_as(
        "SELECT status, error FROM bot_updates WHERE update_id = 1"
    ).fetch_one(pool).await)
        .unwrap();
    assert_eq!(
        (status.as_str(), error.as_deref()),
        ("done", Some("blocked"))
    );
    // A generation attempt to a blocked chat is recorded as such.
    app.telegram_update(updates::text(2, user, "/vip-welcome SAVE10"))
        .await;
    let rows = wait_usage(&db, 1).await;
    assert_eq!((rows[0].3, rows[0].4.as_deref()), (false, Some("blocked")));
    // The user unblocks and writes again: no longer blocked, and answered.
    fake.unblock_chat(user);
    app.telegram_update(updates::text(3, user, "/help")).await;
    fake.wait_sent(user, 1).await;
    wait_blocked(&db, user, false).await;
    app.stop().await;
}

async fn retry_after_is_honoured_and_delivered_once(backend: Backend) {
    let fake = FakeTelegram::start().await;
    let app = bot_app(backend, &fake).await;
    let user = 3003;
    fake.fail_next("sendMessage", Fault::RetryAfter(1), 1);
    app.telegram_update(updates::text(1, user, "/help")).await;
    fake.wait_sent(user, 1).await;
    let attempts: Vec<_> = fake
        .calls_of("sendMessage")
        .into_iter()
        .filter(|c| c.chat_id() == Some(user))
        .collect();
    assert_eq!(
        attempts.iter().map(|c| c.status).collect::<Vec<_>>(),
        [429, 200]
    );
    assert!(attempts[1].at - attempts[0].at >= Duration::from_millis(950));
    // A 5xx storm on sendPhoto: retried with back-off, one photo delivered.
    fake.fail_next("sendPhoto", Fault::Status(502), 2);
    app.telegram_update(updates::text(2, user, "/vip-welcome/GOLD50"))
        .await;
    let sent = fake.wait_sent(user, 2).await;
    assert_eq!(sent[1].method, "sendPhoto");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(fake.sent_to(user).len(), 2, "delivered once");
    app.stop().await;
}

async fn webhook_rejects_bad_input_and_processes_duplicates_once(backend: Backend) {
    let fake = FakeTelegram::start().await;
    let app = bot_app(backend, &fake).await;
    let user = 4004;
    let update = updates::text(500, user, "/help");
    assert_eq!(
        app.telegram_update(update.clone()).await,
        json!({"ok": true})
    );
    assert_eq!(
        app.telegram_update(update.clone()).await,
        json!({"ok": true, "duplicate": true})
    );
    fake.wait_sent(user, 1).await;

    let body = update.to_string();
    expect_error(
        app.telegram_update_raw(None, Some("wrong"), body.clone())
            .await,
        401,
        "webhook_secret_invalid",
    )
    .await;
    expect_error(
        app.telegram_update_raw(None, None, body.clone()).await,
        401,
        "webhook_secret_invalid",
    )
    .await;
    expect_error(
        app.telegram_update_raw(None, Some(&TEST_WEBHOOK_SECRET[..10]), body.clone())
            .await,
        401,
        "webhook_secret_invalid",
    )
    .await;
    expect_error(
        app.telegram_update_raw(Some("no-such-bot"), Some(TEST_WEBHOOK_SECRET), body.clone())
            .await,
        404,
        "not_found",
    )
    .await;
    // The default bot also answers under its id.
    let by_id = app
        .telegram_update_raw(
            Some("default"),
            Some(TEST_WEBHOOK_SECRET),
            updates::text(501, user, "/help").to_string(),
        )
        .await;
    assert_eq!(json(by_id, 200).await["ok"], true);
    fake.wait_sent(user, 2).await;

    expect_error(
        app.telegram_update_raw(None, Some(TEST_WEBHOOK_SECRET), "{not json")
            .await,
        400,
        "bad_request",
    )
    .await;
    expect_error(
        app.telegram_update_raw(None, Some(TEST_WEBHOOK_SECRET), r#"{"message": {}}"#)
            .await,
        400,
        "bad_request",
    )
    .await;
    // A shape we cannot read is stored and acknowledged (so Telegram does not resend it), then failed.
    let odd = json!({"update_id": 502, "message": {"chat": "not an object"}});
    assert_eq!(app.telegram_update(odd).await["ok"], true);
    // Unknown update kinds are acknowledged and ignored.
    assert_eq!(
        app.telegram_update(json!({"update_id": 503, "poll": {"id": "1"}}))
            .await["ok"],
        true
    );
    // Huge text: stored, answered kindly.
    let huge = updates::text(504, user, &"A".repeat(10_000));
    assert_eq!(app.telegram_update(huge).await["ok"], true);
    let sent = fake.wait_sent(user, 3).await;
    assert!(
        last(&sent)
            .text()
            .unwrap()
            .starts_with("That message is too long")
    );
    // A body far beyond any real update is refused before it is read.
    let oversized = updates::text(505, user, &"B".repeat(300_000));
    expect_error(
        app.telegram_update_raw(None, Some(TEST_WEBHOOK_SECRET), oversized.to_string())
            .await,
        413,
        "payload_too_large",
    )
    .await;

    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        fake.sent_to(user).len(),
        3,
        "the duplicate was not processed again"
    );
    let statuses: Vec<(i64, String)> = promostack::on_pool!(&db(&app), pool => sqlx::query_as(
        "SELECT update_id, status FROM bot_updates ORDER BY update_id"
    ).fetch_all(pool).await)
    .unwrap();
    assert_eq!(
        statuses,
        [
            (500, "done"),
            (501, "done"),
            (502, "failed"),
            (503, "done"),
            (504, "done")
        ]
        .map(|(id, s)| (id, s.to_owned()))
    );
    let metrics = app.metrics().await.text().await.unwrap();
    for reason in [
        "duplicate",
        "bad_secret",
        "unknown_bot",
        "malformed_json",
        "no_update_id",
        "text_too_long",
    ] {
        assert!(
            metrics.contains(&format!(
                "telegram_updates_rejected_total{{reason=\"{reason}\"}}"
            )),
            "{reason} counted"
        );
    }
    assert!(!metrics.contains(TEST_BOT_TOKEN));
    app.stop().await;
}

async fn status_shows_the_bot_to_its_tenant_only(backend: Backend) {
    let fake = FakeTelegram::start().await;
    let app = bot_app(backend, &fake).await;
    app.login_admin().await;
    // The leader's setup records the username from getMe.
    let status = wait_for("the bot's username from getMe", WAIT, async || {
        let status = json(app.bot_status().await, 200).await;
        (status["username"] == FAKE_BOT_USERNAME).then_some(status)
    })
    .await;
    assert_eq!(status["configured"], true, "{status}");
    assert_eq!(status["username"], FAKE_BOT_USERNAME);
    assert_eq!(status["mode"], "webhook");
    assert!(
        status["setupError"]
            .as_str()
            .unwrap()
            .contains("PUBLIC_URL")
    );
    assert_eq!(
        fake.commands().unwrap()[0]["command"],
        "generate",
        "setMyCommands"
    );
    app.telegram_update(updates::text(1, 9, "/help")).await;
    fake.wait_sent(9, 1).await;
    let status = json(app.bot_status().await, 200).await;
    assert!(status["lastUpdateAt"].as_i64().unwrap() > 0);
    let text = status.to_string();
    assert!(
        !text.contains(TEST_BOT_TOKEN) && !text.contains(TEST_WEBHOOK_SECRET),
        "{text}"
    );

    // Stored encrypted, never in clear.
    let (token_enc, secret_enc): (String, String) =
        promostack::on_pool!(&db(&app), pool => sqlx::query_as(
        "SELECT token_enc, webhook_secret_enc FROM telegram_bots WHERE id = 'default'"
    ).fetch_one(pool).await)
        .unwrap();
    assert!(token_enc.starts_with("v1:") && !token_enc.contains("TEST-bot-token"));
    assert!(!secret_enc.contains(TEST_WEBHOOK_SECRET));

    // Another tenant has no bot, and sees none of this one.
    let other = app.create_tenant("Other", "other").await;
    app.use_tenant(Some(&other));
    let theirs = json(app.bot_status().await, 200).await;
    assert_eq!(theirs["configured"], false, "{theirs}");
    assert!(theirs["username"].is_null());
    app.use_tenant(None);
    app.logout().await;
    expect_error(app.bot_status().await, 401, "unauthenticated").await;
    app.stop().await;
}

async fn webhook_registration_generated_secret_and_polling(backend: Backend) {
    // PUBLIC_URL set, no TELEGRAM_WEBHOOK_SECRET: the leader registers the webhook with a
    // generated secret, which the webhook then accepts.
    let fake = FakeTelegram::start().await;
    let app = spawn_app_with(backend, |config| {
        config.demo_data = true;
        telegram::configure(config, &fake);
        config.integrations.telegram_webhook_secret = None;
        config.public_url = Some("https://promo.example".into());
    })
    .await;
    fake.wait_until("setWebhook", Duration::from_secs(20), |calls| {
        calls.iter().any(|c| c.method == "setWebhook" && c.ok())
    })
    .await;
    let hook = fake.webhook().unwrap();
    assert_eq!(hook["url"], "https://promo.example/api/telegram-webhook");
    assert_eq!(
        hook["allowed_updates"],
        json!(["message", "channel_post", "callback_query"])
    );
    let secret = hook["secret_token"].as_str().unwrap().to_owned();
    assert!(
        secret.len() >= 32
            && secret
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    );
    let ok = app
        .telegram_update_raw(
            None,
            Some(&secret),
            updates::text(1, 5, "/help").to_string(),
        )
        .await;
    assert_eq!(ok.status(), 200);
    fake.wait_sent(5, 1).await;
    app.stop().await;

    // TELEGRAM_MODE=polling: no webhook; getUpdates feeds the same durable receipt.
    let fake = FakeTelegram::start().await;
    let app = spawn_app_with(backend, |config| {
        config.demo_data = true;
        telegram::configure(config, &fake);
        config.integrations.telegram_mode = Some(TelegramMode::Polling);
    })
    .await;
    fake.push_update(updates::text(900, 6, "/help"));
    fake.push_update(updates::text(901, 6, "/generate"));
    let sent = fake.wait_sent(6, 2).await;
    assert!(sent[0].text().unwrap().contains("/generate"));
    assert_eq!(buttons(&sent[1]).len(), 3);
    // The leader's set-up removes any webhook (it runs beside the poller, so it may come after
    // the first getUpdates on a loaded machine).
    fake.wait_until("deleteWebhook", Duration::from_secs(20), |calls| {
        calls.iter().any(|c| c.method == "deleteWebhook")
    })
    .await;
    assert!(fake.calls_of("setWebhook").is_empty());
    // Confirmed to Telegram only after storing: a later getUpdates carries an offset past the
    // last update, and the queue drains.
    fake.wait_until("updates confirmed", Duration::from_secs(20), |calls| {
        calls
            .iter()
            .any(|c| c.method == "getUpdates" && offset(c).is_some_and(|o| o > 901))
    })
    .await;
    assert_eq!(fake.pending_updates(), 0);
    app.stop().await;
}

/// An instance that stored an update (and answered 200) but died before or while processing
/// it loses nothing: the leader's sweeper processes the stored row.
async fn stored_updates_survive_a_crash(backend: Backend) {
    let fake = FakeTelegram::start().await;
    let app = bot_app(backend, &fake).await;
    let db = db(&app);
    let now = promostack::time::system_now();
    for (update_id, user, claimed_until) in [(70, 7070, None), (71, 7171, Some(now - 1))] {
        let payload = updates::text(update_id, user, "/help").to_string();
        promostack::on_pool!(&db, pool => sqlx::query(
            "INSERT INTO bot_updates (bot_id, update_id, chat_id, payload, status, attempts, claimed_by, claimed_until, received_at) \
             VALUES ('default', $1, $2, $3, 'pending', 1, 'crashed-instance', $4, $5)"
        ).bind(update_id).bind(user).bind(payload).bind(claimed_until).bind(now - 10_000)
            .execute(pool).await.affected()).unwrap();
    }
    fake.wait_sent(7070, 1).await;
    fake.wait_sent(7171, 1).await;
    // Both rows end done, each claimed once more (attempts 1 -> 2) and answered once: a done
    // row is never claimed again.
    let rows = wait_for("both stored updates done", WAIT, async || {
        let rows = update_rows(&db).await;
        rows.iter().all(|r| r.1 != "pending").then_some(rows)
    })
    .await;
    assert_eq!(
        rows,
        [
            (70, "done".to_owned(), None, 2),
            (71, "done".to_owned(), None, 2)
        ]
    );
    for user in [7070, 7171] {
        assert_eq!(fake.sent_to(user).len(), 1, "chat {user} answered once");
    }
    app.stop().await;
}

/// The bot reuses each workspace's template list, but a change made through the dashboard
/// shows in the very next reply.
async fn help_follows_telegram_switches_at_once(backend: Backend) {
    let fake = FakeTelegram::start().await;
    let app = bot_app(backend, &fake).await;
    app.login_admin().await;
    let user = 3003;
    app.telegram_update(updates::text(1, user, "/help")).await;
    let sent = fake.wait_sent(user, 1).await;
    assert!(last(&sent).text().unwrap().contains("/summer-sale"));

    assert_eq!(
        app.toggle_telegram_template("summer-sale", false)
            .await
            .status(),
        200
    );
    app.telegram_update(updates::text(2, user, "/help")).await;
    let sent = fake.wait_sent(user, 2).await;
    let help = last(&sent).text().unwrap();
    assert!(!help.contains("/summer-sale"), "{help}");
    assert!(help.contains("/black-friday"), "{help}");

    assert_eq!(
        app.toggle_telegram_template("summer-sale", true)
            .await
            .status(),
        200
    );
    app.telegram_update(updates::text(3, user, "/help")).await;
    let sent = fake.wait_sent(user, 3).await;
    assert!(last(&sent).text().unwrap().contains("/summer-sale"));
    app.stop().await;
}

/// A burst of one chat's updates, each posted as soon as the previous one was received: they are
/// answered one at a time, in update order (each one after the one before it finished), and none
/// is lost, while other chats' updates are not held up.
async fn one_chat_burst_is_answered_in_order(backend: Backend) {
    let fake = FakeTelegram::start().await;
    let app = bot_app(backend, &fake).await;
    let (user, other) = (4004, 4005);
    for i in 1..=20 {
        app.telegram_update(updates::text(i, user, &format!("/nosuch{i}")))
            .await;
        if i == 10 {
            app.telegram_update(updates::text(100, other, "/help"))
                .await;
        }
    }
    let sent = fake.wait_sent(user, 20).await;
    let typed: Vec<String> = sent
        .iter()
        .map(|c| {
            let text = c.text().unwrap();
            let start = text.find("\"nosuch").expect("names the typed template") + 1;
            text[start..start + text[start..].find('"').unwrap()].to_owned()
        })
        .collect();
    let expected: Vec<String> = (1..=20).map(|i| format!("nosuch{i}")).collect();
    assert_eq!(typed, expected);
    assert_eq!(fake.wait_sent(other, 1).await.len(), 1);
    app.stop().await;
}

/// The pruner deletes updates processed more than 48 hours ago, and never a pending one, a
/// recent one or the bot's newest (polling resumes after it).
async fn processed_updates_are_pruned_after_48_hours(backend: Backend) {
    use promostack::domains::bot::workers::{KEEP_PROCESSED_MS, UpdatePruner};
    use promostack::workers::Worker;
    let fake = FakeTelegram::start().await;
    let database = TestDatabase::create(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = local_config(dir.path(), database.config.clone());
    telegram::configure(&mut config, &fake);
    let t0 = 1_800_000_000_000;
    let clock = promostack::time::Clock::fixed(t0);
    let state = promostack::app::build_state(config, clock.clone())
        .await
        .unwrap();
    promostack::app::bootstrap(&state).await.unwrap();
    let hour = 3_600_000;
    // (update_id, status, received_at)
    let rows = [
        (1, "done", t0),
        (2, "failed", t0),
        (3, "pending", t0),
        (4, "done", t0 + 47 * hour),
        (5, "done", t0),
    ];
    for (id, status, at) in rows {
        promostack::on_pool!(&state.db, pool => sqlx::query(
            "INSERT INTO bot_updates (bot_id, update_id, chat_id, payload, status, attempts, received_at, processed_at) \
             VALUES ('default', $1, 7, '{}', $2, 1, $3, $3)"
        ).bind(id).bind(status).bind(at).execute(pool).await.affected())
        .unwrap();
    }
    let kept = || async {
        promostack::on_pool!(&state.db, pool => sqlx::query_scalar::<_, i64>(
            "SELECT update_id FROM bot_updates ORDER BY update_id"
        ).fetch_all(pool).await)
        .unwrap()
    };
    clock.advance(KEEP_PROCESSED_MS - 1);
    UpdatePruner.step(&state).await.unwrap();
    assert_eq!(
        kept().await,
        [1, 2, 3, 4, 5],
        "nothing is over 48 hours old yet"
    );
    clock.advance(2);
    UpdatePruner.step(&state).await.unwrap();
    assert_eq!(
        kept().await,
        [3, 4, 5],
        "processed and 48 h old: gone; pending, recent and newest: kept"
    );
    UpdatePruner.step(&state).await.unwrap();
    assert_eq!(kept().await, [3, 4, 5]);
}

backend_tests!(
    stored_updates_survive_a_crash,
    conversation_start_generate_pick_code_variant_photo,
    channel_posts_and_help,
    blocked_user_is_marked_and_not_retried,
    retry_after_is_honoured_and_delivered_once,
    webhook_rejects_bad_input_and_processes_duplicates_once,
    status_shows_the_bot_to_its_tenant_only,
    webhook_registration_generated_secret_and_polling,
    help_follows_telegram_switches_at_once,
    one_chat_burst_is_answered_in_order,
    processed_updates_are_pruned_after_48_hours,
);

/// Two instances on one PostgreSQL answer alternating updates of one conversation: the state
/// lives in the database, not in either process.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_two_instances_share_one_conversation() {
    let fake = FakeTelegram::start().await;
    let database = TestDatabase::create(Backend::Postgres).await;
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let mut apps = Vec::new();
    for dir in &dirs {
        let mut config = local_config(dir.path(), database.config.clone());
        // Instances share their object storage, as in production (one bucket): whichever
        // instance processes an update must find the template files the first one seeded.
        config.storage = StorageConfig::Local {
            root: dirs[0].path().join("objects"),
        };
        config.demo_data = true;
        // Instances share the key material (SECRET_KEY), as a deployment of several must.
        config.secret_key = Some(promostack::config::Secret::new("two-instances-secret"));
        telegram::configure(&mut config, &fake);
        let app = start_app(config).await;
        app.wait_ready().await;
        apps.push(app);
    }
    let (a, b) = (&apps[0], &apps[1]);
    let user = 8008;
    a.telegram_update(updates::text(1, user, "/start")).await;
    fake.wait_sent(user, 1).await;
    b.telegram_update(updates::text(2, user, "/generate")).await;
    fake.wait_sent(user, 2).await;
    a.telegram_update(updates::callback(3, user, "t:vip-welcome"))
        .await;
    let sent = fake.wait_sent(user, 3).await;
    assert_eq!(
        last(&sent).text(),
        Some("VIP Welcome it is. Now send me the coupon code.")
    );
    b.telegram_update(updates::text(4, user, "GOLD50")).await;
    let sent = fake.wait_sent(user, 4).await;
    assert_eq!(buttons(last(&sent)), ["v:portrait", "v:square"]);
    a.telegram_update(updates::callback(5, user, "v:square"))
        .await;
    let sent = fake.wait_sent(user, 5).await;
    assert_eq!(last(&sent).method, "sendPhoto");
    assert_eq!(last(&sent).params["caption"], "VIP Welcome · GOLD50");
    // The same update delivered to the other instance is a duplicate there too.
    assert_eq!(
        b.telegram_update(updates::callback(5, user, "v:square"))
            .await["duplicate"],
        true
    );
    // The file_id cache is shared: the other instance re-sends without uploading.
    b.telegram_update(updates::text(6, user, "/vip-welcome GOLD50 square"))
        .await;
    let sent = fake.wait_sent(user, 6).await;
    assert!(last(&sent).upload.is_none());
    for app in apps {
        app.stop().await;
    }
}

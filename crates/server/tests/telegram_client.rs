//! The Bot API client against the fake Bot API (wire format, error classes, retries, pacing),
//! and the fake's own behaviour: form and multipart bodies, file_id re-sends, getUpdates, several
//! bots with their chats, rights and `my_chat_member` updates.
use std::time::{Duration, Instant};

use promostack::config::Secret;
use promostack::integrations::telegram::types::{
    ChatMemberStatus, ChatRef, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update,
};
use promostack::integrations::telegram::{
    BotClient, Limits, RetryPolicy, SendOptions, TelegramError,
};
use promostack_testkit::images;
use promostack_testkit::telegram::{
    ChatKind, FAKE_BOT_USERNAME, FakeTelegram, Fault, Member, MemberStatus, updates,
};
use serde_json::json;

const TOKEN: &str = "123456:TEST-token_abc";

fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        attempts: 3,
        backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(100),
        max_retry_after: Duration::from_secs(5),
    }
}

fn client(fake: &FakeTelegram, limits: Limits) -> BotClient {
    promostack::install_crypto_provider();
    BotClient::new(
        reqwest::Client::new(),
        &fake.url,
        Secret::new(TOKEN),
        limits,
        fast_retry(),
    )
}

/// A tiny real JPEG (8×4) made with the image crate.
fn jpeg() -> bytes::Bytes {
    let img = image::RgbImage::from_pixel(8, 4, image::Rgb([200, 30, 30]));
    images::encode(img.into(), images::ImageFormat::Jpeg).into()
}

#[tokio::test]
async fn calls_use_the_wire_format_and_uploads_get_reusable_file_ids() {
    let fake = FakeTelegram::start().await;
    let bot = client(&fake, Limits::UNLIMITED);
    let me = bot.get_me().await.unwrap();
    assert_eq!(me.username.as_deref(), Some(FAKE_BOT_USERNAME));
    assert!(me.is_bot);

    let keyboard = InlineKeyboardMarkup {
        inline_keyboard: vec![vec![InlineKeyboardButton::callback(
            "Black Friday",
            "tpl:black-friday",
        )]],
    };
    let options = SendOptions {
        reply_markup: Some(keyboard.clone()),
        ..SendOptions::default()
    };
    let sent = bot
        .send_message(42, "Pick a template", &options)
        .await
        .unwrap();
    assert_eq!(sent.chat.id, 42);
    assert_eq!(sent.chat.kind, "private");

    let photo = bot
        .send_photo(
            42,
            InputFile::Upload {
                file_name: "coupon.jpg".into(),
                bytes: jpeg(),
                mime: "image/jpeg",
            },
            Some("Black Friday — SAVE10"),
            &options,
        )
        .await
        .unwrap();
    let file_id = photo.largest_photo().unwrap().file_id.clone();
    assert_eq!(
        photo.largest_photo().unwrap().width,
        8,
        "real size read from the JPEG"
    );
    let again = bot
        .send_photo(
            42,
            InputFile::FileId(file_id.clone()),
            Some("again"),
            &SendOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(again.largest_photo().unwrap().file_id, file_id);

    let calls = fake.calls();
    assert!(
        calls.iter().all(|c| c.token == TOKEN),
        "token travels in the path"
    );
    let message = &calls[1];
    assert_eq!(
        (message.method.as_str(), message.text()),
        ("sendMessage", Some("Pick a template"))
    );
    assert_eq!(
        message.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"],
        "tpl:black-friday"
    );
    let upload = &calls[2];
    assert_eq!(upload.method, "sendPhoto");
    let part = upload.upload.as_ref().expect("multipart file part");
    assert_eq!(
        (part.field.as_str(), part.content_type.as_deref()),
        ("photo", Some("image/jpeg"))
    );
    assert_eq!(upload.params["caption"], "Black Friday — SAVE10");
    assert_eq!(
        upload.params["reply_markup"],
        serde_json::to_value(&keyboard).unwrap(),
        "JSON field of a multipart body"
    );
    assert!(
        calls[3].upload.is_none(),
        "a file_id re-send uploads nothing"
    );

    // An unknown file_id is a 400 with Telegram's description.
    let err = bot
        .send_photo(
            42,
            InputFile::FileId("nope".into()),
            None,
            &SendOptions::default(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, TelegramError::BadRequest { ref description } if description.contains("wrong file identifier")),
        "{err:?}"
    );
}

#[tokio::test]
async fn fake_reads_form_and_query_bodies_like_telegram() {
    let fake = FakeTelegram::start().await;
    promostack::install_crypto_provider();
    let http = reqwest::Client::new();
    let form: serde_json::Value = http
        .post(format!("{}/bot{TOKEN}/sendMessage", fake.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("chat_id=-1001234567890&text=hello+there%21&reply_markup=%7B%22inline_keyboard%22%3A%5B%5D%7D")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(form["ok"], true);
    assert_eq!(form["result"]["text"], "hello there!");
    assert_eq!(form["result"]["chat"]["type"], "channel");
    let query: serde_json::Value = http
        .get(format!("{}/bot{TOKEN}/getMe?x=1", fake.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(query["result"]["username"], FAKE_BOT_USERNAME);
    let unknown = http
        .post(format!("{}/bot{TOKEN}/noSuchMethod", fake.url))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let call = &fake.calls_of("sendMessage")[0];
    assert_eq!(call.params["reply_markup"], json!({"inline_keyboard": []}));
}

#[tokio::test]
async fn errors_are_classified_and_only_transient_ones_retried() {
    let fake = FakeTelegram::start().await;
    let bot = client(&fake, Limits::UNLIMITED);

    fake.block_chat(7);
    let err = bot
        .send_message(7, "hi", &SendOptions::default())
        .await
        .unwrap_err();
    assert!(err.is_blocked(), "{err:?}");
    assert_eq!(fake.calls_of("sendMessage").len(), 1, "403 is not retried");

    // Two 5xx then success: delivered once, on the third attempt.
    fake.clear_calls();
    fake.fail_next("sendMessage", Fault::Status(502), 2);
    bot.send_message(8, "hello", &SendOptions::default())
        .await
        .unwrap();
    let statuses: Vec<u16> = fake
        .calls_of("sendMessage")
        .iter()
        .map(|c| c.status)
        .collect();
    assert_eq!(statuses, [502, 502, 200]);

    // 5xx on every attempt: a Server error after the policy's 3 attempts.
    fake.clear_calls();
    fake.fail_next("sendMessage", Fault::Status(500), 3);
    let err = bot
        .send_message(8, "hello", &SendOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, TelegramError::Server { status: 500, .. }),
        "{err:?}"
    );
    assert_eq!(fake.calls_of("sendMessage").len(), 3);

    // Empty text: a 400 with the description, not retried.
    fake.clear_calls();
    let err = bot
        .send_message(8, "", &SendOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, TelegramError::BadRequest { .. }), "{err:?}");
    assert_eq!(fake.calls_of("sendMessage").len(), 1);

    // Nothing listening: a network error whose text does not leak the token.
    let dead = BotClient::new(
        reqwest::Client::new(),
        "http://127.0.0.1:9",
        Secret::new(TOKEN),
        Limits::UNLIMITED,
        fast_retry(),
    );
    let err = dead.get_me().await.unwrap_err();
    assert!(matches!(err, TelegramError::Network(_)), "{err:?}");
    assert!(!err.to_string().contains("TEST-token"), "{err}");
}

#[tokio::test]
async fn retry_after_is_honoured_and_the_message_delivered_once() {
    let fake = FakeTelegram::start().await;
    let bot = client(&fake, Limits::UNLIMITED);
    fake.fail_next("sendMessage", Fault::RetryAfter(1), 1);
    let started = Instant::now();
    bot.send_message(9, "after the storm", &SendOptions::default())
        .await
        .unwrap();
    let calls = fake.calls_of("sendMessage");
    assert_eq!(
        calls.iter().map(|c| c.status).collect::<Vec<_>>(),
        [429, 200]
    );
    let gap = calls[1].at - calls[0].at;
    assert!(
        gap >= Duration::from_millis(950),
        "waited retry_after: {gap:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(fake.sent_to(9).len(), 1, "delivered exactly once");

    // A retry_after longer than we wait inline goes back to the caller.
    fake.fail_next("sendMessage", Fault::RetryAfter(60), 1);
    let err = bot
        .send_message(9, "later", &SendOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err, TelegramError::RetryAfter { secs: 60 });
}

#[tokio::test]
async fn sends_to_one_chat_are_paced_a_second_apart() {
    let fake = FakeTelegram::start().await;
    let bot = client(&fake, Limits::TELEGRAM);
    let options = SendOptions::default();
    let (a, b) = tokio::join!(
        bot.send_message(11, "one", &options),
        bot.send_message(11, "two", &options),
    );
    a.unwrap();
    b.unwrap();
    bot.send_message(12, "other chat", &SendOptions::default())
        .await
        .unwrap();
    let to_11 = fake.sent_to(11);
    let gap = to_11[1].at.duration_since(to_11[0].at);
    assert!(
        gap >= Duration::from_millis(950),
        "one a second per chat: {gap:?}"
    );
}

#[tokio::test]
async fn webhook_setup_commands_and_long_polling() {
    let fake = FakeTelegram::start().await;
    let bot = client(&fake, Limits::UNLIMITED);
    let err = bot
        .set_webhook("http://insecure.example/hook", "s3cret", &["message"])
        .await
        .unwrap_err();
    assert!(matches!(err, TelegramError::BadRequest { .. }));
    assert!(
        bot.set_webhook(
            "https://promo.example/api/telegram-webhook",
            "s3cret",
            &["message", "callback_query"]
        )
        .await
        .unwrap()
    );
    let hook = fake.webhook().unwrap();
    assert_eq!(hook["secret_token"], "s3cret");
    assert_eq!(
        hook["allowed_updates"],
        json!(["message", "callback_query"])
    );
    assert_eq!(
        bot.get_webhook_info().await.unwrap().url,
        "https://promo.example/api/telegram-webhook"
    );
    let commands = vec![promostack::integrations::telegram::types::BotCommand {
        command: "generate".into(),
        description: "Make a coupon image".into(),
    }];
    assert!(bot.set_my_commands(&commands).await.unwrap());
    assert_eq!(fake.commands().unwrap()[0]["command"], "generate");

    fake.push_update(updates::text(100, 5, "/help"));
    fake.push_update(updates::text(101, 5, "/start"));
    // As on Telegram, polling is refused while a webhook is set.
    let conflict = bot.get_updates(None, 1, &["message"]).await.unwrap_err();
    assert!(
        matches!(&conflict, TelegramError::BadRequest { description } if description.starts_with("Conflict")),
        "{conflict:?}"
    );
    assert!(bot.delete_webhook().await.unwrap());
    let batch = bot.get_updates(None, 1, &["message"]).await.unwrap();
    assert_eq!(
        batch.iter().map(|u| u.update_id).collect::<Vec<_>>(),
        [100, 101]
    );
    assert_eq!(
        batch[0].message.as_ref().unwrap().text.as_deref(),
        Some("/help")
    );
    // Confirming with offset drops them; an empty long poll returns after its timeout.
    let empty = bot.get_updates(Some(102), 1, &["message"]).await.unwrap();
    assert!(empty.is_empty());
    assert_eq!(fake.pending_updates(), 0);
}

fn client_with(fake: &FakeTelegram, token: &str) -> BotClient {
    promostack::install_crypto_provider();
    BotClient::new(
        reqwest::Client::new(),
        &fake.url,
        Secret::new(token),
        Limits::UNLIMITED,
        fast_retry(),
    )
}

const COUPON: &str = "7100001:coupon-bot_token";
const SIGNAL: &str = "7200002:signal-bot_token";
const VIP: i64 = -1_001_234_567_890;

#[tokio::test]
async fn several_bots_each_with_its_identity_and_401_for_unknown_or_revoked_tokens() {
    let fake = FakeTelegram::start().await;
    assert_eq!(fake.add_bot(COUPON, "coupon_bot"), 7_100_001);
    fake.add_bot(SIGNAL, "signal_bot");
    let coupon = client_with(&fake, COUPON);
    let signal = client_with(&fake, SIGNAL);
    let me = coupon.get_me().await.unwrap();
    assert_eq!(
        (me.id, me.username.as_deref()),
        (7_100_001, Some("coupon_bot"))
    );
    assert_eq!(
        signal.get_me().await.unwrap().username.as_deref(),
        Some("signal_bot")
    );

    let stranger = client_with(&fake, "7300003:never-issued");
    assert_eq!(
        stranger.get_me().await.unwrap_err(),
        TelegramError::Unauthorized
    );
    let malformed = client_with(&fake, "not a token");
    assert_eq!(
        malformed.get_me().await.unwrap_err(),
        TelegramError::InvalidToken
    );

    fake.revoke_token(SIGNAL);
    fake.clear_calls();
    let err = signal
        .send_message(5, "hi", &SendOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err, TelegramError::Unauthorized);
    assert!(err.rejects_token());
    assert_eq!(fake.calls().len(), 1, "a 401 is not retried");
    assert_eq!(fake.calls()[0].status, 401);
    // The other bot is untouched.
    assert!(coupon.get_me().await.is_ok());
}

#[tokio::test]
async fn get_chat_and_chat_member_follow_each_bots_membership_and_rights() {
    let fake = FakeTelegram::start().await;
    fake.add_bot(COUPON, "coupon_bot");
    let signal_id = fake.add_bot(SIGNAL, "signal_bot");
    fake.add_chat(VIP, ChatKind::Channel, "Gold VIP", Some("gold_vip"));
    fake.set_bot_member(SIGNAL, VIP, Member::admin().restrict(false));
    let signal = client_with(&fake, SIGNAL);
    let coupon = client_with(&fake, COUPON);

    let chat = signal.get_chat(&ChatRef::Id(VIP)).await.unwrap();
    assert_eq!(
        (chat.id, chat.kind.as_str(), chat.title.as_deref()),
        (VIP, "channel", Some("Gold VIP"))
    );
    let by_name = signal
        .get_chat(&ChatRef::parse("@gold_vip").unwrap())
        .await
        .unwrap();
    assert_eq!(by_name.id, VIP);
    // A bot that is not in the channel cannot see it.
    assert_eq!(
        coupon.get_chat(&ChatRef::Id(VIP)).await.unwrap_err(),
        TelegramError::BadRequest {
            description: "Bad Request: chat not found".into()
        }
    );
    assert!(signal.get_chat(&ChatRef::Id(-1_009_999)).await.is_err());

    let rights = signal
        .get_chat_member(&ChatRef::Id(VIP), signal_id)
        .await
        .unwrap();
    assert_eq!(rights.status, ChatMemberStatus::Administrator);
    assert!(rights.can_post() && rights.can_invite());
    assert!(!rights.can_restrict(), "ban users was withheld");
    assert_eq!(rights.user.id, signal_id);

    // Sends follow the rights: posting works until the right is taken away.
    signal
        .send_message(VIP, "XAU/USD BUY", &SendOptions::default())
        .await
        .unwrap();
    fake.set_bot_member(SIGNAL, VIP, Member::admin().post(false));
    assert_eq!(
        signal
            .send_message(VIP, "XAU/USD SELL", &SendOptions::default())
            .await
            .unwrap_err(),
        TelegramError::BadRequest {
            description: "Bad Request: need administrator rights in the channel chat".into()
        }
    );
    assert_eq!(fake.sent_to(VIP).len(), 1);
}

#[tokio::test]
async fn my_chat_member_updates_per_bot_and_webhooks_with_allowed_updates() {
    let fake = FakeTelegram::start().await;
    fake.add_bot(COUPON, "coupon_bot");
    fake.add_bot(SIGNAL, "signal_bot");
    fake.add_chat(VIP, ChatKind::Channel, "Gold VIP", None);
    fake.set_bot_member(SIGNAL, VIP, Member::admin());
    let signal = client_with(&fake, SIGNAL);
    let coupon = client_with(&fake, COUPON);

    let raw = fake.change_bot_member(SIGNAL, VIP, Member::with_status(MemberStatus::Kicked));
    let update: Update = serde_json::from_value(raw.clone()).unwrap();
    let change = update.my_chat_member.expect("a my_chat_member update");
    assert_eq!(change.chat.id, VIP);
    assert_eq!(
        change.old_chat_member.status,
        ChatMemberStatus::Administrator
    );
    assert!(change.old_chat_member.can_post());
    assert_eq!(change.new_chat_member.status, ChatMemberStatus::Kicked);
    assert!(!change.new_chat_member.is_present());
    // Now kicked: Telegram answers 403 for the channel.
    assert!(
        signal
            .get_chat(&ChatRef::Id(VIP))
            .await
            .unwrap_err()
            .is_blocked()
    );

    // The update is queued for the signal bot only.
    let polled = signal
        .get_updates(None, 0, &["my_chat_member"])
        .await
        .unwrap();
    assert_eq!(polled.len(), 1);
    assert_eq!(polled[0].update_id, raw["update_id"].as_i64().unwrap());
    assert!(coupon.get_updates(None, 0, &[]).await.unwrap().is_empty());

    let allowed = [
        "message",
        "callback_query",
        "my_chat_member",
        "chat_member",
        "chat_join_request",
    ];
    assert!(
        signal
            .set_webhook(
                "https://promo.example/api/telegram-webhook/b1",
                "s3cret-A_1",
                &allowed
            )
            .await
            .unwrap()
    );
    let hook = fake.webhook_of(SIGNAL).unwrap();
    assert_eq!(hook["allowed_updates"], json!(allowed));
    assert_eq!(hook["secret_token"], "s3cret-A_1");
    assert!(fake.webhook_of(COUPON).is_none());
    let info = signal.get_webhook_info().await.unwrap();
    assert_eq!(info.allowed_updates.unwrap(), allowed);
    // Telegram's alphabet for secrets.
    assert!(
        signal
            .set_webhook("https://promo.example/hook", "not allowed!", &allowed)
            .await
            .is_err()
    );
    assert!(signal.delete_webhook().await.unwrap());
    assert!(fake.webhook_of(SIGNAL).is_none());
    assert_eq!(coupon.get_webhook_info().await.unwrap().url, "");
}

#[test]
fn chat_references_are_parsed_as_people_type_them() {
    assert_eq!(ChatRef::parse(" -1001234567890 "), Ok(ChatRef::Id(VIP)));
    assert_eq!(
        ChatRef::parse("@Gold_VIP"),
        Ok(ChatRef::Username("@Gold_VIP".into()))
    );
    assert_eq!(
        ChatRef::parse("https://t.me/gold_vip"),
        Ok(ChatRef::Username("@gold_vip".into()))
    );
    for bad in [
        "",
        "0",
        "gold_vip",
        "@abc",
        "@1gold",
        "@gold-vip",
        "-100abc",
    ] {
        assert!(ChatRef::parse(bad).is_err(), "{bad:?}");
    }
    assert_eq!(serde_json::to_value(ChatRef::Id(VIP)).unwrap(), json!(VIP));
    assert_eq!(
        serde_json::to_value(ChatRef::Username("@gold_vip".into())).unwrap(),
        json!("@gold_vip")
    );
}

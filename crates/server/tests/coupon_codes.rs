//! One coupon code rule at every edge: a listed code that is 50 characters long or accented
//! validates and renders through the API, and renders through the Telegram bot, on SQLite and
//! PostgreSQL. (The bot once had its own 32-character ASCII rule and refused such codes.)
use promostack_testkit::telegram::{self, FakeTelegram, updates};
use promostack_testkit::{Backend, TestApp, backend_tests, expect_error, json, spawn_app_with};
use serde_json::json;

const ACCENTED: &str = "CAFÉ10";

fn long_code() -> String {
    // 50 characters: letters, digits, '-' and '_' (a real CRM's long campaign code).
    let code = format!("SPRING-{}_2026", "X".repeat(38));
    assert_eq!(code.chars().count(), 50);
    code
}

async fn list_code(app: &TestApp, code: &str) {
    let created = json(
        app.create_coupon(json!({"code": code, "note": "cross-edge test"}))
            .await,
        201,
    )
    .await;
    assert_eq!(created["code"], code);
}

async fn render(app: &TestApp, code: &str) -> reqwest::Response {
    app.request(reqwest::Method::POST, "/api/render")
        .json(&json!({"template": "black-friday", "variant": "square", "code": code, "format": "jpeg"}))
        .send()
        .await
        .unwrap()
}

async fn long_and_accented_codes_work_everywhere(backend: Backend) {
    let fake = FakeTelegram::start().await;
    let app = spawn_app_with(backend, |config| {
        config.demo_data = true;
        telegram::configure(config, &fake);
    })
    .await;
    app.login_admin().await;
    let long = long_code();
    list_code(&app, ACCENTED).await;
    list_code(&app, &long).await;

    // The API: validated (by the lookup key, so any case) and rendered.
    for code in [ACCENTED, "café10", long.as_str()] {
        let check = json(app.validate_coupon(code).await, 200).await;
        assert_eq!(check["valid"], true, "{code}: {check}");
        let image = render(&app, code).await;
        assert_eq!(image.status(), 200, "{code}");
        let bytes = image.bytes().await.unwrap();
        image::load_from_memory_with_format(&bytes, image::ImageFormat::Jpeg).expect("a JPEG");
    }
    // One character over the limit is refused by the same rule, naming the field.
    let too_long = "X".repeat(65);
    let refused = expect_error(
        app.validate_coupon(&too_long).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(refused["field"], "code");
    assert_eq!(refused["error"], "a coupon code has at most 64 characters");
    expect_error(render(&app, &too_long).await, 422, "validation_failed").await;

    // The bot: both codes become photos (direct command and the /generate conversation).
    let user = 4242;
    app.telegram_update(updates::text(
        1,
        user,
        &format!("/black-friday/{ACCENTED}/square"),
    ))
    .await;
    let sent = fake.wait_sent(user, 1).await;
    assert_eq!(sent[0].method, "sendPhoto", "{:?}", sent[0].text());
    assert_eq!(
        sent[0].params["caption"],
        format!("Black Friday · {ACCENTED}")
    );

    app.telegram_update(updates::text(2, user, "/black-friday"))
        .await;
    let sent = fake.wait_sent(user, 2).await;
    assert_eq!(
        sent[1].text(),
        Some("Black Friday it is. Now send me the coupon code.")
    );
    app.telegram_update(updates::text(3, user, &long)).await;
    let sent = fake.wait_sent(user, 3).await;
    assert_eq!(
        sent[2].text(),
        Some("Which shape?"),
        "the code was accepted"
    );
    app.telegram_update(updates::callback(4, user, "v:square"))
        .await;
    let sent = fake.wait_sent(user, 4).await;
    assert_eq!(sent[3].method, "sendPhoto", "{:?}", sent[3].text());
    assert_eq!(sent[3].params["caption"], format!("Black Friday · {long}"));

    // And the bot refuses what the API refuses, with the same limit in its words.
    app.telegram_update(updates::text(5, user, &format!("/black-friday/{too_long}")))
        .await;
    let sent = fake.wait_sent(user, 5).await;
    assert!(
        sent[4].text().unwrap().contains("up to 64 characters"),
        "{:?}",
        sent[4].text()
    );
    app.stop().await;
}

backend_tests!(long_and_accented_codes_work_everywhere);

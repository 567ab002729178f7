//! The workspace's Telegram user account through the API, on both backends, against the fake
//! MTProto network (no MTProto server is reachable here; the grammers adapter is not run):
//! phone → code → two-step password, the session sealed in `user_account_sessions`, one
//! client per workspace, a test message, FLOOD_WAIT as 429, sign-out, bad input named by field,
//! and a second workspace seeing and touching none of it.
use promostack::db::Db;
use promostack::domains::connections::repo;
use promostack_testkit::telegram_user::FakeUserNetwork;
use promostack_testkit::{Backend, TestApp, backend_tests, json, spawn_app_with_user_network};
use reqwest::Method;
use serde_json::{Value, json};

const PHONE: &str = "+447700900123";
const PASSWORD: &str = "correct horse battery staple";

async fn call(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut request = app.request(method, path);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    assert!(
        !text.contains(PASSWORD) && !text.contains("fake-mtproto-session"),
        "a secret leaked into {path}: {text}"
    );
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// POST a login step (`/code`, `/sign-in`, …) of the user account.
async fn post(app: &TestApp, step: &str, body: Value) -> (u16, Value) {
    call(app, Method::POST, &format!("{BASE}{step}"), Some(body)).await
}

fn field_error(answer: &(u16, Value), field: &str) {
    assert_eq!(answer.0, 422, "{}", answer.1);
    assert_eq!(answer.1["field"], field, "{}", answer.1);
}

const BASE: &str = "/api/connections/user-account";

async fn login_with_password_sign_out_and_isolation(backend: Backend) {
    let network = FakeUserNetwork::new();
    network.add_account(PHONE, 555_001, Some("gold_desk"), Some(PASSWORD));
    network.add_user(555_900, "trader_joe");
    let app = spawn_app_with_user_network(backend, &network).await;
    app.login_admin().await;
    let tenant = app.tenant_id().await;

    let (status, start) = call(&app, Method::GET, BASE, None).await;
    assert_eq!(status, 200, "{start}");
    assert_eq!(start["available"], true);
    assert_eq!(start["signedIn"], false);
    assert_eq!(start["login"], Value::Null);
    assert_eq!(
        network.connects(),
        0,
        "no client for a workspace that never signed in"
    );

    // Bad input, named by field; steps out of order are refused.
    for phone in ["447700900123", "+44 77", "", "+44abc00900123"] {
        let answer = post(&app, "/code", json!({"phone": phone})).await;
        field_error(&answer, "phone");
    }
    let (status, early) = post(&app, "/sign-in", json!({"code": "12345"})).await;
    assert_eq!(status, 409, "{early}");
    assert!(
        early["error"]
            .as_str()
            .unwrap()
            .contains("request a new code")
    );
    let (status, _) = post(&app, "/code", json!({"phone": PHONE, "extra": 1})).await;
    assert_eq!(status, 422, "unknown fields are refused");

    // Step 1: the code goes to the account (the fake "texts" it).
    let (status, sent) = post(&app, "/code", json!({"phone": "+44 7700 900123"})).await;
    assert_eq!(status, 200, "{sent}");
    assert_eq!(
        sent["login"],
        json!({"step": "code", "phone": "+44 ••• 123"})
    );
    let code = network.code_for(PHONE).expect("a code was sent");

    // Step 2: a wrong code, a malformed one, then the right one → the 2FA password.
    field_error(
        &post(&app, "/sign-in", json!({"code": "abc"})).await,
        "code",
    );
    let wrong = if code == "11111" { "22222" } else { "11111" };
    field_error(
        &post(&app, "/sign-in", json!({"code": wrong})).await,
        "code",
    );
    let (status, step) = post(&app, "/sign-in", json!({"code": code})).await;
    assert_eq!(status, 200, "{step}");
    assert_eq!(step["signedIn"], false);
    assert_eq!(step["login"]["step"], "password", "{step}");

    // Step 3: the password (wrong, then right).
    field_error(
        &post(&app, "/password", json!({"password": "nope"})).await,
        "password",
    );
    let (status, done) = post(&app, "/password", json!({"password": PASSWORD})).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["signedIn"], true);
    assert_eq!(done["account"]["username"], "gold_desk");
    assert_eq!(done["login"], Value::Null);
    assert_eq!(done["health"]["state"], "ok");

    // The session is in our database, sealed (neither the marker nor the phone readable).
    let db = Db::connect(&app.config.database).expect("db");
    let sealed = repo::load_session(&db, &tenant)
        .await
        .unwrap()
        .expect("session stored");
    assert!(!sealed.contains("fake-mtproto-session") && !sealed.contains("7700900123"));

    // A second login while signed in is refused; a test message goes out, to a known username only.
    let (status, _) = post(&app, "/code", json!({"phone": PHONE})).await;
    assert_eq!(status, 409);
    let (status, test) = post(&app, "/test", json!({"to": "@trader_joe"})).await;
    assert_eq!(status, 200, "{test}");
    let sends = network.sends();
    assert_eq!(sends.len(), 1);
    assert_eq!(
        (sends[0].from_user_id, sends[0].to_user_id),
        (555_001, 555_900)
    );
    field_error(
        &post(&app, "/test", json!({"to": "not a name!"})).await,
        "to",
    );
    // FLOOD_WAIT: 429 with the wait, and later sends are held without reaching Telegram.
    network.fail_next_sends(
        promostack::integrations::telegram_user::UserClientError::FloodWait { seconds: 120 },
        1,
    );
    let response = app
        .request(Method::POST, &format!("{BASE}/test"))
        .json(&json!({"to": "trader_joe"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((100..=120).contains(&retry), "retry-after {retry}");
    let (status, _) = post(&app, "/test", json!({"to": "trader_joe"})).await;
    assert_eq!(status, 429, "held while the wait lasts");
    assert_eq!(network.sends().len(), 1, "nothing more was sent");
    let (_, held) = call(&app, Method::GET, BASE, None).await;
    assert_eq!(held["health"]["state"], "flood_wait", "{held}");

    // Another workspace sees no account and can sign none out; its own login is its own.
    let b = json(app.admin_create_tenant("B", "tenant-b", None).await, 201).await;
    app.use_tenant(b["id"].as_str());
    let (_, other) = call(&app, Method::GET, BASE, None).await;
    assert_eq!(other["signedIn"], false, "{other}");
    assert_eq!(other["account"], Value::Null);
    let (status, _) = call(&app, Method::DELETE, BASE, None).await;
    assert_eq!(status, 404);
    let (status, _) = post(&app, "/test", json!({"to": "trader_joe"})).await;
    assert_eq!(status, 409, "no account in this workspace");
    let (status, _) = post(&app, "/password", json!({"password": PASSWORD})).await;
    assert_eq!(status, 409, "A's login is not B's");
    app.use_tenant(None);
    let (_, still) = call(&app, Method::GET, BASE, None).await;
    assert_eq!(still["signedIn"], true, "B's requests left A signed in");
    assert_eq!(
        network.connects(),
        1,
        "one client for the workspace, reused"
    );

    // Sign out: the session is deleted, the page starts over.
    let (status, _) = call(&app, Method::DELETE, BASE, None).await;
    assert_eq!(status, 204);
    assert!(repo::load_session(&db, &tenant).await.unwrap().is_none());
    let (_, after) = call(&app, Method::GET, BASE, None).await;
    assert_eq!(after["signedIn"], false, "{after}");
    let (status, _) = call(&app, Method::DELETE, BASE, None).await;
    assert_eq!(status, 404);
    db.close().await;
    app.stop().await;
}

/// Signed in before a restart → signed in after it, from the sealed session alone.
async fn session_survives_a_restart(backend: Backend) {
    let network = FakeUserNetwork::new();
    network.add_account(PHONE, 555_002, None, None);
    let app = spawn_app_with_user_network(backend, &network).await;
    app.login_admin().await;
    let (status, _) = post(&app, "/code", json!({"phone": PHONE})).await;
    assert_eq!(status, 200);
    let code = network.code_for(PHONE).unwrap();
    let (status, done) = post(&app, "/sign-in", json!({"code": code})).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["signedIn"], true, "no 2FA on this account");
    let restarted = app.restart_with_user_network(&network).await;
    restarted.login_admin().await;
    let (_, status) = call(&restarted, Method::GET, BASE, None).await;
    assert_eq!(status["signedIn"], true, "{status}");
    assert_eq!(status["account"]["userId"], 555_002);
    restarted.stop().await;
}

/// Without TELEGRAM_API_ID/HASH the page says what to set, and no login starts.
async fn without_api_credentials_login_says_what_to_set(backend: Backend) {
    let app = promostack_testkit::spawn_app(backend).await;
    app.login_admin().await;
    let (_, status) = call(&app, Method::GET, BASE, None).await;
    assert_eq!(status["available"], false);
    let (code, refused) = post(&app, "/code", json!({"phone": PHONE})).await;
    assert_eq!(code, 409, "{refused}");
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("TELEGRAM_API_ID")
    );
    app.stop().await;
}

backend_tests!(
    login_with_password_sign_out_and_isolation,
    session_survives_a_restart,
    without_api_credentials_login_says_what_to_set
);

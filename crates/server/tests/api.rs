//! The HTTP API end to end on both backends: authentication, bad input, tenant isolation.
use promostack::auth::Keys;
use promostack::auth::session::COOKIE_NAME;
use promostack::config::Secret;
use promostack_testkit::clerk::{FakeClerk, TwoTenants, forge, spawn_app_with_clerk, two_tenants};
use promostack_testkit::{
    ADMIN_PASSWORD, Backend, backend_tests, expect_error, json, spawn_app, spawn_app_with,
};
use serde_json::json;

backend_tests!(
    admin_login_session_and_logout,
    tampered_and_expired_cookies_are_rejected,
    logout_revokes_the_session_on_the_server,
    login_is_rate_limited_per_client,
    concurrent_wrong_logins_cannot_outrun_the_limit,
    clerk_tokens_are_verified_strictly,
    bad_input_gets_json_errors,
    csrf_rejects_cross_site_writes,
    tenant_isolation_through_the_api,
    members_and_roles,
    host_aware_routing,
    metrics_stay_off_the_public_port,
    generated_key_lives_in_a_private_file,
    operations_endpoints,
);

async fn admin_login_session_and_logout(backend: Backend) {
    let app = spawn_app(backend).await;
    expect_error(app.me().await, 401, "unauthenticated").await;
    expect_error(app.login("wrong").await, 401, "wrong_password").await;

    let response = app.login(ADMIN_PASSWORD).await;
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cookie.starts_with(&format!("{COOKIE_NAME}=v2.")),
        "{cookie}"
    );
    for attribute in ["HttpOnly", "SameSite=Lax", "Max-Age=86400", "Path=/"] {
        assert!(
            cookie.contains(attribute),
            "{attribute} missing in {cookie}"
        );
    }
    assert!(!cookie.contains("Secure"), "plain http gets no Secure flag");
    let body = json(response, 200).await;
    assert_eq!(body["ok"], true);

    let me = json(app.me().await, 200).await;
    assert_eq!(me["platformAdmin"], true);
    assert_eq!(me["role"], "owner");
    assert_eq!(me["tenant"]["slug"], "default");
    assert_eq!(me["tenants"].as_array().unwrap().len(), 1);

    // Behind a TLS proxy the cookie is Secure.
    let secure = app
        .client
        .post(app.url("/api/login"))
        .header("x-forwarded-proto", "https")
        .json(&json!({"password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert!(
        secure.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("; Secure")
    );

    assert_eq!(app.logout().await.status(), 204);
    expect_error(app.me().await, 401, "unauthenticated").await;
}

/// The `admin_session` value a login set.
fn session_value(response: &reqwest::Response) -> String {
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    cookie
        .split(';')
        .next()
        .unwrap()
        .strip_prefix(&format!("{COOKIE_NAME}="))
        .unwrap()
        .to_owned()
}

/// Logout ends the session on the server: a copy of the cookie kept by someone is refused at
/// once; "log out everywhere" ends every other browser's session too.
async fn logout_revokes_the_session_on_the_server(backend: Backend) {
    let app = spawn_app(backend).await;
    let raw = reqwest::Client::new();
    let login = || {
        raw.post(app.url("/api/login"))
            .header("origin", app.address.as_str())
            .json(&json!({"password": ADMIN_PASSWORD}))
            .send()
    };
    let me = |cookie: &str| {
        raw.get(app.url("/api/me"))
            .header("cookie", format!("{COOKIE_NAME}={cookie}"))
            .send()
    };
    let first = session_value(&login().await.unwrap());
    let second = session_value(&login().await.unwrap());
    let third = session_value(&login().await.unwrap());
    for c in [&first, &second, &third] {
        assert_eq!(me(c).await.unwrap().status(), 200);
    }
    let logout = raw
        .post(app.url("/api/logout"))
        .header("origin", app.address.as_str())
        .header("cookie", format!("{COOKIE_NAME}={first}"))
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 204);
    expect_error(me(&first).await.unwrap(), 401, "session_invalid").await;
    assert_eq!(
        me(&second).await.unwrap().status(),
        200,
        "other sessions stay"
    );

    let everywhere = raw
        .post(app.url("/api/logout/everywhere"))
        .header("origin", app.address.as_str())
        .header("cookie", format!("{COOKIE_NAME}={second}"))
        .send()
        .await
        .unwrap();
    assert_eq!(everywhere.status(), 204);
    for c in [&second, &third] {
        expect_error(me(c).await.unwrap(), 401, "session_invalid").await;
    }
    // Without a live session there is nothing to log out of everywhere.
    let again = raw
        .post(app.url("/api/logout/everywhere"))
        .header("origin", app.address.as_str())
        .header("cookie", format!("{COOKIE_NAME}={second}"))
        .send()
        .await
        .unwrap();
    expect_error(again, 401, "session_invalid").await;
    // A new login works as before.
    let fresh = session_value(&login().await.unwrap());
    assert_eq!(me(&fresh).await.unwrap().status(), 200);
}

async fn tampered_and_expired_cookies_are_rejected(backend: Backend) {
    let secret = "test-secret-key-material";
    let app = spawn_app_with(backend, |c| c.secret_key = Some(Secret::new(secret))).await;
    let keys = Keys::derive(secret.as_bytes());
    let now = promostack::time::system_now();
    let raw = reqwest::Client::new();
    let call = |cookie: String| {
        raw.get(app.url("/api/me"))
            .header("cookie", format!("{COOKIE_NAME}={cookie}"))
            .send()
    };
    // The app's own cookie names a server-side session; re-signing that session with the right
    // key works (the test's key derivation is the app's), a made-up session id does not.
    let login = raw
        .post(app.url("/api/login"))
        .header("origin", app.address.as_str())
        .json(&json!({"password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    let issued = session_value(&login);
    let sid = issued.split('.').nth(2).unwrap().to_owned();
    assert_eq!(call(issued.clone()).await.unwrap().status(), 200);
    assert_eq!(
        call(keys.session.sign("admin", &sid, now + 60_000))
            .await
            .unwrap()
            .status(),
        200
    );
    expect_error(
        call(keys.session.sign("admin", "madeup", now + 60_000))
            .await
            .unwrap(),
        401,
        "session_invalid",
    )
    .await;
    expect_error(
        call(keys.session.sign("admin", &sid, now - 1))
            .await
            .unwrap(),
        401,
        "session_invalid",
    )
    .await;
    let valid = keys.session.sign("admin", &sid, now + 60_000);
    let tampered = valid.replace(
        &format!(".{}.", now + 60_000),
        &format!(".{}.", now + 9_000_000),
    );
    expect_error(call(tampered).await.unwrap(), 401, "session_invalid").await;
    let other_key = Keys::derive(b"another secret")
        .session
        .sign("admin", &sid, now + 60_000);
    expect_error(call(other_key).await.unwrap(), 401, "session_invalid").await;
    expect_error(
        call("garbage".into()).await.unwrap(),
        401,
        "session_invalid",
    )
    .await;
}

async fn login_is_rate_limited_per_client(backend: Backend) {
    let app = spawn_app(backend).await;
    for _ in 0..promostack::auth::LoginLimiter::LIMIT {
        expect_error(app.login("nope").await, 401, "wrong_password").await;
    }
    let limited = app.login(ADMIN_PASSWORD).await;
    assert!(limited.headers().contains_key("retry-after"));
    expect_error(limited, 429, "rate_limited").await;
}

/// A burst of wrong passwords at once: exactly LIMIT passwords are checked, the rest are
/// refused before any argon2 work (the count is taken atomically with the check).
async fn concurrent_wrong_logins_cannot_outrun_the_limit(backend: Backend) {
    let app = spawn_app(backend).await;
    let attempts = (0..100).map(|_| app.login("nope"));
    let statuses: Vec<u16> = futures_util::future::join_all(attempts)
        .await
        .into_iter()
        .map(|r| r.status().as_u16())
        .collect();
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(
        (checked, refused),
        (
            promostack::auth::LoginLimiter::LIMIT as usize,
            100 - promostack::auth::LoginLimiter::LIMIT as usize
        ),
        "{statuses:?}"
    );
}

async fn clerk_tokens_are_verified_strictly(backend: Backend) {
    let clerk = FakeClerk::start().await;
    let attacker = FakeClerk::start_attacker().await;
    let issuer = clerk.issuer.clone();
    let app = spawn_app_with(backend, |c| {
        c.clerk_issuers = vec![issuer];
        c.admin_emails = vec!["boss@promostack.test".into()];
    })
    .await;
    let raw = reqwest::Client::new();
    let me = |token: String| raw.get(app.url("/api/me")).bearer_auth(token).send();

    // A platform admin by email is accepted from a verified token.
    let body = json(me(clerk.token("Boss@PromoStack.test")).await.unwrap(), 200).await;
    assert_eq!(body["email"], "boss@promostack.test");
    assert_eq!(body["platformAdmin"], true);
    // A verified user without any workspace is authenticated but not a member.
    expect_error(
        me(clerk.token("stranger@x.test")).await.unwrap(),
        403,
        "forbidden",
    )
    .await;
    // The same token in the `__session` cookie works too (GET needs no Origin).
    let by_cookie = raw
        .get(app.url("/api/me"))
        .header(
            "cookie",
            format!("__session={}", clerk.token("boss@promostack.test")),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(by_cookie.status(), 200);

    // Untrusted issuer (the original trusted any `iss`): 401.
    expect_error(
        me(attacker.attacker_token("boss@promostack.test"))
            .await
            .unwrap(),
        401,
        "token_invalid",
    )
    .await;
    // Right issuer, key it never published.
    expect_error(
        me(clerk.token_signed_by_attacker("boss@promostack.test"))
            .await
            .unwrap(),
        401,
        "token_invalid",
    )
    .await;
    // Expired.
    expect_error(
        me(clerk.token_with(json!({"email": "boss@promostack.test"}), -120))
            .await
            .unwrap(),
        401,
        "token_invalid",
    )
    .await;
    // Not valid yet (nbf 30 days ahead), or issued in the future (iat): refused like expired.
    let month = 30 * 24 * 3600;
    let now = promostack::time::system_now() / 1000;
    for claims in [
        json!({"email": "boss@promostack.test", "nbf": now + month}),
        json!({"email": "boss@promostack.test", "iat": now + month}),
    ] {
        expect_error(
            me(clerk.token_with(claims, 2 * month)).await.unwrap(),
            401,
            "token_invalid",
        )
        .await;
    }
    // Within the leeway both still pass.
    let skewed = json!({"email": "boss@promostack.test", "nbf": now + 2, "iat": now + 2});
    assert_eq!(
        me(clerk.token_with(skewed, 3600)).await.unwrap().status(),
        200
    );
    // alg none and HS256 forgeries.
    let claims = json!({"iss": clerk.issuer, "sub": "u", "email": "boss@promostack.test", "exp": 9_999_999_999i64});
    let none = forge(json!({"alg": "none", "typ": "JWT"}), claims.clone(), b"");
    expect_error(me(none).await.unwrap(), 401, "token_invalid").await;
    let hs256 = forge(
        json!({"alg": "HS256", "typ": "JWT", "kid": "clerk_test_rsa"}),
        claims,
        b"signature",
    );
    expect_error(me(hs256).await.unwrap(), 401, "token_invalid").await;
    // No email claim, or an unverified one.
    expect_error(
        me(clerk.token_with(json!({}), 3600)).await.unwrap(),
        401,
        "token_invalid",
    )
    .await;
    expect_error(
        me(clerk.token_with(
            json!({"email": "boss@promostack.test", "email_verified": false}),
            3600,
        ))
        .await
        .unwrap(),
        401,
        "token_invalid",
    )
    .await;
    // A header claiming an identity is ignored: only verified claims count.
    let spoof = raw
        .get(app.url("/api/me"))
        .header("x-user-email", "boss@promostack.test")
        .send()
        .await
        .unwrap();
    expect_error(spoof, 401, "unauthenticated").await;
}

async fn bad_input_gets_json_errors(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.max_body_bytes = 4096).await;
    app.login_admin().await;
    // (body, content type, status, code): each is rejected before any handler runs.
    let cases = [
        ("{not json", "application/json", 400, "bad_request"),
        (
            r#"{"email": 5, "role": "member"}"#,
            "application/json",
            422,
            "validation_failed",
        ),
        (
            r#"{"email": "a@b.test", "role": "root"}"#,
            "application/json",
            422,
            "validation_failed",
        ),
        (
            r#"{"email": "a@b.test", "role": "member", "extra": 1}"#,
            "application/json",
            422,
            "validation_failed",
        ),
        (
            r#"{"email": "a@b.test", "role": "member"}"#,
            "text/plain",
            415,
            "unsupported_media_type",
        ),
    ];
    for (body, content_type, status, code) in cases {
        let response = app
            .client
            .post(app.url("/api/tenant/members"))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        expect_error(response, status, code).await;
    }
    expect_error(
        app.add_member("not-an-email", "member").await,
        422,
        "validation_failed",
    )
    .await;
    let big = format!(
        r#"{{"email": "{}@b.test", "role": "member"}}"#,
        "a".repeat(10_000)
    );
    let response = app
        .client
        .post(app.url("/api/tenant/members"))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    expect_error(response, 413, "payload_too_large").await;
    // Multipart routes answer a body that is not multipart with the same JSON error shape.
    for content_type in ["application/json", "multipart/form-data"] {
        let response = app
            .client
            .post(app.url("/api/templates"))
            .header("content-type", content_type)
            .body("{}")
            .send()
            .await
            .unwrap();
        expect_error(response, 415, "unsupported_media_type").await;
    }
    expect_error(
        app.client
            .get(app.url("/api/no-such-route"))
            .send()
            .await
            .unwrap(),
        404,
        "not_found",
    )
    .await;
    expect_error(
        app.update_tenant(json!({"timezone": "Mars/Base"})).await,
        422,
        "validation_failed",
    )
    .await;
    expect_error(
        app.update_tenant(json!({"name": ""})).await,
        422,
        "validation_failed",
    )
    .await;
    // Nothing half-written: the tenant is unchanged and no member was added.
    let tenant = json(app.get_tenant().await, 200).await;
    assert_eq!(tenant["timezone"], "UTC");
    assert_eq!(
        json(app.list_members().await, 200).await["members"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

async fn csrf_rejects_cross_site_writes(backend: Backend) {
    let app = spawn_app(backend).await;
    app.login_admin().await;
    let evil = app
        .client
        .patch(app.url("/api/tenant"))
        .header("origin", "https://evil.example")
        .json(&json!({"name": "pwned"}))
        .send()
        .await
        .unwrap();
    expect_error(evil, 403, "forbidden").await;
    // Cookie but neither Origin nor Referer: refused.
    let cookie = {
        let login = reqwest::Client::new()
            .post(app.url("/api/login"))
            .json(&json!({"password": ADMIN_PASSWORD}))
            .send()
            .await
            .unwrap();
        login.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned()
    };
    let bare = reqwest::Client::new()
        .patch(app.url("/api/tenant"))
        .header("cookie", &cookie)
        .json(&json!({"name": "pwned"}))
        .send()
        .await
        .unwrap();
    expect_error(bare, 403, "forbidden").await;
    // Same-origin Referer is fine.
    let same = reqwest::Client::new()
        .patch(app.url("/api/tenant"))
        .header("cookie", &cookie)
        .header("referer", app.url("/#settings/workspace"))
        .json(&json!({"name": "Renamed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(json(same, 200).await["name"], "Renamed");
}

async fn tenant_isolation_through_the_api(backend: Backend) {
    let TwoTenants { app, clerk, a, b } = two_tenants(backend).await;
    let (a_id, b_id) = (a.as_str(), b.as_str());
    app.use_tenant(Some(b_id));
    let bob_member = json(app.list_members().await, 200).await["members"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let alice = clerk.token("alice@a.test");
    let as_alice = |method: reqwest::Method, path: &str, tenant: Option<&str>| {
        app.request_as(&alice, method, path, tenant)
    };
    // Alice acts in A by default and sees only A.
    let mine = json(
        as_alice(reqwest::Method::GET, "/api/tenant", None)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(mine["id"], a_id);
    let me = json(
        as_alice(reqwest::Method::GET, "/api/me", None)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(
        me["tenants"].as_array().unwrap().len(),
        1,
        "only her own workspaces are listed"
    );
    // Asking for B is refused on every route, reads and writes alike.
    for (method, path) in [
        (reqwest::Method::GET, "/api/tenant"),
        (reqwest::Method::GET, "/api/tenant/members"),
        (reqwest::Method::GET, "/api/me"),
        (reqwest::Method::GET, "/api/system/status"),
    ] {
        expect_error(
            as_alice(method, path, Some(b_id)).send().await.unwrap(),
            403,
            "forbidden",
        )
        .await;
    }
    let write = as_alice(reqwest::Method::PATCH, "/api/tenant", Some(b_id))
        .json(&json!({"name": "pwned"}))
        .send()
        .await
        .unwrap();
    expect_error(write, 403, "forbidden").await;
    let add = as_alice(reqwest::Method::POST, "/api/tenant/members", Some(b_id))
        .json(&json!({"email": "mallory@evil.test", "role": "owner"}))
        .send()
        .await
        .unwrap();
    expect_error(add, 403, "forbidden").await;
    // B's member id used from inside A: not found, and nothing deleted.
    let cross_delete = as_alice(
        reqwest::Method::DELETE,
        &format!("/api/tenant/members/{bob_member}"),
        None,
    )
    .send()
    .await
    .unwrap();
    expect_error(cross_delete, 404, "not_found").await;
    // Platform-admin routes are not hers.
    expect_error(
        as_alice(reqwest::Method::GET, "/api/admin/tenants", None)
            .send()
            .await
            .unwrap(),
        403,
        "forbidden",
    )
    .await;

    let b_after = json(app.get_tenant().await, 200).await;
    assert_eq!(b_after["name"], "Tenant B");
    let b_members = json(app.list_members().await, 200).await;
    assert_eq!(b_members["members"].as_array().unwrap().len(), 1);
    assert_eq!(b_members["members"][0]["email"], "bob@b.test");
}

async fn members_and_roles(backend: Backend) {
    let (app, clerk) = spawn_app_with_clerk(backend).await;
    let member = json(app.add_member("mia@team.test", "member").await, 201).await;
    assert_eq!(member["role"], "member");
    expect_error(
        app.add_member("MIA@team.test", "admin").await,
        409,
        "conflict",
    )
    .await;
    json(app.add_member("adam@team.test", "admin").await, 201).await;

    use reqwest::Method as M;
    let mia = clerk.token("mia@team.test");
    // Members read but cannot write.
    assert_eq!(
        app.request_as(&mia, M::GET, "/api/tenant/members", None)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let denied = app
        .request_as(&mia, M::PATCH, "/api/tenant", None)
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    expect_error(denied, 403, "forbidden").await;
    // Admins cannot mint owners.
    let adam = clerk.token("adam@team.test");
    let escalate = app
        .request_as(&adam, M::POST, "/api/tenant/members", None)
        .json(&json!({"email": "x@y.test", "role": "owner"}))
        .send()
        .await
        .unwrap();
    expect_error(escalate, 403, "forbidden").await;

    // Role rules (one place, the tenants service): an actor removes only members below their
    // role; owners remove owners; the last owner stays.
    let olga = json(app.add_member("olga@team.test", "owner").await, 201).await;
    let oscar = json(app.add_member("oscar@team.test", "owner").await, 201).await;
    let alma = json(app.add_member("alma@team.test", "admin").await, 201).await;
    let remove_as = |token: &str, member: &serde_json::Value| {
        app.request_as(
            token,
            M::DELETE,
            &format!("/api/tenant/members/{}", member["id"].as_str().unwrap()),
            None,
        )
        .send()
    };
    for target in [&olga, &oscar, &alma] {
        let removal = remove_as(&adam, target).await.unwrap();
        expect_error(removal, 403, "forbidden").await;
    }
    let olga_token = clerk.token("olga@team.test");
    let by_owner = remove_as(&olga_token, &oscar).await.unwrap();
    assert_eq!(by_owner.status(), 204, "an owner removes another owner");
    expect_error(
        app.remove_member(olga["id"].as_str().unwrap()).await,
        409,
        "conflict",
    )
    .await;
    let listed = json(app.list_members().await, 200).await;
    assert_eq!(
        listed["members"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["role"] == "owner")
            .count(),
        1,
        "the last owner stayed: {listed}"
    );

    assert_eq!(
        app.remove_member(member["id"].as_str().unwrap())
            .await
            .status(),
        204
    );
    expect_error(
        app.remove_member(member["id"].as_str().unwrap()).await,
        404,
        "not_found",
    )
    .await;
    expect_error(
        app.request_as(&mia, M::GET, "/api/me", None)
            .send()
            .await
            .unwrap(),
        403,
        "forbidden",
    )
    .await;
}

/// Without METRICS_TOKEN the public port has no /metrics; METRICS_ADDR serves it alone.
async fn metrics_stay_off_the_public_port(backend: Backend) {
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let app = spawn_app_with(backend, |c| {
        c.metrics_token = None;
        c.metrics_addr = Some(format!("127.0.0.1:{port}").parse().unwrap());
    })
    .await;
    expect_error(app.metrics().await, 404, "not_found").await;
    let raw = reqwest::Client::new();
    let private = raw
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(private.status(), 200);
    assert!(
        private
            .text()
            .await
            .unwrap()
            .contains("http_requests_total")
    );
    let other = raw
        .get(format!("http://127.0.0.1:{port}/api/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404, "only /metrics on the metrics listener");
    app.stop().await;
}

/// Without SECRET_KEY the generated key is in DATA_DIR/secret.key (0600), not in the database;
/// an installation that kept it in `settings` gets it moved to the file (same key).
async fn generated_key_lives_in_a_private_file(backend: Backend) {
    use std::os::unix::fs::PermissionsExt;
    let app = spawn_app(backend).await;
    let path = app.config.data_dir.join("secret.key");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{}", path.display());
    let db = promostack::db::Db::connect(&app.config.database).unwrap();
    assert_eq!(
        promostack::db::settings::get(&db, "secret_key")
            .await
            .unwrap(),
        None,
        "the key is not in the database"
    );
    app.stop().await;

    // An older installation: the key row in the database, no file yet.
    let database = promostack_testkit::TestDatabase::create(backend).await;
    let old = promostack::db::Db::connect(&database.config).unwrap();
    promostack::db::migrate(&old).await.unwrap();
    promostack::db::settings::get_or_insert(&old, "secret_key", "key-from-an-old-install", 0)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = promostack_testkit::local_config(dir.path(), database.config.clone());
    let upgraded = promostack_testkit::start_app(config).await;
    upgraded.wait_ready().await;
    assert_eq!(
        std::fs::read_to_string(dir.path().join("secret.key")).unwrap(),
        "key-from-an-old-install"
    );
    assert_eq!(
        promostack::db::settings::get(&old, "secret_key")
            .await
            .unwrap(),
        None,
        "moved out of the database"
    );
    upgraded.stop().await;
    old.close().await;
    db.close().await;
}

async fn host_aware_routing(backend: Backend) {
    let app = spawn_app_with(backend, |c| {
        c.admin_host = Some("admin.promostack.test".into());
        c.dash_host = Some("dash.promostack.test".into());
    })
    .await;
    app.login_admin().await;
    let on_host = |host: &'static str| {
        app.client
            .get(app.url("/api/admin/tenants"))
            .header("host", host)
            .send()
    };
    assert_eq!(
        on_host("admin.promostack.test").await.unwrap().status(),
        200
    );
    expect_error(
        on_host("dash.promostack.test").await.unwrap(),
        404,
        "not_found",
    )
    .await;
    // The dashboard shell is served on both hosts.
    let page = app
        .client
        .get(app.url("/"))
        .header("host", "dash.promostack.test")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
}

async fn operations_endpoints(backend: Backend) {
    let app = spawn_app(backend).await;
    assert_eq!(json(app.healthz().await, 200).await["status"], "ok");
    let ready = json(app.readyz().await, 200).await;
    assert_eq!(
        (ready["database"].as_str(), ready["storage"].as_str()),
        (Some("ok"), Some("ok"))
    );
    let response = app.healthz().await;
    assert!(response.headers().contains_key("x-request-id"));
    let doc = json(app.openapi().await, 200).await;
    assert!(doc["paths"]["/api/login"]["post"].is_object());
    assert!(doc["paths"]["/api/tenant/members/{id}"]["delete"].is_object());
    let metrics = app.metrics().await.text().await.unwrap();
    assert!(metrics.contains("http_requests_total"), "{metrics}");
    // Not without the token, nor with another one.
    let raw = reqwest::Client::new();
    expect_error(
        raw.get(app.url("/metrics")).send().await.unwrap(),
        401,
        "metrics_token_invalid",
    )
    .await;
    expect_error(
        raw.get(app.url("/metrics"))
            .bearer_auth("test-metrics-token-0123456788")
            .send()
            .await
            .unwrap(),
        401,
        "metrics_token_invalid",
    )
    .await;

    expect_error(app.system_status().await, 401, "unauthenticated").await;
    app.login_admin().await;
    let status = json(app.system_status().await, 200).await;
    assert_eq!(
        status["database"],
        match backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    );
    assert_eq!(status["storage"], "local");
    assert_eq!(status["features"]["telegram"]["enabled"], false);
    assert!(
        status["features"]["telegram"]["detail"]
            .as_str()
            .unwrap()
            .contains("TELEGRAM_BOT_TOKEN")
    );
    // The dashboard and login pages are embedded.
    for path in ["/", "/login"] {
        let page = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(page.status(), 200, "{path}");
    }
}

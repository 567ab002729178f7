//! Coupon validation through the HTTP API on both backends: the tenant's list (CRUD, import,
//! export), every check result, the FunderPro provider against the fake CRM (cache, outages,
//! fail open), enforcement in /api/render, tenant isolation and roles, bad input.
use std::time::Duration;

use promostack_testkit::clerk::{TwoTenants, spawn_app_with_clerk, two_tenants};
use promostack_testkit::funderpro::FakeFunderPro;
use promostack_testkit::images::demo_background;
use promostack_testkit::{
    Backend, TestApp, backend_tests, csv_attachment, expect_error, json, spawn_app, spawn_app_with,
};
use serde_json::{Value, json};

backend_tests!(
    list_crud_and_every_list_reason,
    import_and_export,
    bad_codes_and_bodies_are_refused,
    funderpro_provider_cache_and_outages,
    render_enforces_the_check,
    demo_codes_are_seeded,
    coupons_are_tenant_scoped,
    members_validate_but_only_admins_manage
);

async fn create(app: &TestApp, body: Value) -> Value {
    json(app.create_coupon(body).await, 201).await
}

async fn check(app: &TestApp, code: &str) -> Value {
    json(app.validate_coupon(code).await, 200).await
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

async fn list_crud_and_every_list_reason(backend: Backend) {
    let app = spawn_app(backend).await;
    app.login_admin().await;
    let settings = json(app.coupon_settings().await, 200).await;
    assert_eq!(settings["provider"], "list", "the embedded default");
    assert_eq!(settings["chosen"], false);
    assert_eq!(settings["failOpen"], false);
    assert_eq!(settings["funderpro"]["available"], false);

    // Nothing listed: every code is refused.
    let none = check(&app, "SAVE10").await;
    assert_eq!(none["valid"], false);
    assert_eq!(none["code"], "not_found");

    let created = create(
        &app,
        json!({"code": "  Save10 ", "discount": {"type": "percent", "value": 10}, "note": "launch"}),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["code"], "Save10", "trimmed, kept as typed");
    assert_eq!(created["active"], true);
    assert_eq!(created["status"], "active");
    expect_error(
        app.create_coupon(json!({"code": "SAVE10"})).await,
        409,
        "conflict",
    )
    .await;

    // Case-insensitive, trimmed, with the discount.
    for typed in ["SAVE10", "save10", " sAvE10 "] {
        let ok = check(&app, typed).await;
        assert_eq!(ok["valid"], true, "{typed}: {ok}");
        assert_eq!(ok["code"], "valid");
        assert_eq!(ok["discount"], json!({"type": "percent", "value": 10.0}));
        assert!(ok["reason"].as_str().unwrap().contains("10% off"), "{ok}");
    }

    // Deactivated, then expired, then live again with an amount discount.
    let inactive = json(
        app.update_coupon(&id, json!({"code": "SAVE10", "active": false}))
            .await,
        200,
    )
    .await;
    assert_eq!(inactive["status"], "inactive");
    assert!(
        inactive.get("discount").is_none(),
        "omitted fields are cleared"
    );
    let refused = check(&app, "save10").await;
    assert_eq!(
        (refused["valid"].clone(), refused["code"].clone()),
        (json!(false), json!("inactive"))
    );
    json(
        app.update_coupon(&id, json!({"code": "SAVE10", "expiresAt": now_ms() - 1000}))
            .await,
        200,
    )
    .await;
    assert_eq!(check(&app, "SAVE10").await["code"], "expired");
    json(
        app.update_coupon(
            &id,
            json!({"code": "SAVE10", "expiresAt": now_ms() + 86_400_000,
                   "discount": {"type": "amount", "value": 5, "currency": "usd"}}),
        )
        .await,
        200,
    )
    .await;
    let live = check(&app, "SAVE10").await;
    assert_eq!(live["valid"], true);
    assert_eq!(
        live["discount"],
        json!({"type": "amount", "value": 5.0, "currency": "USD"})
    );

    // Get, search, page.
    assert_eq!(json(app.get_coupon(&id).await, 200).await["code"], "SAVE10");
    create(
        &app,
        json!({"code": "WELCOME20", "note": "Newsletter signup"}),
    )
    .await;
    create(&app, json!({"code": "GOLD50"})).await;
    let all = json(app.list_coupons("").await, 200).await;
    assert_eq!(all["total"], 3);
    let codes: Vec<&str> = all["coupons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["GOLD50", "SAVE10", "WELCOME20"], "ordered by code");
    let by_code = json(app.list_coupons("?search=old").await, 200).await;
    assert_eq!(by_code["total"], 1);
    assert_eq!(by_code["coupons"][0]["code"], "GOLD50");
    let by_note = json(app.list_coupons("?search=NEWSLETTER").await, 200).await;
    assert_eq!(by_note["coupons"][0]["code"], "WELCOME20");
    let wildcard = json(app.list_coupons("?search=%25").await, 200).await;
    assert_eq!(wildcard["total"], 0, "LIKE wildcards are literal");
    let page = json(app.list_coupons("?limit=1&offset=1").await, 200).await;
    assert_eq!(page["coupons"].as_array().unwrap().len(), 1);
    assert_eq!(page["coupons"][0]["code"], "SAVE10");
    assert_eq!(page["total"], 3);
    assert_eq!(
        json(app.coupon_settings().await, 200).await["listedCodes"],
        3
    );

    // Renaming onto another code conflicts; delete; then it is unknown again.
    expect_error(
        app.update_coupon(&id, json!({"code": "gold50"})).await,
        409,
        "conflict",
    )
    .await;
    assert_eq!(app.delete_coupon(&id).await.status(), 204);
    expect_error(app.delete_coupon(&id).await, 404, "not_found").await;
    expect_error(app.get_coupon(&id).await, 404, "not_found").await;
    expect_error(
        app.update_coupon(&id, json!({"code": "X1"})).await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(check(&app, "SAVE10").await["code"], "not_found");

    // "Accept any code" only when chosen; back to the list afterwards.
    let any = json(app.update_coupon_settings("any", false).await, 200).await;
    assert_eq!(
        (any["provider"].clone(), any["chosen"].clone()),
        (json!("any"), json!(true))
    );
    let accepted = check(&app, "ANYTHING-GOES").await;
    assert_eq!(
        (accepted["valid"].clone(), accepted["code"].clone()),
        (json!(true), json!("accept_any"))
    );
    app.use_coupon_provider("list").await;
    assert_eq!(check(&app, "ANYTHING-GOES").await["code"], "not_found");
    // FunderPro cannot be chosen while it is not configured.
    expect_error(
        app.update_coupon_settings("funderpro", false).await,
        422,
        "validation_failed",
    )
    .await;
    expect_error(
        app.update_coupon_settings("crm", false).await,
        422,
        "validation_failed",
    )
    .await;
}

async fn import_and_export(backend: Backend) {
    let app = spawn_app(backend).await;
    app.login_admin().await;
    create(&app, json!({"code": "KEEP1"})).await;
    // A pasted list: one code per line, blank lines and comments skipped.
    let pasted = json(
        app.import_coupons("SAVE10\n\n welcome20 \r\n# old codes\nGOLD50\n")
            .await,
        200,
    )
    .await;
    assert_eq!(pasted, json!({"created": 3, "updated": 0}));
    assert_eq!(check(&app, "WELCOME20").await["valid"], true);

    // CSV with a header, quotes, and an update of an existing code (the last line wins).
    let csv = "code,discount_type,discount_value,currency,active,expires_at,note\n\
               SAVE10,percent,15,,true,2099-12-31,\"Spring, \"\"big\"\" one\"\n\
               NEW1,amount,5,EUR,no,,\n\
               new1,amount,7,EUR,yes,,second line wins\n";
    let result = json(app.import_coupons(csv).await, 200).await;
    assert_eq!(result, json!({"created": 1, "updated": 1}));
    let save10 = check(&app, "save10").await;
    assert_eq!(save10["discount"]["value"], 15.0);
    let new1 = check(&app, "NEW1").await;
    assert_eq!(new1["valid"], true);
    assert_eq!(
        new1["discount"],
        json!({"type": "amount", "value": 7.0, "currency": "EUR"})
    );

    // A bad line refuses the whole import, naming the line; nothing is written.
    let bad = expect_error(
        app.import_coupons("FRESH1\nFRESH2,percent,250\n").await,
        422,
        "validation_failed",
    )
    .await;
    assert!(bad["error"].as_str().unwrap().contains("line 2"), "{bad}");
    assert_eq!(
        check(&app, "FRESH1").await["code"],
        "not_found",
        "all or nothing"
    );
    for text in [
        "code,colour\nA,red",
        "\"UNCLOSED",
        "BAD CODE",
        "",
        "A,percent,ten",
    ] {
        expect_error(app.import_coupons(text).await, 422, "validation_failed").await;
    }

    // Export: the import format, every code, formula-like notes guarded.
    create(&app, json!({"code": "NOTE1", "note": "=1+1"})).await;
    let exported = csv_attachment(app.export_coupons().await, "coupons.csv").await;
    let mut lines = exported.lines();
    assert_eq!(
        lines.next(),
        Some("code,discount_type,discount_value,currency,active,expires_at,note")
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 6, "{exported}");
    assert!(
        rows.contains(
            &"SAVE10,percent,15,,true,2099-12-31T23:59:59.999Z,\"Spring, \"\"big\"\" one\""
        ),
        "{exported}"
    );
    assert!(rows.contains(&"NOTE1,,,,true,,'=1+1"), "{exported}");

    // Round trip into another workspace through a raw text/csv body.
    let other = app.create_tenant("Other", "other").await;
    app.use_tenant(Some(&other));
    let imported = app
        .request(reqwest::Method::POST, "/api/coupons/import")
        .header("content-type", "text/csv")
        .body(exported.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(
        json(imported, 200).await,
        json!({"created": 6, "updated": 0})
    );
    let again = app.export_coupons().await.text().await.unwrap();
    assert_eq!(again, exported, "export → import → export is stable");
    let wrong_type = app
        .request(reqwest::Method::POST, "/api/coupons/import")
        .header("content-type", "application/octet-stream")
        .body("A")
        .send()
        .await
        .unwrap();
    expect_error(wrong_type, 415, "unsupported_media_type").await;
}

async fn bad_codes_and_bodies_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    app.login_admin().await;
    let too_long = "X".repeat(65);
    for code in [
        "",
        "   ",
        "AB\u{7}C",
        "TAB\tIN",
        "GO🚀",
        "TWO WORDS",
        "A/B",
        too_long.as_str(),
    ] {
        expect_error(app.validate_coupon(code).await, 422, "validation_failed").await;
        expect_error(
            app.create_coupon(json!({"code": code})).await,
            422,
            "validation_failed",
        )
        .await;
    }
    assert_eq!(
        check(&app, &"X".repeat(64)).await["code"],
        "not_found",
        "64 is allowed"
    );
    for body in [
        json!({"code": "A", "discount": {"type": "percent", "value": 150}}),
        json!({"code": "A", "discount": {"type": "percent", "value": 0}}),
        json!({"code": "A", "discount": {"type": "amount", "value": 5, "currency": "DOLLARS"}}),
        json!({"code": "A", "discount": {"type": "bogus", "value": 5}}),
        json!({"code": "A", "expiresAt": -5}),
        json!({"code": "A", "note": "x".repeat(201)}),
        json!({"code": "A", "colour": "red"}),
        json!({"discount": null}),
    ] {
        expect_error(
            app.create_coupon(body.clone()).await,
            422,
            "validation_failed",
        )
        .await;
    }
    let raw = |path: &str, body: &'static str, content_type: &'static str| {
        app.request(reqwest::Method::POST, path)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    expect_error(
        raw("/api/validate-coupon", "{", "application/json")
            .await
            .unwrap(),
        400,
        "bad_request",
    )
    .await;
    expect_error(
        raw("/api/validate-coupon", "{}", "application/json")
            .await
            .unwrap(),
        422,
        "validation_failed",
    )
    .await;
    expect_error(
        raw("/api/validate-coupon", "{\"code\": 5}", "application/json")
            .await
            .unwrap(),
        422,
        "validation_failed",
    )
    .await;
    expect_error(
        raw("/api/validate-coupon", "code=A", "text/plain")
            .await
            .unwrap(),
        415,
        "unsupported_media_type",
    )
    .await;
    expect_error(app.list_coupons("?limit=abc").await, 400, "bad_request").await;
    expect_error(app.list_coupons("?colour=red").await, 400, "bad_request").await;
    let many: String = (0..10_001).map(|i| format!("C{i}\n")).collect();
    expect_error(app.import_coupons(&many).await, 422, "validation_failed").await;
    assert_eq!(
        json(app.list_coupons("").await, 200).await["total"],
        0,
        "nothing half-written"
    );
    // Over the import body limit (2 MB). Last: the server closes the connection after a 413
    // without reading the body, which would break the client's next pooled request.
    let huge = app
        .request(reqwest::Method::POST, "/api/coupons/import")
        .json(&json!({"text": "A\n".repeat(1_100_000)}))
        .send()
        .await
        .unwrap();
    expect_error(huge, 413, "payload_too_large").await;
    // Logged out: no access at all (a fresh client, so no cookie and a fresh connection).
    let anonymous = reqwest::Client::new()
        .post(app.url("/api/validate-coupon"))
        .json(&json!({"code": "SAVE10"}))
        .send()
        .await
        .unwrap();
    expect_error(anonymous, 401, "unauthenticated").await;
}

async fn funderpro_provider_cache_and_outages(backend: Backend) {
    let crm = FakeFunderPro::start().await;
    crm.add_active("FP10", 10.0);
    crm.add_with_status("OLD1", "expired");
    crm.add_with_status("OFF1", "inactive");
    crm.add_for_other_product("BIG200");
    crm.add_lapsed("LAPSED1");
    let app = spawn_app_with(backend, |c| crm.configure(c)).await;
    app.login_admin().await;

    // The default workspace uses the environment's FunderPro by default.
    let settings = json(app.coupon_settings().await, 200).await;
    assert_eq!(settings["provider"], "funderpro");
    assert_eq!(settings["chosen"], false);
    assert_eq!(settings["funderpro"]["available"], true);
    assert_eq!(settings["funderpro"]["productId"], "10k-challenge");
    assert_eq!(settings["funderpro"]["hasApiKey"], true);
    assert!(
        !settings.to_string().contains("fp-test-key"),
        "the key is never shown"
    );

    let ok = check(&app, "fp10").await;
    assert_eq!(ok["valid"], true, "{ok}");
    assert_eq!(ok["code"], "valid");
    assert_eq!(ok["discount"], json!({"type": "percent", "value": 10.0}));
    for (code, reason) in [
        ("NOPE", "not_found"),
        ("OLD1", "expired"),
        ("LAPSED1", "expired"),
        ("OFF1", "inactive"),
        ("BIG200", "not_for_product"),
    ] {
        let refused = check(&app, code).await;
        assert_eq!(refused["valid"], false, "{code}");
        assert_eq!(refused["code"], reason, "{code}: {refused}");
    }
    assert_eq!(crm.calls(), 6);
    assert_eq!(crm.unauthorised_calls(), 0, "the API key is sent");

    // Cached: valid and invalid answers are reused, per code key (case and spaces ignored).
    for code in ["FP10", " fp10", "NOPE", "nope"] {
        check(&app, code).await;
    }
    assert_eq!(crm.calls(), 6, "answered from the cache");

    // Outage: fail closed with a clear message; the outage is cached only briefly.
    crm.set_failing(true);
    let down = check(&app, "FRESH1").await;
    assert_eq!(down["valid"], false);
    assert_eq!(down["code"], "crm_unavailable");
    assert!(
        down["reason"]
            .as_str()
            .unwrap()
            .contains("try again in a minute"),
        "{down}"
    );
    assert_eq!(
        check(&app, "FP10").await["valid"],
        true,
        "a cached valid answer survives an outage"
    );
    let calls = crm.calls();
    check(&app, "FRESH1").await;
    assert_eq!(crm.calls(), calls, "a down CRM is not hammered");

    // Fail open when chosen: editing the settings drops the tenant's cached answers.
    let open = json(app.update_coupon_settings("funderpro", true).await, 200).await;
    assert_eq!(open["failOpen"], true);
    let unverified = check(&app, "FRESH1").await;
    assert_eq!(unverified["valid"], true);
    assert_eq!(unverified["code"], "unverified");
    assert_eq!(
        crm.calls(),
        calls + 1,
        "asked again after the settings changed"
    );

    // Slowness counts as down (the client gives up after 3 s).
    crm.set_failing(false);
    app.use_coupon_provider("funderpro").await;
    crm.set_delay(Duration::from_millis(3_500));
    let slow = check(&app, "SLOW1").await;
    assert_eq!(slow["code"], "crm_unavailable");
    crm.set_delay(Duration::ZERO);

    // Back up: answers are live again (after the settings edit cleared the cache).
    app.use_coupon_provider("funderpro").await;
    assert_eq!(check(&app, "OLD1").await["code"], "expired");

    // The list provider for this workspace ignores FunderPro entirely.
    app.use_coupon_provider("list").await;
    let calls = crm.calls();
    assert_eq!(check(&app, "FP10").await["code"], "not_found");
    assert_eq!(crm.calls(), calls);

    // Another workspace cannot use the environment's FunderPro.
    let other = app.create_tenant("Other", "other").await;
    app.use_tenant(Some(&other));
    let other_settings = json(app.coupon_settings().await, 200).await;
    assert_eq!(other_settings["provider"], "list");
    assert_eq!(other_settings["funderpro"]["available"], false);
    assert!(
        other_settings["funderpro"].get("apiUrl").is_none(),
        "{other_settings}"
    );
    expect_error(
        app.update_coupon_settings("funderpro", false).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(check(&app, "FP10").await["code"], "not_found");
}

async fn upload_template(app: &TestApp) -> String {
    let created = json(
        app.create_template("Coupon Check", &[("square", demo_background("square"))])
            .await,
        201,
    )
    .await;
    created["id"].as_str().unwrap().to_owned()
}

async fn render(app: &TestApp, template: &str, code: &str) -> reqwest::Response {
    app.render(json!({"template": template, "variant": "square", "code": code, "format": "jpeg"}))
        .await
}

async fn render_enforces_the_check(backend: Backend) {
    let crm = FakeFunderPro::start().await;
    crm.add_active("FP10", 10.0);
    let app = spawn_app_with(backend, |c| crm.configure(c)).await;
    app.login_admin().await;
    let template = upload_template(&app).await;

    // FunderPro (the default here): a live code renders, others are refused with the reason.
    let ok = render(&app, &template, "FP10").await;
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.headers()["content-type"], "image/jpeg");
    let refused = expect_error(render(&app, &template, "NOPE").await, 422, "invalid_coupon").await;
    assert_eq!(refused["reason"], "not_found");
    assert_eq!(refused["error"], "NOPE is not a valid code");
    crm.set_failing(true);
    let down = expect_error(
        render(&app, &template, "DOWN1").await,
        503,
        "crm_unavailable",
    )
    .await;
    assert!(
        down["error"].as_str().unwrap().contains("can't verify"),
        "{down}"
    );
    crm.set_failing(false);
    // Malformed codes are refused before any check.
    let calls = crm.calls();
    expect_error(
        render(&app, &template, "GO🚀").await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(crm.calls(), calls);

    // The list provider: listed and live codes only.
    app.use_coupon_provider("list").await;
    expect_error(render(&app, &template, "FP10").await, 422, "invalid_coupon").await;
    create(&app, json!({"code": "LIST10"})).await;
    assert_eq!(render(&app, &template, "list10").await.status(), 200);
    let listed = json(app.list_coupons("").await, 200).await;
    let id = listed["coupons"][0]["id"].as_str().unwrap().to_owned();
    json(
        app.update_coupon(&id, json!({"code": "LIST10", "active": false}))
            .await,
        200,
    )
    .await;
    let inactive = expect_error(
        render(&app, &template, "LIST10").await,
        422,
        "invalid_coupon",
    )
    .await;
    assert_eq!(inactive["reason"], "inactive", "edits take effect at once");
}

async fn demo_codes_are_seeded(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.demo_data = true).await;
    app.login_admin().await;
    let listed = json(app.list_coupons("").await, 200).await;
    let codes: Vec<&str> = listed["coupons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["GOLD50", "SAVE10", "WELCOME20"]);
    let welcome = check(&app, "welcome20").await;
    assert_eq!(welcome["valid"], true);
    assert_eq!(welcome["discount"]["value"], 20.0);
    // The demo templates render with a demo code.
    let templates = json(app.list_templates().await, 200).await;
    let first = templates["templates"][0]["id"].as_str().unwrap().to_owned();
    let variant = templates["templates"][0]["variants"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();
    let rendered = app
        .render(json!({"template": first, "variant": variant, "code": "GOLD50"}))
        .await;
    assert_eq!(rendered.status(), 200);
}

async fn coupons_are_tenant_scoped(backend: Backend) {
    let TwoTenants {
        app,
        clerk,
        a: a_id,
        b: b_id,
    } = two_tenants(backend).await;

    // A keeps its own list; B lists its own code and chooses "any".
    app.use_tenant(Some(&a_id));
    let a_code = create(&app, json!({"code": "ALPHA1"})).await;
    let a_coupon = a_code["id"].as_str().unwrap().to_owned();
    app.use_tenant(Some(&b_id));
    create(&app, json!({"code": "BRAVO1"})).await;
    app.use_coupon_provider("any").await;

    // Alice (owner of A) works in A only.
    let alice = clerk.token("alice@a.test");
    let as_alice =
        |method: reqwest::Method, path: &str, tenant: Option<&str>, body: Option<Value>| {
            let mut builder = app.request_as(&alice, method, path, tenant);
            if let Some(body) = body {
                builder = builder.json(&body);
            }
            builder.send()
        };
    use reqwest::Method as M;
    let listed = json(
        as_alice(M::GET, "/api/coupons", None, None).await.unwrap(),
        200,
    )
    .await;
    assert_eq!(listed["total"], 1);
    assert_eq!(listed["coupons"][0]["code"], "ALPHA1");
    let own = json(
        as_alice(
            M::POST,
            "/api/validate-coupon",
            None,
            Some(json!({"code": "ALPHA1"})),
        )
        .await
        .unwrap(),
        200,
    )
    .await;
    assert_eq!(own["valid"], true);
    let theirs = json(
        as_alice(
            M::POST,
            "/api/validate-coupon",
            None,
            Some(json!({"code": "BRAVO1"})),
        )
        .await
        .unwrap(),
        200,
    )
    .await;
    assert_eq!(theirs["code"], "not_found", "B's codes are not A's");
    let a_settings = json(
        as_alice(M::GET, "/api/coupon-settings", None, None)
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(
        a_settings["provider"], "list",
        "B's choice does not leak into A"
    );
    let export = as_alice(M::GET, "/api/coupons/export", None, None)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        export.contains("ALPHA1") && !export.contains("BRAVO1"),
        "{export}"
    );

    // Every route, addressed at B with Alice's credentials: refused.
    let b_routes: [(M, &str, Option<Value>); 10] = [
        (M::GET, "/api/coupons", None),
        (M::POST, "/api/coupons", Some(json!({"code": "EVIL1"}))),
        (M::GET, "/api/coupons/export", None),
        (
            M::POST,
            "/api/coupons/import",
            Some(json!({"text": "EVIL2"})),
        ),
        (M::GET, "/api/coupon-settings", None),
        (
            M::PUT,
            "/api/coupon-settings",
            Some(json!({"provider": "list"})),
        ),
        (
            M::POST,
            "/api/validate-coupon",
            Some(json!({"code": "BRAVO1"})),
        ),
        (M::GET, "/api/coupons/x", None),
        (M::PUT, "/api/coupons/x", Some(json!({"code": "EVIL3"}))),
        (M::DELETE, "/api/coupons/x", None),
    ];
    for (method, path, body) in b_routes {
        let response = as_alice(method.clone(), path, Some(&b_id), body)
            .await
            .unwrap();
        expect_error(response, 403, "forbidden").await;
    }

    // B's admin cannot reach A's coupon by id through B, on any id route.
    app.use_tenant(Some(&b_id));
    expect_error(app.get_coupon(&a_coupon).await, 404, "not_found").await;
    expect_error(
        app.update_coupon(&a_coupon, json!({"code": "HIJACK"}))
            .await,
        404,
        "not_found",
    )
    .await;
    expect_error(app.delete_coupon(&a_coupon).await, 404, "not_found").await;
    // An import in B with A's code creates B's own copy; A's row is untouched.
    assert_eq!(
        json(app.import_coupons("ALPHA1,percent,99").await, 200).await,
        json!({"created": 1, "updated": 0})
    );
    app.use_tenant(Some(&a_id));
    let a_row = json(app.get_coupon(&a_coupon).await, 200).await;
    assert!(a_row.get("discount").is_none(), "{a_row}");
    assert_eq!(json(app.list_coupons("").await, 200).await["total"], 1);
    // B's "any" does not apply to A.
    assert_eq!(check(&app, "WHATEVER").await["code"], "not_found");
}

async fn members_validate_but_only_admins_manage(backend: Backend) {
    let (app, clerk) = spawn_app_with_clerk(backend).await;
    json(app.add_member("mia@team.test", "member").await, 201).await;
    let listed = create(&app, json!({"code": "TEAM10"})).await;
    let id = listed["id"].as_str().unwrap().to_owned();
    let mia = clerk.token("mia@team.test");
    use reqwest::Method as M;
    let as_mia = |method: M, path: &str| app.request_as(&mia, method, path, None);
    let valid = json(
        as_mia(M::POST, "/api/validate-coupon")
            .json(&json!({"code": "team10"}))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(valid["valid"], true);
    assert_eq!(
        as_mia(M::GET, "/api/coupons")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        as_mia(M::GET, "/api/coupon-settings")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let coupon = format!("/api/coupons/{id}");
    for request in [
        as_mia(M::POST, "/api/coupons").json(&json!({"code": "MIA1"})),
        as_mia(M::PUT, &coupon).json(&json!({"code": "TEAM10", "active": false})),
        as_mia(M::DELETE, &coupon),
        as_mia(M::POST, "/api/coupons/import").json(&json!({"text": "MIA2"})),
        as_mia(M::PUT, "/api/coupon-settings").json(&json!({"provider": "any"})),
    ] {
        expect_error(request.send().await.unwrap(), 403, "forbidden").await;
    }
    assert_eq!(
        check(&app, "TEAM10").await["valid"],
        true,
        "nothing changed"
    );
    assert_eq!(
        json(app.coupon_settings().await, 200).await["provider"],
        "list"
    );
}

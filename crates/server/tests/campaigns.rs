//! Campaigns through the HTTP API on both backends: CRUD, status over (injected) time, the
//! public entry form's rules, overlays (local and S3 storage), review and CSV, tenant isolation.
use promostack::time::Clock;
use promostack_testkit::images::{frame_png, photo_png, png_claiming};
use promostack_testkit::{
    Backend, TestApp, backend_tests, csv_attachment, expect_error, json, spawn_app_with_clock,
};
use serde_json::{Value, json};

backend_tests!(
    campaign_crud,
    status_follows_the_clock,
    entry_links_are_checked,
    duplicate_links_conflict,
    entries_are_rate_limited_per_client,
    campaigns_are_tenant_scoped,
    overlay_uploads_are_checked,
    review_filter_and_csv_export,
    server_side_composite,
);

/// The test clock's start: 2027-01-15T08:00:00Z.
const T0: i64 = 1_800_000_000_000;
const HOUR: i64 = 3_600_000;

async fn app_at(backend: Backend, clock: &Clock) -> TestApp {
    let app = spawn_app_with_clock(backend, clock.clone(), |_| {}).await;
    app.login_admin().await;
    app
}

fn campaign_body(title: &str, starts_at: i64, ends_at: i64, platforms: &[&str]) -> Value {
    json!({
        "title": title,
        "description": "Post your photo with our frame and tag us.",
        "startsAt": starts_at,
        "endsAt": ends_at,
        "platforms": platforms,
    })
}

/// An active campaign (started an hour ago, ends in a day) on all platforms.
async fn active_campaign(app: &TestApp) -> String {
    let body = campaign_body(
        "Summer photo week",
        T0 - HOUR,
        T0 + 24 * HOUR,
        &[
            "instagram",
            "tiktok",
            "x",
            "facebook",
            "telegram",
            "youtube",
        ],
    );
    let created = json(app.create_campaign(body).await, 201).await;
    created["id"].as_str().unwrap().to_owned()
}

fn entry(url: &str) -> Value {
    json!({ "url": url })
}

fn decode(bytes: &[u8]) -> image::RgbaImage {
    image::load_from_memory(bytes).unwrap().to_rgba8()
}

async fn campaign_crud(backend: Backend) {
    let clock = Clock::fixed(T0);
    let app = app_at(backend, &clock).await;
    let empty = json(app.list_campaigns().await, 200).await;
    assert!(empty["campaigns"].as_array().unwrap().is_empty());

    let body = campaign_body(
        "  Launch week  ",
        T0 + HOUR,
        T0 + 3 * HOUR,
        &["x", "instagram", "x"],
    );
    let created = json(app.create_campaign(body).await, 201).await;
    let id = created["id"].as_str().unwrap();
    assert_eq!(created["title"], "Launch week", "trimmed");
    assert_eq!(
        created["platforms"],
        json!(["instagram", "x"]),
        "deduplicated, table order"
    );
    assert_eq!(created["status"], "upcoming");
    assert_eq!(created["entries"], 0);
    assert_eq!(created["overlay"], Value::Null);
    assert_eq!(created["publicPath"], format!("/campaign/{id}"));

    let fetched = json(app.get_campaign(id).await, 200).await;
    assert_eq!(fetched, created);
    let list = json(app.list_campaigns().await, 200).await;
    assert_eq!(list["campaigns"].as_array().unwrap().len(), 1);

    let replaced = json(
        app.update_campaign(
            id,
            campaign_body("Launch week 2", T0 - HOUR, T0 + HOUR, &["youtube"]),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(replaced["title"], "Launch week 2");
    assert_eq!(replaced["status"], "active");
    assert_eq!(replaced["platforms"], json!(["youtube"]));
    assert_eq!(replaced["createdAt"], created["createdAt"]);

    // Bad input: each a clear 422 and nothing changed.
    for bad in [
        campaign_body("", T0, T0 + HOUR, &["x"]),
        campaign_body(&"t".repeat(121), T0, T0 + HOUR, &["x"]),
        campaign_body("Line\nbreak", T0, T0 + HOUR, &["x"]),
        campaign_body("Backwards", T0 + HOUR, T0, &["x"]),
        campaign_body("Same", T0, T0, &["x"]),
        campaign_body("No platform", T0, T0 + HOUR, &[]),
        campaign_body("Unknown", T0, T0 + HOUR, &["myspace"]),
        json!({"title": "Long", "description": "d".repeat(2001), "startsAt": T0, "endsAt": T0 + HOUR, "platforms": ["x"]}),
    ] {
        expect_error(
            app.create_campaign(bad.clone()).await,
            422,
            "validation_failed",
        )
        .await;
        expect_error(app.update_campaign(id, bad).await, 422, "validation_failed").await;
    }
    expect_error(
        app.create_campaign(
            json!({"title": "x", "startsAt": T0, "endsAt": T0 + 1, "platforms": ["x"], "extra": 1}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        json(app.get_campaign(id).await, 200).await["title"],
        "Launch week 2"
    );

    // Delete: gone from every route, entries with it.
    let gone = app.delete_campaign(id).await;
    assert_eq!(gone.status(), 204);
    expect_error(app.get_campaign(id).await, 404, "not_found").await;
    expect_error(app.delete_campaign(id).await, 404, "not_found").await;
    expect_error(app.public_campaign(id).await, 404, "not_found").await;

    // Members read but do not write: the route table's roles apply (anonymous: 401).
    let anonymous = reqwest::Client::new();
    let r = anonymous
        .get(app.url("/api/campaigns"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

async fn status_follows_the_clock(backend: Backend) {
    let clock = Clock::fixed(T0);
    let app = app_at(backend, &clock).await;
    let body = campaign_body("Timed", T0 + HOUR, T0 + 2 * HOUR, &["instagram"]);
    let id = json(app.create_campaign(body).await, 201).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let status = |v: Value| v["status"].as_str().unwrap().to_owned();
    let url = "https://www.instagram.com/p/Timed1/";

    assert_eq!(
        status(json(app.get_campaign(&id).await, 200).await),
        "upcoming"
    );
    let public = json(app.public_campaign(&id).await, 200).await;
    assert_eq!(public["status"], "upcoming");
    assert_eq!(public["now"], T0, "the server's clock, for the countdown");
    let early = expect_error(
        app.submit_campaign_entry(&id, entry(url), None).await,
        409,
        "conflict",
    )
    .await;
    assert!(
        early["error"].as_str().unwrap().contains("not started"),
        "{early}"
    );

    clock.advance(HOUR); // exactly the start: open
    assert_eq!(
        status(json(app.get_campaign(&id).await, 200).await),
        "active"
    );
    json(app.submit_campaign_entry(&id, entry(url), None).await, 201).await;

    // A manual pause closes entries while the window is open; resuming reopens them.
    assert_eq!(
        status(json(app.pause_campaign(&id, true).await, 200).await),
        "paused"
    );
    assert_eq!(
        json(app.public_campaign(&id).await, 200).await["status"],
        "paused"
    );
    let paused = expect_error(
        app.submit_campaign_entry(&id, entry("https://instagram.com/p/Timed2"), None)
            .await,
        409,
        "conflict",
    )
    .await;
    assert!(
        paused["error"].as_str().unwrap().contains("paused"),
        "{paused}"
    );
    assert_eq!(
        status(json(app.pause_campaign(&id, false).await, 200).await),
        "active"
    );
    json(
        app.submit_campaign_entry(&id, entry("https://instagram.com/p/Timed2"), None)
            .await,
        201,
    )
    .await;

    clock.advance(HOUR - 1); // the last millisecond of the window
    assert_eq!(
        status(json(app.get_campaign(&id).await, 200).await),
        "active"
    );
    clock.advance(1); // the end is exclusive
    assert_eq!(
        status(json(app.get_campaign(&id).await, 200).await),
        "ended"
    );
    let late = expect_error(
        app.submit_campaign_entry(&id, entry("https://instagram.com/p/Timed3"), None)
            .await,
        409,
        "conflict",
    )
    .await;
    assert!(late["error"].as_str().unwrap().contains("ended"), "{late}");
    // Ended wins over paused.
    assert_eq!(
        status(json(app.pause_campaign(&id, true).await, 200).await),
        "ended"
    );

    let listed = json(app.list_campaigns().await, 200).await;
    assert_eq!(listed["campaigns"][0]["entries"], 2);
    assert_eq!(listed["campaigns"][0]["pending"], 2);
}

async fn entry_links_are_checked(backend: Backend) {
    let clock = Clock::fixed(T0);
    // Through a proxy: each case comes from its own address, so the table is not rate-limited.
    let app = spawn_app_with_clock(backend, clock.clone(), |c| c.trust_forwarded_for = true).await;
    app.login_admin().await;
    let all = active_campaign(&app).await;
    let ig_only = json(
        app.create_campaign(campaign_body(
            "IG only",
            T0 - HOUR,
            T0 + HOUR,
            &["instagram"],
        ))
        .await,
        201,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // (campaign, url, expected platform or None for a 422)
    let cases: Vec<(&str, &str, Option<&str>)> = vec![
        (&all, "https://www.instagram.com/p/C1/", Some("instagram")),
        (&all, "https://instagram.com/reel/C2", Some("instagram")),
        (&all, "https://www.tiktok.com/@ann/video/1", Some("tiktok")),
        (&all, "https://vm.tiktok.com/ZM1/", Some("tiktok")),
        (&all, "https://x.com/ann/status/1", Some("x")),
        (&all, "https://mobile.twitter.com/ann/status/2", Some("x")),
        (
            &all,
            "https://www.facebook.com/ann/posts/1",
            Some("facebook"),
        ),
        (
            &all,
            "https://m.facebook.com/story.php?id=2",
            Some("facebook"),
        ),
        (&all, "https://fb.watch/abc/", Some("facebook")),
        (&all, "https://t.me/channel/12", Some("telegram")),
        (&all, "https://www.youtube.com/watch?v=abc", Some("youtube")),
        (&all, "https://youtu.be/xyz", Some("youtube")),
        (&all, "https://m.youtube.com/shorts/s1", Some("youtube")),
        (&all, "HTTPS://WWW.INSTAGRAM.COM/p/C3", Some("instagram")),
        (&all, "http://instagram.com/p/C4", None),
        (&all, "ftp://instagram.com/p/C5", None),
        (&all, "javascript:alert(1)", None),
        (&all, "instagram.com/p/C6", None),
        (&all, "", None),
        (&all, "https://", None),
        (&all, "https://user:pw@instagram.com/p/C7", None),
        (&all, "https://evilinstagram.com/p/C8", None),
        (&all, "https://instagram.com.evil.example/p/C9", None),
        (&all, "https://example.com/instagram.com/p/C10", None),
        (&all, "https://127.0.0.1/p/C11", None),
        (&all, "https://www.instagram.com/", None),
        (&all, "https://telegram.org/blog", None),
        (&ig_only, "https://x.com/ann/status/3", None),
        (&ig_only, "https://www.tiktok.com/@ann/video/4", None),
        (&ig_only, "https://instagram.com/p/C12", Some("instagram")),
    ];
    let long = format!("https://instagram.com/p/{}", "a".repeat(2100));
    let mut cases = cases;
    cases.push((&all, &long, None));
    for (n, (campaign, url, expected)) in cases.iter().enumerate() {
        let ip = format!("10.9.{}.{}", n / 200, n % 200 + 1);
        let response = app
            .submit_campaign_entry(campaign, entry(url), Some(&ip))
            .await;
        match expected {
            Some(platform) => {
                let body = json(response, 201).await;
                assert_eq!(body["platform"], *platform, "{url}");
                assert_eq!(body["status"], "pending");
                assert!(
                    body.get("url").is_none(),
                    "the public answer echoes no entry data"
                );
            }
            None => {
                let body = expect_error(response, 422, "validation_failed").await;
                let _ = body;
            }
        }
    }

    // Optional fields: trimmed, bounded, single-line; emails must look like one.
    let ok = json!({"url": "https://x.com/a/status/99", "name": "  Ann <b>Lee</b> ", "handle": "@ann", "email": "Ann@Example.com"});
    json(
        app.submit_campaign_entry(&all, ok, Some("10.8.0.1")).await,
        201,
    )
    .await;
    for (i, bad) in [
        json!({"url": "https://x.com/a/status/100", "name": "n".repeat(81)}),
        json!({"url": "https://x.com/a/status/101", "handle": "h".repeat(65)}),
        json!({"url": "https://x.com/a/status/102", "email": "not-an-email"}),
        json!({"url": "https://x.com/a/status/103", "email": format!("{}@example.com", "e".repeat(250))}),
        json!({"url": "https://x.com/a/status/104", "name": "two\nlines"}),
        json!({"url": "https://x.com/a/status/105", "unexpected": true}),
    ]
    .into_iter()
    .enumerate()
    {
        let ip = format!("10.8.1.{}", i + 1);
        expect_error(app.submit_campaign_entry(&all, bad, Some(&ip)).await, 422, "validation_failed")
            .await;
    }
    let stored = json(
        app.list_campaign_submissions(&all, "?platform=x").await,
        200,
    )
    .await;
    let ann = stored["submissions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["url"] == "https://x.com/a/status/99")
        .unwrap();
    assert_eq!(
        ann["name"], "Ann <b>Lee</b>",
        "stored as text; the UI escapes it"
    );
    assert_eq!(ann["email"], "ann@example.com");

    // Unknown campaigns: 404, whatever the body.
    expect_error(
        app.submit_campaign_entry(
            "0192f0a1-0000-7000-8000-000000000000",
            entry("https://x.com/a/status/1"),
            Some("10.7.0.1"),
        )
        .await,
        404,
        "not_found",
    )
    .await;
}

async fn duplicate_links_conflict(backend: Backend) {
    let clock = Clock::fixed(T0);
    let app = app_at(backend, &clock).await;
    let id = active_campaign(&app).await;
    let other = active_campaign(&app).await;
    json(
        app.submit_campaign_entry(
            &id,
            entry("https://www.instagram.com/p/Dup1/?igsh=abc&utm_source=ig_web"),
            None,
        )
        .await,
        201,
    )
    .await;
    for same in [
        "https://instagram.com/p/Dup1",
        "https://INSTAGRAM.com/p/Dup1/",
        "https://m.instagram.com/p/Dup1?utm_campaign=x#comments",
        "https://www.instagram.com/p/Dup1/?fbclid=123",
    ] {
        let body = expect_error(
            app.submit_campaign_entry(&id, entry(same), None).await,
            409,
            "conflict",
        )
        .await;
        assert!(
            body["error"].as_str().unwrap().contains("already entered"),
            "{same}: {body}"
        );
    }
    // Path case and meaningful parameters make a different post; other campaigns are separate.
    json(
        app.submit_campaign_entry(&id, entry("https://instagram.com/p/DUP1"), None)
            .await,
        201,
    )
    .await;
    json(
        app.submit_campaign_entry(&other, entry("https://instagram.com/p/Dup1"), None)
            .await,
        201,
    )
    .await;
    json(
        app.submit_campaign_entry(&id, entry("https://youtube.com/watch?v=a1"), None)
            .await,
        201,
    )
    .await;
    json(
        app.submit_campaign_entry(&id, entry("https://youtube.com/watch?v=a2&si=z"), None)
            .await,
        201,
    )
    .await;
    expect_error(
        app.submit_campaign_entry(&id, entry("https://www.youtube.com/watch?si=q&v=a2"), None)
            .await,
        409,
        "conflict",
    )
    .await;
    let list = json(app.list_campaign_submissions(&id, "").await, 200).await;
    assert_eq!(list["submissions"].as_array().unwrap().len(), 4);
}

async fn entries_are_rate_limited_per_client(backend: Backend) {
    let clock = Clock::fixed(T0);
    let app = app_at(backend, &clock).await;
    let id = active_campaign(&app).await;
    // Every attempt counts, refused ones too.
    for n in 0..10 {
        let url = if n % 2 == 0 {
            format!("https://x.com/a/status/{n}")
        } else {
            format!("http://x.com/a/status/{n}")
        };
        let r = app.submit_campaign_entry(&id, entry(&url), None).await;
        assert!(
            r.status() == 201 || r.status() == 422,
            "{n}: {}",
            r.status()
        );
    }
    let limited = app
        .submit_campaign_entry(&id, entry("https://x.com/a/status/10"), None)
        .await;
    assert_eq!(limited.status(), 429);
    let retry: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0 && retry <= 600, "{retry}");
    expect_error(limited, 429, "rate_limited").await;
    // X-Forwarded-For is ignored unless TRUST_FORWARDED_FOR is set: the same client still.
    expect_error(
        app.submit_campaign_entry(&id, entry("https://x.com/a/status/11"), Some("203.0.113.9"))
            .await,
        429,
        "rate_limited",
    )
    .await;
    // The window passes: the budget is back.
    clock.advance(10 * 60 * 1000);
    json(
        app.submit_campaign_entry(&id, entry("https://x.com/a/status/12"), None)
            .await,
        201,
    )
    .await;

    // Behind a trusted proxy the right-most forwarded address is the client.
    let proxied =
        spawn_app_with_clock(backend, clock.clone(), |c| c.trust_forwarded_for = true).await;
    proxied.login_admin().await;
    let pid = active_campaign(&proxied).await;
    for n in 0..10 {
        let url = format!("https://t.me/c/{n}");
        json(
            proxied
                .submit_campaign_entry(&pid, entry(&url), Some("198.51.100.1, 192.0.2.7"))
                .await,
            201,
        )
        .await;
    }
    expect_error(
        proxied
            .submit_campaign_entry(&pid, entry("https://t.me/c/10"), Some("192.0.2.7"))
            .await,
        429,
        "rate_limited",
    )
    .await;
    json(
        proxied
            .submit_campaign_entry(&pid, entry("https://t.me/c/11"), Some("192.0.2.8"))
            .await,
        201,
    )
    .await;
}

async fn campaigns_are_tenant_scoped(backend: Backend) {
    let clock = Clock::fixed(T0);
    let app = app_at(backend, &clock).await;
    let a = active_campaign(&app).await;
    assert_eq!(
        app.upload_campaign_overlay(&a, frame_png(100, 100))
            .await
            .status(),
        200
    );
    let sub = json(
        app.submit_campaign_entry(&a, entry("https://x.com/a/status/1"), None)
            .await,
        201,
    )
    .await;
    let sub_id = sub["id"].as_str().unwrap().to_owned();

    let b = app.create_tenant("B", "tenant-b").await;
    app.use_tenant(Some(&b));
    let own = active_campaign(&app).await;
    let list = json(app.list_campaigns().await, 200).await;
    let ids: Vec<_> = list["campaigns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].clone())
        .collect();
    assert_eq!(ids, vec![json!(own)], "B sees only its own campaign");

    let body = campaign_body("Hijack", T0, T0 + HOUR, &["x"]);
    let unknown = "0192f0a1-0000-7000-8000-000000000000";
    for id in [a.as_str(), unknown] {
        expect_error(app.get_campaign(id).await, 404, "not_found").await;
        expect_error(
            app.update_campaign(id, body.clone()).await,
            404,
            "not_found",
        )
        .await;
        expect_error(app.pause_campaign(id, true).await, 404, "not_found").await;
        expect_error(
            app.upload_campaign_overlay(id, frame_png(50, 50)).await,
            404,
            "not_found",
        )
        .await;
        expect_error(app.campaign_overlay(id).await, 404, "not_found").await;
        expect_error(app.remove_campaign_overlay(id).await, 404, "not_found").await;
        expect_error(
            app.list_campaign_submissions(id, "").await,
            404,
            "not_found",
        )
        .await;
        expect_error(
            app.export_campaign_submissions(id, "").await,
            404,
            "not_found",
        )
        .await;
        expect_error(
            app.review_campaign_submission(id, &sub_id, "approved")
                .await,
            404,
            "not_found",
        )
        .await;
        expect_error(app.delete_campaign(id).await, 404, "not_found").await;
    }
    // B's own campaign id with A's submission id: still not found.
    expect_error(
        app.review_campaign_submission(&own, &sub_id, "approved")
            .await,
        404,
        "not_found",
    )
    .await;
    // Unknown ids on the public routes too.
    expect_error(app.public_campaign(unknown).await, 404, "not_found").await;
    expect_error(app.public_campaign_overlay(unknown).await, 404, "not_found").await;
    expect_error(
        app.submit_campaign_entry(unknown, entry("https://x.com/a/status/2"), None)
            .await,
        404,
        "not_found",
    )
    .await;
    expect_error(
        app.campaign_composite(unknown, photo_png(10, 10), "").await,
        404,
        "not_found",
    )
    .await;

    // A is untouched.
    app.use_tenant(None);
    let still = json(app.get_campaign(&a).await, 200).await;
    assert_eq!(still["title"], "Summer photo week");
    assert_eq!(still["status"], "active");
    assert_eq!(still["entries"], 1);
    assert!(still["overlay"].is_object());
    let subs = json(app.list_campaign_submissions(&a, "").await, 200).await;
    assert_eq!(subs["submissions"][0]["status"], "pending");
}

async fn overlay_uploads_are_checked(backend: Backend) {
    let clock = Clock::fixed(T0);
    let app = app_at(backend, &clock).await;
    let id = active_campaign(&app).await;
    let overlay = frame_png(600, 750);
    let with = json(app.upload_campaign_overlay(&id, overlay.clone()).await, 200).await;
    assert_eq!(with["overlay"], json!({"width": 600, "height": 750}));
    let stored = app.campaign_overlay(&id).await;
    assert_eq!(stored.headers()["content-type"], "image/png");
    assert_eq!(stored.bytes().await.unwrap().to_vec(), overlay);
    let public = app.public_campaign_overlay(&id).await;
    assert_eq!(public.status(), 200);
    assert_eq!(public.bytes().await.unwrap().to_vec(), overlay);
    let info = json(app.public_campaign(&id).await, 200).await;
    assert_eq!(info["overlay"]["width"], 600);
    assert!(info.get("entries").is_none(), "public fields only");

    // Bad uploads: refused, the current overlay stays.
    expect_error(
        app.upload_campaign_overlay(&id, b"<svg onload=alert(1)>".to_vec())
            .await,
        415,
        "unsupported_media_type",
    )
    .await;
    expect_error(
        app.upload_campaign_overlay(&id, b"GIF89a....".to_vec())
            .await,
        415,
        "unsupported_media_type",
    )
    .await;
    expect_error(
        app.upload_campaign_overlay(&id, Vec::new()).await,
        422,
        "validation_failed",
    )
    .await;
    expect_error(
        app.upload_campaign_overlay(&id, png_claiming(50_000, 50_000))
            .await,
        422,
        "validation_failed",
    )
    .await;
    expect_error(
        app.upload_campaign_overlay(&id, png_claiming(6000, 6000))
            .await,
        422,
        "validation_failed",
    )
    .await;
    let truncated = overlay[..overlay.len() / 2].to_vec();
    expect_error(
        app.upload_campaign_overlay(&id, truncated).await,
        422,
        "validation_failed",
    )
    .await;
    let mut oversized = overlay.clone();
    oversized.resize(11 * 1024 * 1024, 0);
    // The server answers 413 as soon as the limit is passed; it may close the connection
    // before the client has written the whole body (a broken pipe is a refusal too).
    let sent = app
        .request(
            reqwest::Method::PUT,
            &format!("/api/campaigns/{id}/overlay"),
        )
        .header("content-type", "image/png")
        // Not back into the pool: the server may close this connection mid-body.
        .header("connection", "close")
        .body(oversized)
        .send()
        .await;
    match sent {
        Ok(response) => {
            expect_error(response, 413, "payload_too_large").await;
        }
        Err(err) => assert!(err.is_request(), "{err}"),
    }
    assert_eq!(
        app.campaign_overlay(&id)
            .await
            .bytes()
            .await
            .unwrap()
            .to_vec(),
        overlay,
        "a refused upload leaves the overlay as it was"
    );

    // Replacing keeps exactly one object; removing leaves none and the tint fallback.
    let second = frame_png(300, 300);
    let replaced = json(app.upload_campaign_overlay(&id, second.clone()).await, 200).await;
    assert_eq!(replaced["overlay"]["width"], 300);
    let objects = objects_under(&app, &format!("campaigns/overlays/{id}"));
    assert_eq!(objects.len(), 1, "{objects:?}");
    let removed = json(app.remove_campaign_overlay(&id).await, 200).await;
    assert_eq!(removed["overlay"], Value::Null);
    expect_error(app.campaign_overlay(&id).await, 404, "not_found").await;
    expect_error(app.public_campaign_overlay(&id).await, 404, "not_found").await;
    assert!(objects_under(&app, &format!("campaigns/overlays/{id}")).is_empty());
}

/// Files of the local object store whose path contains `fragment`.
fn objects_under(app: &TestApp, fragment: &str) -> Vec<String> {
    let promostack::storage::StorageConfig::Local { root } = &app.config.storage else {
        unreachable!("local storage")
    };
    let mut found = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let s = path.to_string_lossy().into_owned();
                if s.contains(fragment) {
                    found.push(s);
                }
            }
        }
    }
    found
}

async fn review_filter_and_csv_export(backend: Backend) {
    let clock = Clock::fixed(T0);
    let app = app_at(backend, &clock).await;
    let id = active_campaign(&app).await;
    let mut ids = Vec::new();
    for (url, name) in [
        (
            "https://x.com/a/status/1",
            "=HYPERLINK(\"http://evil.example\",\"click\")",
        ),
        ("https://instagram.com/p/A1", "Ann, \"the\" photographer"),
        ("https://x.com/a/status/2", "+cmd|' /C calc'!A0"),
    ] {
        clock.advance(1000);
        let body = json!({"url": url, "name": name, "handle": "@handle"});
        let created = json(app.submit_campaign_entry(&id, body, None).await, 201).await;
        ids.push(created["id"].as_str().unwrap().to_owned());
    }
    let approved = json(
        app.review_campaign_submission(&id, &ids[0], "approved")
            .await,
        200,
    )
    .await;
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["reviewedAt"], T0 + 3000);
    json(
        app.review_campaign_submission(&id, &ids[1], "rejected")
            .await,
        200,
    )
    .await;
    expect_error(
        app.review_campaign_submission(&id, &ids[2], "winner").await,
        422,
        "validation_failed",
    )
    .await;
    expect_error(
        app.review_campaign_submission(&id, "nope", "approved")
            .await,
        404,
        "not_found",
    )
    .await;

    let count = |v: Value| v["submissions"].as_array().unwrap().len();
    assert_eq!(
        count(json(app.list_campaign_submissions(&id, "").await, 200).await),
        3
    );
    assert_eq!(
        count(json(app.list_campaign_submissions(&id, "?platform=x").await, 200).await),
        2
    );
    assert_eq!(
        count(
            json(
                app.list_campaign_submissions(&id, "?status=pending").await,
                200
            )
            .await
        ),
        1
    );
    let both = json(
        app.list_campaign_submissions(&id, "?platform=x&status=approved")
            .await,
        200,
    )
    .await;
    assert_eq!(both["submissions"][0]["id"], ids[0].as_str());
    assert_eq!(count(both), 1);
    let newest = json(app.list_campaign_submissions(&id, "").await, 200).await;
    assert_eq!(
        newest["submissions"][0]["id"],
        ids[2].as_str(),
        "newest first"
    );
    expect_error(
        app.list_campaign_submissions(&id, "?platform=myspace")
            .await,
        422,
        "validation_failed",
    )
    .await;
    expect_error(
        app.list_campaign_submissions(&id, "?status=won").await,
        422,
        "validation_failed",
    )
    .await;

    let text = csv_attachment(
        app.export_campaign_submissions(&id, "").await,
        &format!("campaign-{id}-entries.csv"),
    )
    .await;
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(
        lines[0],
        "submitted_at,platform,status,url,name,handle,email"
    );
    assert_eq!(lines.len(), 4);
    assert!(
        text.contains("\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\""),
        "{text}"
    );
    assert!(text.contains("'+cmd|' /C calc'!A0"), "{text}");
    assert!(text.contains("\"Ann, \"\"the\"\" photographer\""), "{text}");
    assert!(
        text.contains("'@handle"),
        "a leading @ is neutralised too: {text}"
    );
    for line in &lines[1..] {
        assert!(line.starts_with("2027-01-15T08:00:0"), "{line}");
    }
    let filtered = app
        .export_campaign_submissions(&id, "?status=rejected")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(filtered.split("\r\n").filter(|l| !l.is_empty()).count(), 2);
}

async fn server_side_composite(backend: Backend) {
    let clock = Clock::fixed(T0);
    let app = app_at(backend, &clock).await;
    let id = active_campaign(&app).await;
    let photo = photo_png(400, 200);

    // Without an overlay: 1080×1080 with the red tint over the cover-fitted photo.
    let tinted = app.campaign_composite(&id, photo.clone(), "").await;
    assert_eq!(tinted.status(), 200);
    assert_eq!(tinted.headers()["content-type"], "image/png");
    let img = decode(&tinted.bytes().await.unwrap());
    assert_eq!(img.dimensions(), (1080, 1080));
    let left = img.get_pixel(100, 540).0;
    let right = img.get_pixel(980, 540).0;
    assert!(
        left[0] > 60 && left[1] > 100,
        "green under red tint: {left:?}"
    );
    assert!(
        right[0] > 60 && right[2] > 100,
        "blue under red tint: {right:?}"
    );

    // With an overlay: its size, its frame on top, the photo inside; the offset moves it.
    app.upload_campaign_overlay(&id, frame_png(500, 500)).await;
    let framed = decode(
        &app.campaign_composite(&id, photo.clone(), "")
            .await
            .bytes()
            .await
            .unwrap(),
    );
    assert_eq!(framed.dimensions(), (500, 500));
    assert_eq!(
        framed.get_pixel(10, 250).0,
        [255, 255, 255, 255],
        "frame on top"
    );
    let centre = framed.get_pixel(240, 250).0;
    assert!(
        centre[1] > 150 && centre[2] < 50,
        "green left of centre: {centre:?}"
    );
    // Pushed right by a quarter width: the left (green) half covers the centre's right side.
    let moved = decode(
        &app.campaign_composite(&id, photo.clone(), "?x=0.25")
            .await
            .bytes()
            .await
            .unwrap(),
    );
    let p = moved.get_pixel(300, 250).0;
    assert!(p[1] > 150 && p[2] < 50, "{p:?}");
    let zoomed = app
        .campaign_composite(&id, photo.clone(), "?zoom=2&x=-0.1&y=0.1")
        .await;
    assert_eq!(zoomed.status(), 200);

    // Bad photos.
    expect_error(
        app.campaign_composite(&id, b"not an image".to_vec(), "")
            .await,
        415,
        "unsupported_media_type",
    )
    .await;
    expect_error(
        app.campaign_composite(&id, png_claiming(60_000, 60_000), "")
            .await,
        422,
        "validation_failed",
    )
    .await;
    expect_error(
        app.campaign_composite(&id, Vec::new(), "").await,
        422,
        "validation_failed",
    )
    .await;
    expect_error(
        app.campaign_composite(&id, photo, "?zoom=abc").await,
        400,
        "bad_request",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn campaign_overlay_on_s3_storage() {
    let clock = Clock::fixed(T0);
    let app = spawn_app_with_clock(Backend::Sqlite, clock, |c| {
        c.storage = promostack_testkit::s3_storage_config()
    })
    .await;
    app.login_admin().await;
    let id = active_campaign(&app).await;
    let overlay = frame_png(320, 400);
    let with = json(app.upload_campaign_overlay(&id, overlay.clone()).await, 200).await;
    assert_eq!(with["overlay"]["height"], 400);
    assert_eq!(
        app.public_campaign_overlay(&id)
            .await
            .bytes()
            .await
            .unwrap()
            .to_vec(),
        overlay
    );
    let framed = decode(
        &app.campaign_composite(&id, photo_png(64, 64), "")
            .await
            .bytes()
            .await
            .unwrap(),
    );
    assert_eq!(framed.dimensions(), (320, 400));
    let second = frame_png(100, 100);
    json(app.upload_campaign_overlay(&id, second.clone()).await, 200).await;
    assert_eq!(
        app.campaign_overlay(&id)
            .await
            .bytes()
            .await
            .unwrap()
            .to_vec(),
        second
    );

    // In the bucket: one object under the campaign's overlay prefix (the old one was removed).
    let tenant = json(app.get_tenant().await, 200).await;
    let prefix = format!(
        "tenants/{}/campaigns/overlays/{id}",
        tenant["id"].as_str().unwrap()
    );
    let bucket = promostack::storage::Storage::open(&promostack_testkit::s3_storage_config())
        .await
        .unwrap();
    let keys = bucket.list(&prefix).await.unwrap();
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert_eq!(
        bucket.get(&keys[0]).await.unwrap().unwrap().to_vec(),
        second
    );

    assert_eq!(app.delete_campaign(&id).await.status(), 204);
    expect_error(app.public_campaign_overlay(&id).await, 404, "not_found").await;
    assert!(
        bucket.list(&prefix).await.unwrap().is_empty(),
        "deleted with the campaign"
    );
}

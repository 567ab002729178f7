//! The process-wide render budget under a hostile burst (its own test binary, so the process's
//! peak RSS is this app's): a logo that declares 6000×6000 is refused from its header (422), a
//! background over 16 MP is refused on upload, and a burst of renders with unique logos on a
//! 9 MP template queues within the budget and is turned away with 503 + `retry-after` past
//! the wait — with the process's peak RSS under 512 MB.
use base64::Engine;
use promostack::config::RenderBudgetConfig;
use promostack_testkit::images::{frame_png, photo_png, png_claiming};
use promostack_testkit::{Backend, expect_error, json, spawn_app_with};
use serde_json::json;

fn peak_rss_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("VmHWM");
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib / 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_renders_are_bounded() {
    let app = spawn_app_with(Backend::Sqlite, |c| {
        c.render_budget = RenderBudgetConfig {
            slots: 1,
            bytes: 64 * 1024 * 1024,
            wait_ms: 200,
        };
    })
    .await;
    app.login_admin().await;
    // About rendering, not coupon checks.
    app.use_coupon_provider("any").await;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);

    // Over 16 MP: refused on upload, nothing decoded.
    let huge = photo_png(5_000, 5_000);
    expect_error(
        app.create_template("Huge", &[("square", &huge)]).await,
        422,
        "validation_failed",
    )
    .await;
    let big = photo_png(3_000, 3_000);
    let created = json(app.create_template("Big", &[("square", &big)]).await, 201).await;
    let id = created["id"].as_str().unwrap().to_owned();

    // A logo that declares 6000×6000 (36 MP): refused from the header.
    let bomb = app
        .render(json!({"template": id, "variant": "square", "code": "BOOM", "logo": b64(&png_claiming(6_000, 6_000))}))
        .await;
    let refused = expect_error(bomb, 422, "validation_failed").await;
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("logo is 6000x6000"),
        "{refused}"
    );

    // A burst, every render with a unique logo (no cache hit): admitted one at a time, the
    // rest turned away with 503 + retry-after once the wait is over.
    let renders = (0..32u32).map(|i| {
        let logo = b64(&frame_png(64 + i, 64));
        app.render(json!({"template": id, "variant": "square", "code": format!("HOSTILE{i}"), "logo": logo}))
    });
    let answers = futures_util::future::join_all(renders).await;
    let mut ok = 0;
    let mut busy = 0;
    for answer in answers {
        match answer.status().as_u16() {
            200 => ok += 1,
            503 => {
                let retry = answer.headers()["retry-after"].to_str().unwrap().to_owned();
                assert!(retry.parse::<u64>().unwrap() >= 1, "retry-after {retry}");
                let body: serde_json::Value = answer.json().await.unwrap();
                assert_eq!(body["code"], "overloaded", "{body}");
                busy += 1;
            }
            other => panic!("unexpected {other}: {}", answer.text().await.unwrap()),
        }
    }
    assert!(ok >= 1 && busy >= 1, "{ok} rendered, {busy} turned away");
    let peak = peak_rss_mib();
    eprintln!("hostile burst: {ok} rendered, {busy} turned away, peak RSS {peak} MiB");
    assert!(peak < 512, "peak RSS {peak} MiB");
    // The budget is free again afterwards.
    let after = app
        .render(json!({"template": id, "variant": "square", "code": "AFTER"}))
        .await;
    assert_eq!(after.status(), 200);
    app.stop().await;
}

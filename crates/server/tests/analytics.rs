//! Bot analytics through the HTTP API on both backends, on a fixed clock: the series zero-fill
//! and both granularities, time-zone bucketing on DST days, popular codes (pagination, search,
//! CSV), bad input and tenant isolation.
use promostack::time::Clock;
use promostack_testkit::broadcast::{Usage, seed_db, seed_usage};
use promostack_testkit::{
    Backend, TestApp, backend_tests, expect_error, json, spawn_app_with_clock,
};
use serde_json::{Value, json};

backend_tests!(
    series_zero_fill_and_granularity,
    buckets_follow_the_tenant_time_zone,
    popular_codes_pages_search_and_csv,
    bad_analytics_input,
    analytics_are_tenant_scoped
);

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

fn ms(s: &str) -> i64 {
    s.parse::<jiff::Timestamp>().unwrap().as_millisecond()
}

async fn app_at(backend: Backend, now: &str) -> TestApp {
    let app = spawn_app_with_clock(backend, Clock::fixed(ms(now)), |_| {}).await;
    app.login_admin().await;
    app
}

async fn tenant_id(app: &TestApp) -> String {
    json(app.get_tenant().await, 200).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn counts(stats: &Value) -> Vec<i64> {
    stats["daily_usage"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["count"].as_i64().unwrap())
        .collect()
}

async fn series_zero_fill_and_granularity(backend: Backend) {
    let app = app_at(backend, "2026-03-10T15:30:00Z").await;
    let tenant = tenant_id(&app).await;
    let db = seed_db(&app.config.database);
    let today = ms("2026-03-10T00:00:00Z");
    seed_usage(
        &db,
        &tenant,
        &[
            Usage::new(1, "spring", "SAVE10", true, today + 9 * HOUR + 600_000),
            Usage::new(1, "spring", "SAVE10", true, today + 9 * HOUR + 1_200_000),
            Usage::new(2, "gold", "BAD", false, today + 9 * HOUR + 3_000_000),
            Usage::new(
                3,
                "spring",
                "WELCOME20",
                true,
                today + 14 * HOUR + 3_599_000,
            ),
            Usage::new(4, "gold", "GOLD50", true, today - 1_800_000),
            Usage::new(5, "gold", "GOLD50", true, today - 3 * DAY + HOUR),
            Usage::new(6, "spring", "OLD", true, today - 40 * DAY),
            // After "now" but still today: counted in today's window.
            Usage::new(7, "spring", "LATER", true, today + 20 * HOUR),
        ],
    )
    .await;

    let stats = json(app.bot_stats("today").await, 200).await;
    assert_eq!(stats["granularity"], "hourly");
    assert_eq!(stats["days"], "today");
    let series = stats["daily_usage"].as_array().unwrap();
    assert_eq!(series.len(), 24);
    for (hour, point) in series.iter().enumerate() {
        assert_eq!(point["label"], format!("{hour:02}:00"));
        assert_eq!(point["date"], format!("2026-03-10T{hour:02}:00"));
    }
    let mut expected = vec![0; 24];
    expected[9] = 3;
    expected[14] = 1;
    expected[20] = 1;
    assert_eq!(counts(&stats), expected);
    assert_eq!(stats["total_generations"], 5);
    assert_eq!(stats["successful_generations"], 4);
    assert_eq!(stats["unique_users"], 4);
    assert_eq!(stats["success_rate"], 80.0);
    assert_eq!(stats["top_templates"][0]["template"], "spring");
    assert_eq!(stats["top_templates"][0]["count"], 4);
    assert_eq!(stats["top_templates"][1]["template"], "gold");
    assert_eq!(stats["top_templates"][1]["success_rate"], 0.0);
    assert_eq!(stats["popular_codes"][0]["code"], "SAVE10");
    assert_eq!(stats["popular_codes"][0]["count"], 2);
    assert_eq!(stats["popular_codes"][0]["users"], 1);
    assert_eq!(stats["popular_codes_total"], 4);

    let stats = json(app.bot_stats("yesterday").await, 200).await;
    assert_eq!(stats["granularity"], "hourly");
    let mut expected = vec![0; 24];
    expected[23] = 1;
    assert_eq!(counts(&stats), expected);
    assert_eq!(stats["daily_usage"][0]["date"], "2026-03-09T00:00");

    let stats = json(app.bot_stats("7").await, 200).await;
    assert_eq!(stats["granularity"], "daily");
    let series = stats["daily_usage"].as_array().unwrap();
    assert_eq!(series.len(), 7);
    assert_eq!(series[0]["date"], "2026-03-04");
    assert_eq!(series[0]["label"], "Mar 04");
    assert_eq!(series[6]["date"], "2026-03-10");
    assert_eq!(counts(&stats), vec![0, 0, 0, 1, 0, 1, 5]);
    assert_eq!(stats["total_generations"], 7);

    let stats = json(app.bot_stats("30").await, 200).await;
    assert_eq!(stats["daily_usage"].as_array().unwrap().len(), 30);
    assert_eq!(stats["total_generations"], 7);
    let stats = json(app.bot_stats("90").await, 200).await;
    assert_eq!(stats["daily_usage"].as_array().unwrap().len(), 90);
    assert_eq!(stats["total_generations"], 8);
    assert_eq!(stats["unique_users"], 7);

    // An empty window is all zeros, not an error.
    app.use_tenant(None);
    let b = json(
        app.admin_create_tenant("Empty", "empty-co", None).await,
        201,
    )
    .await;
    app.use_tenant(b["id"].as_str());
    let stats = json(app.bot_stats("today").await, 200).await;
    assert_eq!(counts(&stats), vec![0; 24]);
    assert_eq!(stats["success_rate"], 0.0);
    assert_eq!(stats["popular_codes"], json!([]));
}

async fn buckets_follow_the_tenant_time_zone(backend: Backend) {
    // 2026-03-08 is the spring-forward day in New York (02:00 EST -> 03:00 EDT).
    let app = app_at(backend, "2026-03-08T18:00:00Z").await;
    let tenant = tenant_id(&app).await;
    json(
        app.update_tenant(json!({"timezone": "America/New_York"}))
            .await,
        200,
    )
    .await;
    let db = seed_db(&app.config.database);
    seed_usage(
        &db,
        &tenant,
        &[
            // 2026-03-07 23:59 EST: yesterday in New York, today in UTC.
            Usage::new(1, "a", "X", true, ms("2026-03-08T04:59:00Z")),
            // 00:00 EST
            Usage::new(1, "a", "X", true, ms("2026-03-08T05:00:00Z")),
            // 01:45 EST
            Usage::new(2, "a", "X", true, ms("2026-03-08T06:45:00Z")),
            // 03:10 EDT
            Usage::new(3, "a", "X", true, ms("2026-03-08T07:10:00Z")),
            // 23:30 EDT, the last minutes of the local day.
            Usage::new(4, "a", "X", true, ms("2026-03-09T03:30:00Z")),
        ],
    )
    .await;
    let stats = json(app.bot_stats("today").await, 200).await;
    assert_eq!(stats["timezone"], "America/New_York");
    assert_eq!(
        stats["end"].as_i64().unwrap() - stats["start"].as_i64().unwrap(),
        23 * HOUR
    );
    let mut expected = vec![0; 24];
    expected[0] = 1;
    expected[1] = 1;
    expected[3] = 1;
    expected[23] = 1;
    assert_eq!(counts(&stats), expected, "{}", stats["daily_usage"]);
    let stats = json(app.bot_stats("yesterday").await, 200).await;
    assert_eq!(counts(&stats)[23], 1);
    let stats = json(app.bot_stats("7").await, 200).await;
    assert_eq!(stats["daily_usage"][6]["date"], "2026-03-08");
    assert_eq!(counts(&stats)[5..], [1, 4]);

    // The same rows read in Kathmandu (+05:45): 04:59Z is 10:44 and 05:00Z 10:45 local.
    json(
        app.update_tenant(json!({"timezone": "Asia/Kathmandu"}))
            .await,
        200,
    )
    .await;
    let stats = json(app.bot_stats("today").await, 200).await;
    let c = counts(&stats);
    assert_eq!(c[10], 2, "{c:?}");
    assert_eq!(c[12], 2, "06:45Z = 12:30, 07:10Z = 12:55");
    assert_eq!(stats["total_generations"], 4);
}

async fn popular_codes_pages_search_and_csv(backend: Backend) {
    let app = app_at(backend, "2026-03-10T15:30:00Z").await;
    let tenant = tenant_id(&app).await;
    let db = seed_db(&app.config.database);
    let at = ms("2026-03-10T10:00:00Z");
    let mut rows = Vec::new();
    // CODE000 used 120 times ... CODE119 once: a strict order by use.
    for i in 0..120i64 {
        for n in 0..(120 - i) {
            rows.push(Usage::new(
                n % 7,
                "t",
                &format!("CODE{i:03}"),
                n % 3 != 0,
                at + n,
            ));
        }
    }
    rows.push(Usage::new(1, "t", "=HYPERLINK(\"http://x\")", true, at));
    rows.push(Usage::new(1, "t", "50%_OFF", true, at));
    seed_usage(&db, &tenant, &rows).await;

    let page = json(app.bot_codes("7", "", "1").await, 200).await;
    assert_eq!(page["total"], 122);
    assert_eq!(page["pages"], 3);
    assert_eq!(page["per_page"], 50);
    let codes = page["codes"].as_array().unwrap();
    assert_eq!(codes.len(), 50);
    assert_eq!(codes[0]["code"], "CODE000");
    assert_eq!(codes[0]["count"], 120);
    assert_eq!(codes[0]["successes"], 80);
    assert_eq!(codes[49]["code"], "CODE049");
    let last = json(app.bot_codes("7", "", "3").await, 200).await;
    assert_eq!(last["codes"].as_array().unwrap().len(), 22);
    let err = expect_error(app.bot_codes("7", "", "4").await, 400, "bad_request").await;
    assert!(
        err["error"].as_str().unwrap().contains("out of range"),
        "{err}"
    );
    expect_error(app.bot_codes("7", "", "0").await, 400, "bad_request").await;
    expect_error(app.bot_codes("7", "", "two").await, 400, "bad_request").await;

    // Search is case-insensitive; LIKE wildcards in the search are literal.
    let found = json(app.bot_codes("7", "code11", "1").await, 200).await;
    let names: Vec<&str> = found["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        (110..120).map(|i| format!("CODE{i}")).collect::<Vec<_>>()
    );
    let literal = json(app.bot_codes("7", "%_", "1").await, 200).await;
    assert_eq!(literal["total"], 1);
    assert_eq!(literal["codes"][0]["code"], "50%_OFF");
    let none = json(app.bot_codes("7", "nothing-like-it", "1").await, 200).await;
    assert_eq!(none["total"], 0);
    assert_eq!(none["pages"], 1);

    let response = app.bot_codes_csv("7", "").await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let csv = response.text().await.unwrap();
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines[0], "code,generations,successful,users,last_used");
    assert_eq!(lines.len(), 123, "header + every code");
    assert!(
        lines[1].starts_with("CODE000,120,80,7,2026-03-10T10:00:00"),
        "{}",
        lines[1]
    );
    assert!(
        lines.contains(&"\"'=HYPERLINK(\"\"http://x\"\")\",1,1,1,2026-03-10T10:00:00+00:00"),
        "formula cells are defused: {csv}"
    );
    let filtered = app.bot_codes_csv("7", "code00").await.text().await.unwrap();
    assert_eq!(filtered.split("\r\n").filter(|l| !l.is_empty()).count(), 11);
}

async fn bad_analytics_input(backend: Backend) {
    let app = app_at(backend, "2026-03-10T15:30:00Z").await;
    for days in ["8", "abc", "-1", "365", "today%20or%201=1"] {
        let err = expect_error(app.bot_stats(days).await, 400, "bad_request").await;
        assert!(
            err["error"]
                .as_str()
                .unwrap()
                .contains("today, yesterday, 7, 30 or 90")
        );
        expect_error(app.bot_codes(days, "", "1").await, 400, "bad_request").await;
        expect_error(app.bot_codes_csv(days, "").await, 400, "bad_request").await;
    }
    let long = "x".repeat(65);
    expect_error(app.bot_codes("7", &long, "1").await, 400, "bad_request").await;
    expect_error(app.bot_codes_csv("7", &long).await, 400, "bad_request").await;
    // Signed out: 401, not data.
    app.logout().await;
    expect_error(app.bot_stats("7").await, 401, "unauthenticated").await;
}

async fn analytics_are_tenant_scoped(backend: Backend) {
    let app = app_at(backend, "2026-03-10T15:30:00Z").await;
    let tenant = tenant_id(&app).await;
    let db = seed_db(&app.config.database);
    seed_usage(
        &db,
        &tenant,
        &[Usage::new(
            1,
            "secret-template",
            "SECRET-CODE",
            true,
            ms("2026-03-10T10:00:00Z"),
        )],
    )
    .await;
    assert_eq!(
        json(app.bot_stats("today").await, 200).await["total_generations"],
        1
    );
    let b = json(app.admin_create_tenant("B", "tenant-b", None).await, 201).await;
    app.use_tenant(b["id"].as_str());
    for days in ["today", "7", "90"] {
        let stats = json(app.bot_stats(days).await, 200).await;
        assert_eq!(stats["total_generations"], 0);
        assert_eq!(stats["unique_users"], 0);
        assert_eq!(stats["top_templates"], json!([]));
        assert_eq!(stats["popular_codes"], json!([]));
    }
    assert_eq!(
        json(app.bot_codes("90", "", "1").await, 200).await["total"],
        0
    );
    let csv = app
        .bot_codes_csv("90", "SECRET")
        .await
        .text()
        .await
        .unwrap();
    assert!(!csv.contains("SECRET-CODE"), "{csv}");
}

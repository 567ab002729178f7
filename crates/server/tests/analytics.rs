//! Bot analytics through the HTTP API on both backends, on a fixed clock: the series zero-fill
//! and both granularities, time-zone bucketing on DST days, popular codes (pagination, search,
//! CSV), bad input and tenant isolation.
use jiff::tz::TimeZone;
use promostack::db::{Affected, Db};
use promostack::domains::analytics::range::{Range, Window};
use promostack::ids::TenantId;
use promostack::time::Clock;
use promostack_testkit::broadcast::{Usage, seed_db, seed_usage};
use promostack_testkit::{
    Backend, TestApp, backend_tests, csv_attachment, expect_error, json, spawn_app_with_clock,
};
use serde_json::{Value, json};

backend_tests!(
    series_zero_fill_and_granularity,
    buckets_follow_the_tenant_time_zone,
    popular_codes_pages_search_and_csv,
    bad_analytics_input,
    analytics_are_tenant_scoped,
    rollups_match_raw_rows_in_every_zone,
    backfilled_and_recorded_rows_count_once,
    rebuild_rollups_command_repairs_raw_rows
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
    let tenant = app.tenant_id().await;
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
    let b = app.create_tenant("Empty", "empty-co").await;
    app.use_tenant(Some(&b));
    let stats = json(app.bot_stats("today").await, 200).await;
    assert_eq!(counts(&stats), vec![0; 24]);
    assert_eq!(stats["success_rate"], 0.0);
    assert_eq!(stats["popular_codes"], json!([]));
}

async fn buckets_follow_the_tenant_time_zone(backend: Backend) {
    // 2026-03-08 is the spring-forward day in New York (02:00 EST -> 03:00 EDT).
    let app = app_at(backend, "2026-03-08T18:00:00Z").await;
    let tenant = app.tenant_id().await;
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
    let tenant = app.tenant_id().await;
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

    let csv = csv_attachment(app.bot_codes_csv("7", "").await, "coupon-codes-7.csv").await;
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
    let tenant = app.tenant_id().await;
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
    let b = app.create_tenant("B", "tenant-b").await;
    app.use_tenant(Some(&b));
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

/// The report computed straight from the raw `bot_usage` rows with the queries analytics ran
/// before the rollups existed: the specification the rollup-backed answers must equal.
mod oracle {
    use super::*;

    fn percent(part: i64, whole: i64) -> f64 {
        if whole == 0 {
            0.0
        } else {
            (part as f64 * 1000.0 / whole as f64).round() / 10.0
        }
    }

    /// Every code matching `pattern` (a LIKE pattern) in the window, in report order:
    /// `{code, count, successes, users, last_used}`.
    pub async fn codes(db: &Db, tenant: &str, w: &Window, pattern: &str) -> Vec<Value> {
        let rows: Vec<(String, i64, i64, i64, i64)> = promostack::on_pool!(db, pool => sqlx::query_as(
            "SELECT code, COUNT(*) AS generations, CAST(SUM(CASE WHEN success THEN 1 ELSE 0 END) AS BIGINT) AS successes, \
                    COUNT(DISTINCT user_id) AS users, MAX(created_at) AS last_used \
             FROM bot_usage \
             WHERE tenant_id = $1 AND code IS NOT NULL AND created_at >= $2 AND created_at < $3 \
               AND LOWER(code) LIKE $4 ESCAPE '\\' \
             GROUP BY code ORDER BY generations DESC, code"
        ).bind(tenant).bind(w.start).bind(w.end).bind(pattern).fetch_all(pool).await)
        .unwrap();
        rows.into_iter()
            .map(|(code, count, successes, users, last_used)| {
                json!({"code": code, "count": count, "successes": successes, "users": users, "last_used": last_used})
            })
            .collect()
    }

    /// The `/api/bot-stats` payload for `w`.
    pub async fn stats(db: &Db, tenant: &str, w: &Window) -> Value {
        let (from, to) = w.slots();
        let slots: Vec<(i64, i64, i64)> = promostack::on_pool!(db, pool => sqlx::query_as(
            "SELECT created_at / 900000 AS slot, COUNT(*), CAST(SUM(CASE WHEN success THEN 1 ELSE 0 END) AS BIGINT) \
             FROM bot_usage WHERE tenant_id = $1 AND created_at / 900000 >= $2 AND created_at / 900000 < $3 \
             GROUP BY created_at / 900000"
        ).bind(tenant).bind(from).bind(to).fetch_all(pool).await)
        .unwrap();
        let mut series: Vec<Value> = w
            .buckets()
            .into_iter()
            .map(|b| json!({"label": b.label, "date": b.date, "count": 0, "successes": 0}))
            .collect();
        let (mut total, mut successes) = (0i64, 0i64);
        for (slot, count, ok) in slots {
            if let Some(i) = w.bucket_of(slot) {
                let point = &mut series[i];
                point["count"] = json!(point["count"].as_i64().unwrap() + count);
                point["successes"] = json!(point["successes"].as_i64().unwrap() + ok);
                total += count;
                successes += ok;
            }
        }
        let users: i64 = promostack::on_pool!(db, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM (SELECT user_id FROM bot_usage \
               WHERE tenant_id = $1 AND user_id IS NOT NULL AND created_at >= $2 AND created_at < $3 \
               GROUP BY user_id) AS users"
        ).bind(tenant).bind(w.start).bind(w.end).fetch_one(pool).await)
        .unwrap();
        let templates: Vec<(String, i64, i64)> = promostack::on_pool!(db, pool => sqlx::query_as(
            "SELECT template_slug, COUNT(*) AS generations, CAST(SUM(CASE WHEN success THEN 1 ELSE 0 END) AS BIGINT) \
             FROM bot_usage \
             WHERE tenant_id = $1 AND template_slug IS NOT NULL AND created_at >= $2 AND created_at < $3 \
             GROUP BY template_slug ORDER BY generations DESC, template_slug LIMIT 10"
        ).bind(tenant).bind(w.start).bind(w.end).fetch_all(pool).await)
        .unwrap();
        let codes = codes(db, tenant, w, "%").await;
        json!({
            "days": w.range.as_str(),
            "granularity": if matches!(w.range, Range::Today | Range::Yesterday) { "hourly" } else { "daily" },
            "timezone": w.tz.iana_name().unwrap_or("UTC"),
            "start": w.start,
            "end": w.end,
            "total_generations": total,
            "successful_generations": successes,
            "unique_users": users,
            "success_rate": percent(successes, total),
            "top_templates": templates.into_iter().map(|(t, n, ok)| json!({
                "template": t, "count": n, "success_rate": percent(ok, n)
            })).collect::<Vec<_>>(),
            "daily_usage": series,
            "popular_codes_total": codes.len(),
            "popular_codes": codes.into_iter().take(50).collect::<Vec<_>>(),
        })
    }
}

/// Deterministic pseudo-random numbers (xorshift64*), so a failure replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> i64 {
        (self.next() % n) as i64
    }
}

/// Realistic usage around `now`: skewed codes, users and templates over the last 100 days, and
/// rows exactly on, and 1 ms either side of, UTC and local midnights and quarter hours of the
/// zones under test (some after `now`, a few after today), anonymous posts and missing fields.
fn random_usage(rng: &mut Rng, now: i64, n: usize, zones: &[&str]) -> Vec<Usage> {
    let mut instants: Vec<i64> = (0..n)
        .map(|_| now - rng.below(100 * DAY as u64) + rng.below(2 * DAY as u64))
        .collect();
    for zone in zones {
        let tz = TimeZone::get(zone).unwrap();
        for range in [
            Range::Today,
            Range::Yesterday,
            Range::Days(7),
            Range::Days(90),
        ] {
            let w = Window::resolve(range, tz.clone(), now).unwrap();
            for edge in [w.start, w.end, w.start + 23 * HOUR, w.start + DAY] {
                instants.extend([edge - 1, edge, edge + 1]);
            }
        }
    }
    let utc_midnight = now - now.rem_euclid(DAY);
    for k in -3..=2 {
        let at = utc_midnight + k * DAY;
        instants.extend([at - 1, at, at + 1, at + 900_000 - 1]);
    }
    instants
        .into_iter()
        .map(|at| {
            // Zipf-like: a few codes, users and templates dominate.
            let skewed = |rng: &mut Rng, n: u64| {
                let r = rng.below(n) + 1;
                rng.below(r as u64)
            };
            let user = skewed(rng, 400);
            Usage {
                user_id: (rng.below(25) != 0).then_some(1_000 + user),
                template: (rng.below(30) != 0).then(|| format!("tpl-{}", skewed(rng, 14))),
                code: (rng.below(20) != 0).then(|| format!("Code{}", skewed(rng, 300))),
                success: rng.below(10) < 8,
                at,
            }
        })
        .collect()
}

/// The rollup rows of a tenant, for comparing the write path with the back-fill.
async fn rollup_rows(db: &Db, tenant: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (table, key) in [
        ("bot_usage_slots", "CAST(slot AS TEXT)"),
        (
            "bot_usage_template_days",
            "CAST(span AS TEXT) || ':' || CAST(day AS TEXT) || ':' || template_slug",
        ),
        (
            "bot_usage_code_days",
            "CAST(span AS TEXT) || ':' || CAST(day AS TEXT) || ':' || code || ':' || CAST(last_used AS TEXT)",
        ),
        (
            "bot_usage_user_last",
            "CAST(user_id AS TEXT) || ':' || CAST(last_used AS TEXT)",
        ),
    ] {
        let cols = if table == "bot_usage_user_last" {
            "CAST(0 AS BIGINT), CAST(0 AS BIGINT)"
        } else {
            "generations, successes"
        };
        let rows: Vec<(String, i64, i64)> =
            promostack::on_pool!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {key}, {cols} FROM {table} WHERE tenant_id = $1"
        ))).bind(tenant).fetch_all(pool).await)
            .unwrap();
        out.extend(
            rows.into_iter()
                .map(|(k, g, s)| format!("{table} {k} {g} {s}")),
        );
    }
    out.sort();
    out
}

const RANGES: [&str; 5] = ["today", "yesterday", "7", "30", "90"];

/// Compare every range's payload, code pages, a search and the CSV with the oracle.
async fn check_against_oracle(app: &TestApp, db: &Db, tenant: &str, zone: &str, now: i64) {
    let tz = TimeZone::get(zone).unwrap();
    for days in RANGES {
        let w = Window::resolve(Range::parse(days).unwrap(), tz.clone(), now).unwrap();
        let got = json(app.bot_stats(days).await, 200).await;
        let want = oracle::stats(db, tenant, &w).await;
        assert_eq!(got, want, "{zone} days={days} at {now}");

        let all = oracle::codes(db, tenant, &w, "%").await;
        if all.len() > 50 {
            let page2 = json(app.bot_codes(days, "", "2").await, 200).await;
            assert_eq!(
                page2["codes"],
                json!(all[50..all.len().min(100)]),
                "{zone} {days} page 2"
            );
        }
        let found = json(app.bot_codes(days, "ode1", "1").await, 200).await;
        let want_found = oracle::codes(db, tenant, &w, "%ode1%").await;
        assert_eq!(found["total"], json!(want_found.len()));
        assert_eq!(
            found["codes"],
            json!(want_found[..want_found.len().min(50)])
        );

        let csv = app.bot_codes_csv(days, "").await.text().await.unwrap();
        let lines: Vec<&str> = csv
            .split("\r\n")
            .filter(|l| !l.is_empty())
            .skip(1)
            .collect();
        let want_lines: Vec<String> = all
            .iter()
            .map(|c| {
                let last = jiff::Timestamp::from_millisecond(c["last_used"].as_i64().unwrap())
                    .unwrap()
                    .to_zoned(tz.clone())
                    .strftime("%Y-%m-%dT%H:%M:%S%:z")
                    .to_string();
                format!(
                    "{},{},{},{},{last}",
                    c["code"].as_str().unwrap(),
                    c["count"],
                    c["successes"],
                    c["users"]
                )
            })
            .collect();
        assert_eq!(lines, want_lines, "{zone} {days} csv");
    }
}

async fn rollups_match_raw_rows_in_every_zone(backend: Backend) {
    // 2026-03-29 and 2026-10-25 are Berlin's DST change days (23 and 25 hours).
    let spring = ms("2026-03-29T11:20:00Z");
    let clock = Clock::fixed(spring);
    let app = spawn_app_with_clock(backend, clock.clone(), |_| {}).await;
    app.login_admin().await;
    let tenant = app.tenant_id().await;
    let db = seed_db(&app.config.database);
    let zones = ["Europe/Berlin", "Asia/Kathmandu", "UTC", "America/New_York"];
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let fall = ms("2026-10-25T23:10:00Z");
    let mut rows = random_usage(&mut rng, spring, 2_500, &zones);
    rows.extend(random_usage(&mut rng, fall, 2_500, &zones));
    seed_usage(&db, &tenant, &rows).await;

    // Another tenant's rows, some with the same codes, users and instants, must not leak.
    let tenant_b = app.create_tenant("B", "tenant-b").await;
    let mut other = random_usage(&mut rng, spring, 800, &zones);
    other.extend(random_usage(&mut rng, fall, 800, &zones));
    seed_usage(&db, &tenant_b, &other).await;

    for (now, label) in [(spring, "spring"), (fall, "fall")] {
        clock.advance(now - clock.now());
        // The session cookie is 24 h old by then.
        app.login_admin().await;
        for zone in zones {
            json(app.update_tenant(json!({"timezone": zone})).await, 200).await;
            check_against_oracle(&app, &db, &tenant, zone, now).await;
            eprintln!("{label} {zone}: rollups equal the raw rows");
        }
    }
    // Tenant B sees exactly its own rows.
    app.use_tenant(Some(&tenant_b));
    check_against_oracle(&app, &db, &tenant_b, "UTC", fall).await;

    // The write path left exactly what the back-fill computes from the raw rows.
    let recorded = rollup_rows(&db, &tenant).await;
    promostack::domains::analytics::repo::rebuild_rollups(&db, &TenantId::parse(&tenant).unwrap())
        .await
        .unwrap();
    assert_eq!(rollup_rows(&db, &tenant).await, recorded);
}

/// A tenant row straight into the table (for databases below the current schema).
async fn insert_tenant(db: &Db, id: &str, slug: &str) {
    promostack::on_pool!(db, pool => sqlx::query(
        "INSERT INTO tenants (id, slug, name, timezone, is_default, created_at, updated_at) \
         VALUES ($1, $2, $2, 'Europe/Berlin', FALSE, 0, 0)"
    ).bind(id).bind(slug).execute(pool).await.affected())
    .unwrap();
}

/// Usage rows straight into bot_usage without their rollups, as a release before migration 8
/// wrote them.
async fn insert_usage_without_rollups(db: &Db, tenant: &str, rows: &[Usage]) {
    for row in rows {
        promostack::on_pool!(db, pool => sqlx::query(
            "INSERT INTO bot_usage (id, tenant_id, user_id, chat_id, chat_type, template_slug, variant, code, success, reason, latency_ms, created_at) \
             VALUES ($1, $2, $3, 1, 'private', $4, 'square', $5, $6, NULL, 100, $7)"
        ).bind(promostack::db::new_id()).bind(tenant).bind(row.user_id).bind(&row.template)
            .bind(&row.code).bind(row.success).bind(row.at)
            .execute(pool).await.affected())
        .unwrap();
    }
}

async fn backfilled_and_recorded_rows_count_once(backend: Backend) {
    // Rows written before migration 8 (straight into bot_usage, as the old code did) are
    // back-filled by it; rows recorded after it go through the write path; both count once.
    let database = promostack_testkit::TestDatabase::create(backend).await;
    let db = Db::connect(&database.config).unwrap();
    promostack::db::migrate_to(&db, 7).await.unwrap();
    let now = ms("2026-10-25T12:00:00Z");
    for (id, slug) in [("tenant-a", "a"), ("tenant-b", "b")] {
        insert_tenant(&db, id, slug).await;
    }
    let mut rng = Rng(0x0bac_0f11_0000_0007);
    let zones = ["Europe/Berlin"];
    let before = random_usage(&mut rng, now, 1_500, &zones);
    insert_usage_without_rollups(&db, "tenant-a", &before).await;
    insert_usage_without_rollups(&db, "tenant-b", &before[..300]).await;
    promostack::db::migrate(&db).await.unwrap();
    seed_usage(&db, "tenant-a", &random_usage(&mut rng, now, 1_500, &zones)).await;

    let clock = Clock::fixed(now);
    let tenants = promostack::domains::tenants::TenantService::new(db.clone(), clock.clone());
    let analytics =
        promostack::domains::analytics::AnalyticsService::new(db.clone(), clock, tenants);
    let tz = TimeZone::get("Europe/Berlin").unwrap();
    for days in RANGES {
        let range = Range::parse(days).unwrap();
        let w = Window::resolve(range, tz.clone(), now).unwrap();
        let got = serde_json::to_value(
            analytics
                .bot_stats(&TenantId::parse("tenant-a").unwrap(), range)
                .await
                .unwrap(),
        )
        .unwrap();
        assert_eq!(got, oracle::stats(&db, "tenant-a", &w).await, "days={days}");
    }
    let recorded = rollup_rows(&db, "tenant-a").await;
    promostack::domains::analytics::repo::rebuild_rollups(
        &db,
        &TenantId::parse("tenant-a").unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(rollup_rows(&db, "tenant-a").await, recorded);
    // Deleting a tenant takes its rollups with it.
    promostack::on_pool!(&db, pool => sqlx::query("DELETE FROM tenants WHERE id = 'tenant-b'")
        .execute(pool).await.affected())
    .unwrap();
    assert!(rollup_rows(&db, "tenant-b").await.is_empty());
    db.close().await;
}

/// `promostack rebuild-rollups` (the real binary) repairs rows an older release inserted without
/// rollups: first one tenant, then every tenant; an unknown tenant fails clearly.
async fn rebuild_rollups_command_repairs_raw_rows(backend: Backend) {
    // The command reads the `serve` settings: DATA_DIR/promostack.db or DATABASE_URL.
    let data_dir = tempfile::tempdir().unwrap();
    let pg = match backend {
        Backend::Postgres => Some(promostack_testkit::TestDatabase::create(backend).await),
        Backend::Sqlite => None,
    };
    let config = match &pg {
        Some(database) => database.config.clone(),
        None => promostack::config::DatabaseConfig::Sqlite {
            path: data_dir.path().join("promostack.db"),
        },
    };
    let db = Db::connect(&config).unwrap();
    promostack::db::migrate(&db).await.unwrap();
    let now = ms("2026-10-25T12:00:00Z");
    let mut rng = Rng(0x7e_b011_d000_0009);
    let zones = ["Europe/Berlin"];
    for (id, slug) in [("tenant-a", "a"), ("tenant-b", "b")] {
        insert_tenant(&db, id, slug).await;
        insert_usage_without_rollups(&db, id, &random_usage(&mut rng, now, 400, &zones)).await;
    }
    let clock = Clock::fixed(now);
    let tenants = promostack::domains::tenants::TenantService::new(db.clone(), clock.clone());
    let analytics =
        promostack::domains::analytics::AnalyticsService::new(db.clone(), clock, tenants);
    let tz = TimeZone::get("Europe/Berlin").unwrap();
    let range = Range::parse("30").unwrap();
    let window = Window::resolve(range, tz, now).unwrap();
    let agrees = async |tenant: &str| {
        let got = serde_json::to_value(
            analytics
                .bot_stats(&TenantId::parse(tenant).unwrap(), range)
                .await
                .unwrap(),
        )
        .unwrap();
        got == oracle::stats(&db, tenant, &window).await
    };
    assert!(
        !agrees("tenant-a").await,
        "raw rows alone are not in the report"
    );

    let run = |args: &[&str]| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_promostack"));
        command
            .arg("rebuild-rollups")
            .args(args)
            .env_clear()
            .env("DATA_DIR", data_dir.path())
            .env("RUST_LOG", "warn");
        if let promostack::config::DatabaseConfig::Postgres { url } = &config {
            command.env("DATABASE_URL", url.expose());
        }
        command.output().expect("run promostack rebuild-rollups")
    };
    let one = run(&["--tenant", "tenant-a"]);
    assert!(one.status.success(), "{one:?}");
    assert_eq!(
        String::from_utf8_lossy(&one.stdout),
        "rebuilt the analytics rollups of tenant tenant-a\n"
    );
    assert!(agrees("tenant-a").await, "tenant A repaired");
    assert!(!agrees("tenant-b").await, "tenant B untouched");

    let all = run(&[]);
    assert!(all.status.success(), "{all:?}");
    assert!(
        agrees("tenant-a").await,
        "a second rebuild counts nothing twice"
    );
    assert!(agrees("tenant-b").await, "every tenant repaired");

    let unknown = run(&["--tenant", "no-such-tenant"]);
    assert!(!unknown.status.success());
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert!(stderr.contains("tenant no-such-tenant"), "{stderr}");
    db.close().await;
}

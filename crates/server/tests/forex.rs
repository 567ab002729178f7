//! The forex service end to end on both backends with an injected clock: the bundled EUR/USD
//! hours replayed through the leader's cycles, the signals and their lifecycle stored and
//! posted to the VIP channel through the fake Bot API (updates as replies), the same trades as
//! `promostack backtest` on the same bars, settings validated and hot-reloaded, the queued
//! strategy switch, a workspace without a Signal Bot, and isolation between workspaces.
use std::time::Duration;

use promostack::time::Clock;
use promostack_signals::backtest::{BacktestOptions, run_backtest};
use promostack_signals::bars::{Timeframe, parse_ohlc_csv};
use promostack_signals::lifecycle::Outcome;
use promostack_testkit::forex::VIP_CHANNEL;
use promostack_testkit::telegram::FakeTelegram;
use promostack_testkit::{Backend, TestApp, backend_tests, spawn_app_with_clock, wait_for};
use serde_json::{Value, json};

/// Replayed bars per (injected) wall second.
const SPEED: f64 = 200.0;
const HISTORY: usize = 300;
const T0_MS: i64 = 1_800_000_000_000;

fn bundled_bars() -> Vec<promostack_signals::Bar> {
    let csv = include_str!("../data/EURUSD_H1.csv");
    parse_ohlc_csv(csv).unwrap().bars
}

async fn app(backend: Backend, fake: &FakeTelegram, clock: &Clock) -> TestApp {
    let url = fake.url.clone();
    let app = spawn_app_with_clock(backend, clock.clone(), move |config| {
        config.integrations.telegram_api_url = url;
        config.integrations.telegram_unpaced = true;
        config.integrations.market_data_replay_speed = SPEED;
    })
    .await;
    app.login_admin().await;
    app
}

async fn json_of(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Release `bars` more replayed bars and wait until the workspace's cycles have processed them.
async fn play(app: &TestApp, clock: &Clock, bars: i64) -> Value {
    clock.advance((bars as f64 / SPEED * 1000.0).round() as i64);
    wait_for(
        "the cycles to reach the market time",
        Duration::from_secs(60),
        async || {
            let status = app.signal_bot_status_json().await;
            (status["lastBarClose"].as_i64().is_some()
                && status["lastBarClose"] == status["marketTime"])
                .then_some(status)
        },
    )
    .await
}

async fn all_signals(app: &TestApp) -> Vec<Value> {
    let (status, page) = json_of(app.forex_signals("?limit=200").await).await;
    assert_eq!(status, 200, "{page}");
    let mut signals = page["signals"].as_array().unwrap().clone();
    signals.sort_by_key(|s| s["number"].as_i64());
    signals
}

async fn events_of(app: &TestApp, id: &str) -> Vec<Value> {
    let (status, detail) = json_of(app.forex_signal(id).await).await;
    assert_eq!(status, 200, "{detail}");
    detail["events"].as_array().unwrap().clone()
}

async fn replay_matches_the_backtest_and_posts_each_event_once(backend: Backend) {
    let fake = FakeTelegram::start().await;
    let clock = Clock::fixed(T0_MS);
    let app = app(backend, &fake, &clock).await;
    app.connect_signal_bot(&fake).await;
    let (status, saved) = json_of(
        app.update_forex_config(json!({
            "enabled": true, "symbol": "EUR/USD", "timeframe": "1h",
            "bot_active_bot_type": "aggressive", "signal_check_minutes": 30
        }))
        .await,
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["settings"]["symbol"], "EUR/USD");

    // The first cycle starts at the newest stored bar: history is not traded or posted.
    let bars = bundled_bars();
    let first = play(&app, &clock, 0).await;
    let start_close = (bars[HISTORY - 1].time + 3600) * 1000;
    assert_eq!(first["lastBarClose"], start_close, "{first}");
    assert_eq!(first["posting"], "connected");
    assert!(all_signals(&app).await.is_empty());

    let played = 1200;
    play(&app, &clock, played).await;
    let signals = all_signals(&app).await;

    // One engine: the backtest of the same bars (indicators from the first bar, trading from
    // the first bar the service saw) has the same trades.
    let mut options = BacktestOptions::new("EUR/USD", "aggressive", Timeframe::H1);
    options.from = Some(bars[HISTORY].time);
    let traded = &bars[..HISTORY + played as usize];
    let report = run_backtest(traded, 3600, &options, &mut |_, _| {}).unwrap();
    let closed: Vec<&Value> = signals.iter().filter(|s| s["status"] != "open").collect();
    let open: Vec<&Value> = signals.iter().filter(|s| s["status"] == "open").collect();
    let backtest_closed: Vec<_> = report
        .trades
        .iter()
        .filter(|t| t.outcome != Outcome::EndOfData)
        .collect();
    assert!(
        backtest_closed.len() >= 3,
        "the window should hold several trades, has {}",
        backtest_closed.len()
    );
    assert_eq!(closed.len(), backtest_closed.len(), "{signals:#?}");
    for (service, backtest) in closed.iter().zip(&backtest_closed) {
        assert_eq!(service["number"], backtest.id as i64);
        assert_eq!(service["direction"], backtest.direction.label());
        assert_eq!(service["openedAt"], backtest.opened_at * 1000);
        assert_eq!(service["closedAt"], backtest.closed_at * 1000);
        assert_eq!(service["entry"].as_f64(), Some(backtest.entry));
        assert_eq!(service["exitPrice"].as_f64(), Some(backtest.exit_price));
        assert_eq!(service["status"], backtest.outcome.label());
        let pips = service["netPips"].as_f64().unwrap();
        assert!(
            (pips - backtest.pips).abs() < 1e-9,
            "{pips} vs {}",
            backtest.pips
        );
    }
    let still_open: Vec<_> = report
        .trades
        .iter()
        .filter(|t| t.outcome == Outcome::EndOfData)
        .collect();
    assert_eq!(open.len(), still_open.len());
    if let (Some(service), Some(backtest)) = (open.first(), still_open.first()) {
        assert_eq!(service["number"], backtest.id as i64);
        assert_eq!(service["entry"].as_f64(), Some(backtest.entry));
    }

    // Every event was posted once, in order; updates reply to their signal's message.
    let mut expected = 0;
    let mut kinds = std::collections::BTreeSet::new();
    for s in &signals {
        let events = events_of(&app, s["id"].as_str().unwrap()).await;
        expected += events.len();
        kinds.extend(
            events
                .iter()
                .map(|e| e["kind"].as_str().unwrap().to_string()),
        );
    }
    // The lifecycle end to end: openings, guidance, re-validation and every kind of close.
    // (These 1,200 bundled bars hold 23 TP1, 6 TP2 and 4 TP3 exits, 83 stops, 54 time limits
    // and 15 broken theses: `promostack backtest --timerange` over the same window.)
    for kind in [
        "opened",
        "progress",
        "breakeven",
        "tp1",
        "tp2",
        "tp3",
        "stop_loss",
        "timeout",
        "thesis_weakening",
        "thesis_broken",
    ] {
        assert!(kinds.contains(kind), "no {kind} event in {kinds:?}");
    }
    let sent = fake.wait_sent(VIP_CHANNEL, expected).await;
    assert_eq!(sent.len(), expected, "one message per event");
    let mut opening: std::collections::HashMap<String, i64> = Default::default();
    let mut message_id = 0;
    for call in &sent {
        message_id += 1;
        let text = call.text().unwrap();
        if text.starts_with("EUR/USD BUY\n") || text.starts_with("EUR/USD SELL\n") {
            let number = text
                .split("Signal #")
                .nth(1)
                .and_then(|t| t.split(' ').next())
                .unwrap()
                .to_string();
            assert!(call.params.get("reply_parameters").is_none());
            opening.insert(number, message_id);
        } else {
            let reply_to = call.params["reply_parameters"]["message_id"].as_i64();
            assert!(
                reply_to.is_some_and(|id| opening.values().any(|o| *o == id)),
                "an update replies to a signal's message: {text:?} {:?}",
                call.params
            );
        }
    }
    assert_eq!(
        opening.len(),
        signals.len(),
        "each signal opened with the copy-trading form"
    );
    // Nothing more goes out when nothing new has closed.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(fake.sent_to(VIP_CHANNEL).len(), expected, "no post twice");
}

async fn settings_are_validated_hot_reloaded_and_a_switch_waits_for_the_open_signal(
    backend: Backend,
) {
    let fake = FakeTelegram::start().await;
    let clock = Clock::fixed(T0_MS);
    let app = app(backend, &fake, &clock).await;

    // Defaults before anything is saved; bad fields are named and nothing is stored.
    let (status, defaults) = json_of(app.forex_config().await).await;
    assert_eq!(status, 200);
    assert_eq!(defaults["settings"]["symbol"], "XAU/USD");
    assert_eq!(
        defaults["settings"]["params"]["timing"]["hard_timeout_minutes"],
        180
    );
    for (patch, field) in [
        (
            json!({"bot_active_bot_type": "yolo"}),
            "bot_active_bot_type",
        ),
        (json!({"timeframe": "4h"}), "timeframe"),
        (json!({"time_zone": "Mars/Olympus"}), "time_zone"),
        (json!({"daily_recap_at": "25:61"}), "daily_recap_at"),
        (
            json!({"params": {"atr_tp2_multiplier": 0.1}}),
            "atr_tp2_multiplier",
        ),
        (json!({"params": {"rsi_oversold": 140}}), "rsi_oversold"),
        (
            json!({"params": {"timing": {"progress_zones_percent": [60, 40]}}}),
            "progress_zones_percent",
        ),
        (json!({"admin_telegram_ids": [-5]}), "admin_telegram_ids"),
        (json!({"colour": "red"}), "settings"),
    ] {
        let (status, error) = json_of(app.update_forex_config(patch.clone()).await).await;
        assert_eq!(status, 422, "{patch}: {error}");
        assert_eq!(error["field"], field, "{patch}: {error}");
    }
    let (_, unchanged) = json_of(app.forex_config().await).await;
    assert_eq!(
        unchanged["settings"], defaults["settings"],
        "nothing stored"
    );
    let (status, error) = json_of(app.set_active_strategy("martingale").await).await;
    assert_eq!((status, error["field"].as_str()), (422, Some("strategy")));

    // No Signal Bot: signals are made and shown, the status says what to connect.
    app.update_forex_config(json!({
        "enabled": true, "symbol": "EURUSD", "timeframe": "1h",
        "params": {"timing": {"hard_timeout_minutes": 240}}
    }))
    .await;
    let status = play(&app, &clock, 0).await;
    assert!(
        status["posting"]
            .as_str()
            .unwrap()
            .contains("connect a Signal Bot"),
        "{status}"
    );
    assert_eq!(status["signalBotConnected"], false);
    let mut open = Value::Null;
    for _ in 0..40 {
        let status = play(&app, &clock, 10).await;
        if !status["openSignal"].is_null() {
            open = status;
            break;
        }
    }
    assert!(!open.is_null(), "a signal opened within 400 bars");
    assert!(
        fake.sent_to(VIP_CHANNEL).is_empty(),
        "nothing posted without a bot"
    );
    // The settings reached the engine without a restart: the open signal has the 4 h timeout.
    assert_eq!(open["openSignal"]["hardTimeoutMinutes"], 240, "{open}");
    let id = open["openSignal"]["signal"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!events_of(&app, &id).await.is_empty());

    // A switch while a signal is open waits for it to close, then applies.
    let (status, queued) = json_of(app.set_active_strategy("conservative").await).await;
    assert_eq!(status, 200, "{queued}");
    assert_eq!(queued["activeStrategy"], "aggressive");
    assert_eq!(queued["queuedStrategy"], "conservative");
    let mut switched = Value::Null;
    for _ in 0..60 {
        let status = play(&app, &clock, 5).await;
        if status["openSignal"].is_null() {
            switched = status;
            break;
        }
    }
    assert_eq!(switched["activeStrategy"], "conservative", "{switched}");
    assert!(switched["queuedStrategy"].is_null());
    let (_, config) = json_of(app.forex_config().await).await;
    assert_eq!(config["settings"]["bot_active_bot_type"], "conservative");
    let (_, signal) = json_of(app.forex_signal(&id).await).await;
    assert_ne!(signal["status"], "open");
    assert_eq!(
        signal["strategy"], "aggressive",
        "the signal kept its strategy"
    );

    // Paging and filters.
    let (status, page) = json_of(app.forex_signals("?status=open&limit=1").await).await;
    assert_eq!(status, 200);
    assert!(page["signals"].as_array().unwrap().len() <= 1);
    for query in ["?status=won", "?direction=up", "?limit=0", "?offset=-1"] {
        let (status, error) = json_of(app.forex_signals(query).await).await;
        assert_eq!(status, 422, "{query}: {error}");
    }
    let (status, spark) = json_of(app.sparkline("?points=24").await).await;
    assert_eq!(status, 200);
    assert_eq!(spark["points"].as_array().unwrap().len(), 24);
    assert_eq!(spark["symbol"], "EURUSD");
    let (status, perf) = json_of(app.forex_performance("?days=60").await).await;
    assert_eq!(status, 200, "{perf}");
    assert!(perf["signals"].as_u64().unwrap() >= 1);
}

async fn workspaces_never_see_each_others_signals(backend: Backend) {
    let fake = FakeTelegram::start().await;
    let clock = Clock::fixed(T0_MS);
    let app = app(backend, &fake, &clock).await;
    app.update_forex_config(json!({"enabled": true, "symbol": "EUR/USD", "timeframe": "1h"}))
        .await;
    play(&app, &clock, 0).await;
    let mut mine = Vec::new();
    for _ in 0..40 {
        play(&app, &clock, 10).await;
        mine = all_signals(&app).await;
        if !mine.is_empty() {
            break;
        }
    }
    assert!(!mine.is_empty());
    let id = mine[0]["id"].as_str().unwrap().to_string();

    let other = app.create_tenant("Other desk", "other-desk").await;
    app.use_tenant(Some(&other));
    assert!(
        all_signals(&app).await.is_empty(),
        "B lists none of A's signals"
    );
    let (status, _) = json_of(app.forex_signal(&id).await).await;
    assert_eq!(status, 404, "B cannot read A's signal");
    let (_, status_b) = json_of(app.signal_bot_status().await).await;
    assert!(status_b["openSignal"].is_null());
    assert_eq!(status_b["enabled"], false);
    let (_, config_b) = json_of(app.forex_config().await).await;
    assert_eq!(
        config_b["settings"]["enabled"], false,
        "A's settings are not B's"
    );
    app.update_forex_config(json!({"params": {"adx_threshold": 30}}))
        .await;
    let (_, perf_b) = json_of(app.forex_performance("?days=366").await).await;
    assert_eq!(
        perf_b["signals"], 0,
        "B's performance counts none of A's signals"
    );
    let (_, spark_b) = json_of(app.sparkline("").await).await;
    assert_eq!(spark_b["symbol"], "XAU/USD", "B's own symbol");
    assert!(spark_b["points"].as_array().unwrap().is_empty());
    let (status, _) = json_of(app.set_active_strategy("conservative").await).await;
    assert_eq!(status, 200);
    let (status, refused) = json_of(app.backtest_forex_config(json!({})).await).await;
    assert_eq!(
        status, 409,
        "B has no stored bars of its own symbol: {refused}"
    );
    app.use_tenant(None);
    let (_, status_a) = json_of(app.signal_bot_status().await).await;
    assert_eq!(
        status_a["activeStrategy"], "aggressive",
        "B's switch stays in B"
    );
    let (_, config_a) = json_of(app.forex_config().await).await;
    assert_ne!(
        config_a["settings"]["params"]["adx_threshold"], 30,
        "B's change stays in B"
    );
}

/// Twelve Data through its fake: only the bars not stored are asked for, the forming bar is
/// not stored, and its errors (429, an error body with HTTP 200, an outage) show on the status
/// without stopping the service.
async fn twelve_data_fetches_only_new_bars_and_reports_its_errors(backend: Backend) {
    use promostack_testkit::twelve_data::{Failure, FakeTwelveData};
    let fake_td = FakeTwelveData::start().await;
    // Real EUR/USD hours, served under the gold symbol (the fake does not care what they are).
    let bars = fake_td.serve_bundled_hours("XAU/USD");
    let now = bars[400].time + 3600 + 30 * 60; // bar 401 is still forming
    fake_td.set_now(now);
    let clock = Clock::fixed(now * 1000);
    let fake = FakeTelegram::start().await;
    let url = fake.url.clone();
    let td = &fake_td;
    let app = spawn_app_with_clock(backend, clock.clone(), move |config| {
        config.integrations.telegram_api_url = url;
        td.configure(config);
    })
    .await;
    app.login_admin().await;
    app.update_forex_config(json!({"enabled": true, "symbol": "XAU/USD", "timeframe": "1h"}))
        .await;
    let status = wait_for("the first fetch", Duration::from_secs(30), async || {
        let s = app.signal_bot_status_json().await;
        s["lastBarClose"].as_i64().is_some().then_some(s)
    })
    .await;
    assert_eq!(status["marketSource"], "twelve data");
    assert_eq!(
        status["lastBarClose"],
        (bars[400].time + 3600) * 1000,
        "the forming bar is not stored"
    );
    assert_eq!(
        fake_td.outputsizes()[0],
        500,
        "a new series asks for its history"
    );

    // Three hours later: a request for what is missing (plus the forming bar), no more.
    let later = now + 3 * 3600;
    fake_td.set_now(later);
    clock.advance(3 * 3600 * 1000);
    wait_for("three more bars", Duration::from_secs(30), async || {
        let s = app.signal_bot_status_json().await;
        (s["lastBarClose"] == (bars[403].time + 3600) * 1000).then_some(())
    })
    .await;
    let sizes = fake_td.outputsizes();
    assert!(*sizes.last().unwrap() <= 5, "asked for {sizes:?}");
    let (_, spark) = json_of(app.sparkline("?points=5").await).await;
    let closes: Vec<f64> = spark["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[1].as_f64().unwrap())
        .collect();
    let expected: Vec<f64> = bars[399..404].iter().map(|b| b.close).collect();
    assert_eq!(closes, expected, "stored exactly the closed bars");

    // Errors are named on the status and the service carries on after them.
    for (failure, says) in [
        (Failure::RateLimited, "rate limited"),
        (
            Failure::ErrorWith200 {
                code: 400,
                message: "**symbol** XAU/USD not found".into(),
            },
            "refused the request (400)",
        ),
        (Failure::Down, "unavailable"),
    ] {
        fake_td.fail_next(vec![failure]);
        let next = fake_td.calls() + 1;
        fake_td.set_now(fake_td_now(&clock) + 3600);
        clock.advance(3600 * 1000);
        let status = wait_for(says, Duration::from_secs(30), async || {
            let s = app.signal_bot_status_json().await;
            (fake_td.calls() >= next && !s["marketError"].is_null()).then_some(s)
        })
        .await;
        assert!(
            status["marketError"].as_str().unwrap().contains(says),
            "{status}"
        );
    }
    // After a minute (the 429 emptied this minute's credits) the missed bars arrive.
    clock.advance(61 * 1000);
    fake_td.set_now(fake_td_now(&clock));
    wait_for("recovery", Duration::from_secs(30), async || {
        let s = app.signal_bot_status_json().await;
        s["marketError"].is_null().then_some(())
    })
    .await;
    let status = app.signal_bot_status_json().await;
    let expected_close = ((fake_td_now(&clock) - 3600) / 3600 * 3600 + 3600) * 1000;
    assert!(status["lastBarClose"].as_i64().unwrap() <= expected_close);
}

fn fake_td_now(clock: &Clock) -> i64 {
    clock.now() / 1000
}

/// The briefing and the recaps go out once per (market) day at their local times, and the
/// Signal Bot answers its operators' commands (through long polling, as in production) and
/// refuses everyone else.
async fn recaps_briefings_and_operator_commands(backend: Backend) {
    use promostack_testkit::forex::SIGNAL_TOKEN;
    use promostack_testkit::telegram::updates;
    const ADMIN: i64 = 4242;
    const STRANGER: i64 = 777;
    let fake = FakeTelegram::start().await;
    let clock = Clock::fixed(T0_MS);
    let url = fake.url.clone();
    let app = spawn_app_with_clock(backend, clock.clone(), move |config| {
        config.integrations.telegram_api_url = url;
        config.integrations.telegram_unpaced = true;
        config.integrations.market_data_replay_speed = SPEED;
        config.integrations.telegram_mode = Some(promostack::config::TelegramMode::Polling);
    })
    .await;
    app.login_admin().await;
    app.connect_signal_bot(&fake).await;
    let (status, _) = json_of(
        app.update_forex_config(json!({
            "enabled": true, "symbol": "EUR/USD", "timeframe": "1h",
            "time_zone": "Europe/London", "admin_telegram_ids": [ADMIN]
        }))
        .await,
    )
    .await;
    assert_eq!(status, 200);
    play(&app, &clock, 0).await;
    // Six market hours a step: a post missed by more than six hours is not caught up.
    for _ in 0..12 {
        play(&app, &clock, 6).await;
    }
    // Three market days (a weekend in the bars can fold two days into one jump: then only the
    // latest of each is posted, by the catch-up rule).
    let texts = wait_for(
        "the recaps to be posted",
        Duration::from_secs(30),
        async || {
            let texts: Vec<String> = fake
                .sent_to(VIP_CHANNEL)
                .iter()
                .map(|c| c.text().unwrap().to_string())
                .collect();
            let recaps = texts
                .iter()
                .filter(|t| t.starts_with("DAILY RECAP"))
                .count();
            (recaps >= 2).then_some(texts)
        },
    )
    .await;
    let of =
        |prefix: &str| -> Vec<&String> { texts.iter().filter(|t| t.starts_with(prefix)).collect() };
    let (recaps, briefings) = (of("DAILY RECAP"), of("MORNING BRIEFING EUR/USD"));
    assert!(
        recaps.len() <= 3 && briefings.len() <= 3,
        "one a day at most: {texts:#?}"
    );
    assert!(briefings.len() >= 2, "{texts:#?}");
    let days: std::collections::HashSet<&str> =
        recaps.iter().map(|t| t.lines().next().unwrap()).collect();
    assert_eq!(days.len(), recaps.len(), "each recap is another day");

    // Operator commands through getUpdates.
    let update_id = std::sync::atomic::AtomicI64::new(90_000);
    let replies = async |user: i64, text: &str, n: usize| {
        let id = update_id.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        fake.push_update_for(SIGNAL_TOKEN, updates::text(id, user, text));
        fake.wait_sent(user, n)
            .await
            .last()
            .unwrap()
            .text()
            .unwrap()
            .to_string()
    };
    let refused = replies(STRANGER, "/pause", 1).await;
    assert!(refused.contains("for this workspace's admins"), "{refused}");
    assert_eq!(app.signal_bot_status_json().await["paused"], false);
    let status = replies(ADMIN, "/status", 1).await;
    assert!(status.contains("strategy aggressive"), "{status}");
    let paused = replies(ADMIN, "/pause@gold_signals_bot", 2).await;
    assert!(paused.starts_with("Paused"), "{paused}");
    assert_eq!(app.signal_bot_status_json().await["paused"], true);
    let profit = replies(ADMIN, "/profit", 3).await;
    assert!(profit.starts_with("Last 30 days:"), "{profit}");
    let weekly = replies(ADMIN, "/weekly", 4).await;
    assert!(weekly.starts_with("WEEKLY RECAP"), "{weekly}");
    let resumed = replies(ADMIN, "/resume", 5).await;
    assert!(resumed.starts_with("Resumed"), "{resumed}");
    assert_eq!(app.signal_bot_status_json().await["paused"], false);
    let help = replies(ADMIN, "/what", 6).await;
    assert!(help.contains("/profit"), "{help}");
}

/// With OpenAI configured a note follows each opening and close in its own message, replying
/// to the signal: the AI's text when it only repeats the engine's numbers, else the template;
/// a quota error is not retried, a rate limit is (after `retry-after`).
async fn ai_notes_use_only_engine_numbers_and_fall_back_to_templates(backend: Backend) {
    use promostack_testkit::openai::{Answer, DEFAULT_NOTE, FakeOpenAi};
    let ai = FakeOpenAi::start().await;
    ai.script(vec![
        Answer::Text("Gold could reach 2100 today.".into()),
        Answer::QuotaExhausted,
        Answer::RateLimited {
            retry_after_secs: 1,
        },
    ]);
    let fake = FakeTelegram::start().await;
    let clock = Clock::fixed(T0_MS);
    let url = fake.url.clone();
    let ai_ref = &ai;
    let app = spawn_app_with_clock(backend, clock.clone(), move |config| {
        config.integrations.telegram_api_url = url;
        config.integrations.telegram_unpaced = true;
        config.integrations.market_data_replay_speed = SPEED;
        ai_ref.configure(config);
    })
    .await;
    app.login_admin().await;
    app.connect_signal_bot(&fake).await;
    app.update_forex_config(json!({"enabled": true, "symbol": "EUR/USD", "timeframe": "1h"}))
        .await;
    play(&app, &clock, 0).await;
    let is_note = |t: &str| {
        t == DEFAULT_NOTE
            || t.contains(" is live. The ")
            || t.contains(" pips banked.")
            || t.contains("Losses are part of the plan")
            || t.contains("Capital protected.")
    };
    let mut notes = Vec::new();
    for _ in 0..40 {
        play(&app, &clock, 10).await;
        notes = fake
            .sent_to(VIP_CHANNEL)
            .into_iter()
            .filter(|c| is_note(c.text().unwrap()))
            .collect();
        if notes.len() >= 3 {
            break;
        }
    }
    assert!(notes.len() >= 3, "three notes within 400 bars");
    let texts: Vec<&str> = notes.iter().map(|c| c.text().unwrap()).collect();
    assert!(
        texts[0].contains(" is live. The "),
        "the invented 2100 was discarded: {texts:?}"
    );
    assert!(!texts.iter().any(|t| t.contains("2100")));
    assert_ne!(texts[1], DEFAULT_NOTE, "quota exhausted: the template");
    assert_eq!(
        texts[2], DEFAULT_NOTE,
        "after the rate limit, the AI's note"
    );
    for note in &notes {
        assert!(
            note.params["reply_parameters"]["message_id"].is_i64(),
            "a note replies to its signal"
        );
    }
    let requests = ai.requests();
    // Note 1: one call; note 2: one call (quota is not retried); note 3: the 429 and its retry.
    assert!(requests.len() >= 4, "{}", requests.len());
    assert_eq!(requests[0]["model"], "gpt-4o-mini");
    let system = requests[0]["messages"][0]["content"].as_str().unwrap();
    assert!(system.contains("Never write a price"), "{system}");
    let facts = requests[0]["messages"][1]["content"].as_str().unwrap();
    assert!(facts.starts_with("New signal EUR/USD"), "{facts}");
}

/// Two workspaces' schedulers side by side: each with its own settings, Signal Bot and VIP
/// channel, its own signal numbers; nothing of one reaches the other's channel.
async fn two_workspaces_run_separate_schedulers(backend: Backend) {
    use promostack_testkit::telegram::{ChatKind, Member};
    const B_TOKEN: &str = "7300003:AAH-desk_b_signals-token-01234567";
    const B_VIP: i64 = -1_002_000_000_001;
    let fake = FakeTelegram::start().await;
    let clock = Clock::fixed(T0_MS);
    let app = app(backend, &fake, &clock).await;
    app.connect_signal_bot(&fake).await;
    app.update_forex_config(json!({"enabled": true, "symbol": "EUR/USD", "timeframe": "1h"}))
        .await;
    let b = app.create_tenant("Desk B", "desk-b").await;
    app.use_tenant(Some(&b));
    fake.add_bot(B_TOKEN, "desk_b_signals_bot");
    fake.add_chat(B_VIP, ChatKind::Channel, "Desk B VIP", Some("desk_b_vip"));
    fake.set_bot_member(B_TOKEN, B_VIP, Member::admin());
    let saved = app
        .request(reqwest::Method::PUT, "/api/connections/signal-bot")
        .json(&json!({"token": B_TOKEN, "vipChannel": "@desk_b_vip"}))
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), 200);
    // B trades around the clock (no session filter): other signals than A's.
    app.update_forex_config(json!({
        "enabled": true, "symbol": "EUR/USD", "timeframe": "1h",
        "params": {"session_filter_enabled": false}
    }))
    .await;
    app.use_tenant(None);
    play(&app, &clock, 0).await;
    play(&app, &clock, 300).await;
    app.use_tenant(Some(&b));
    wait_for("B's cycles", Duration::from_secs(30), async || {
        let s = app.signal_bot_status_json().await;
        (s["lastBarClose"] == s["marketTime"]).then_some(())
    })
    .await;
    let signals_b = all_signals(&app).await;
    let mut events_b = 0;
    for s in &signals_b {
        events_b += events_of(&app, s["id"].as_str().unwrap()).await.len();
    }
    app.use_tenant(None);
    let signals_a = all_signals(&app).await;
    let mut events_a = 0;
    for s in &signals_a {
        events_a += events_of(&app, s["id"].as_str().unwrap()).await.len();
    }
    assert!(!signals_a.is_empty() && !signals_b.is_empty());
    assert_eq!(signals_a[0]["number"], 1, "A numbers its own signals");
    assert_eq!(signals_b[0]["number"], 1, "B numbers its own signals");
    let opened = |list: &[Value]| -> Vec<i64> {
        list.iter()
            .map(|s| s["openedAt"].as_i64().unwrap())
            .collect()
    };
    assert_ne!(
        opened(&signals_a),
        opened(&signals_b),
        "B's settings made B's signals"
    );
    // Each channel: its workspace's events, plus its own briefing and recaps.
    let event_posts = |chat: i64| {
        fake.sent_to(chat)
            .iter()
            .filter(|c| {
                let t = c.text().unwrap();
                !(t.starts_with("MORNING BRIEFING") || t.contains(" RECAP "))
            })
            .count()
    };
    wait_for("every event posted", Duration::from_secs(30), async || {
        (event_posts(VIP_CHANNEL) >= events_a && event_posts(B_VIP) >= events_b).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(event_posts(VIP_CHANNEL), events_a);
    assert_eq!(event_posts(B_VIP), events_b);
    for call in fake.sent_to(B_VIP) {
        assert_eq!(call.token, B_TOKEN, "B's channel gets B's bot only");
    }
    for call in fake.sent_to(VIP_CHANNEL) {
        assert_ne!(call.token, B_TOKEN);
    }
}

backend_tests!(
    two_workspaces_run_separate_schedulers,
    ai_notes_use_only_engine_numbers_and_fall_back_to_templates,
    recaps_briefings_and_operator_commands,
    twelve_data_fetches_only_new_bars_and_reports_its_errors,
    replay_matches_the_backtest_and_posts_each_event_once,
    settings_are_validated_hot_reloaded_and_a_switch_waits_for_the_open_signal,
    workspaces_never_see_each_others_signals,
);

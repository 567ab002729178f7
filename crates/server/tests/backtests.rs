//! The dashboard's backtests through the HTTP API on both backends: a run returns the numbers
//! the signals crate (what `promostack backtest --json` prints) gives for the same bundled bars,
//! the strategy list mirrors the registry, bad input is a 422 naming the field, and nothing is
//! open without a session.
use promostack_signals::backtest::{BacktestOptions, Costs, run_backtest};
use promostack_signals::bars::{Timeframe, parse_ohlc_csv, parse_time};
use promostack_signals::strategy::{STRATEGIES, StrategyParams, strategy_by_name};
use promostack_testkit::{Backend, TestApp, backend_tests, expect_error, json, spawn_app};
use reqwest::Method;
use serde_json::{Value, json};

backend_tests!(
    runs_match_the_signals_crate,
    strategies_list_the_registry,
    bad_backtest_input_names_the_field,
    backtests_need_a_session
);

const CSV: &str = include_str!("../data/EURUSD_H1.csv");

async fn post(app: &TestApp, body: Value) -> reqwest::Response {
    app.request(Method::POST, "/api/backtests")
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// The report the signals crate builds for these options, as JSON (the CLI's `--json`).
fn expected(options: &BacktestOptions) -> Value {
    let series = parse_ohlc_csv(CSV).unwrap();
    let report = run_backtest(&series.bars, 3600, options, &mut |_, _| {}).unwrap();
    let mut value = serde_json::to_value(&report).unwrap();
    value["gaps"] = json!(series.gaps.len());
    // Through text and back, as the API's answer travels.
    serde_json::from_str(&value.to_string()).unwrap()
}

fn assert_same_report(api: &Value, want: &Value) {
    for (key, value) in want.as_object().unwrap() {
        assert_eq!(&api[key], value, "`{key}` differs from the signals crate's");
    }
}

async fn runs_match_the_signals_crate(backend: Backend) {
    let app = spawn_app(backend).await;
    app.login_admin().await;

    let run = json(
        post(
            &app,
            json!({"strategy": "aggressive", "spread": 1, "slippage": 0.2}),
        )
        .await,
        200,
    )
    .await;
    let mut options = BacktestOptions::new("EUR/USD", "aggressive", Timeframe::H1);
    options.costs = Costs {
        spread_pips: 1.0,
        slippage_pips: 0.2,
    };
    let want = expected(&options);
    assert_same_report(&run, &want);
    // The published figures (docs/backtests.md) for this run.
    assert_eq!(run["stats"]["trades"], 592);
    assert_eq!(run["stats"]["wins"], 210);
    assert_eq!(run["gaps"], 42);
    assert_eq!(run["data"]["symbol"], "EUR/USD");
    assert_eq!(run["data"]["bars"], 5000);
    // The drawdown series: one point per closed trade, its maximum the report's max drawdown.
    let drawdown = run["drawdown"].as_array().unwrap();
    assert_eq!(drawdown.len(), run["equity"].as_array().unwrap().len());
    let max = drawdown
        .iter()
        .map(|p| p["pips"].as_f64().unwrap())
        .fold(0.0, f64::max);
    let reported = run["stats"]["drawdown"]["max_pips"].as_f64().unwrap();
    assert!((max - reported).abs() < 1e-6, "{max} vs {reported}");

    // Overrides and a time range reach the engine.
    let run = json(
        post(
            &app,
            json!({"strategy": "conservative", "params": {"rsi_oversold": 30, "session_filter_enabled": false},
                   "timerange": "2017-06-01..2017-12-01"}),
        )
        .await,
        200,
    )
    .await;
    let base = strategy_by_name("conservative").unwrap().default_params();
    let mut options = BacktestOptions::new("EUR/USD", "conservative", Timeframe::H1);
    options.params = Some(
        StrategyParams::with_overrides(
            &base,
            &json!({"rsi_oversold": 30, "session_filter_enabled": false}),
        )
        .unwrap(),
    );
    options.from = parse_time("2017-06-01");
    options.to = parse_time("2017-12-01");
    let want = expected(&options);
    assert_same_report(&run, &want);
    assert_eq!(run["params"]["rsi_oversold"], 30.0);
    assert!(run["warmup_bars"].as_u64().unwrap() > 0);
    assert_ne!(
        run["stats"]["trades"],
        expected(&BacktestOptions::new(
            "EUR/USD",
            "conservative",
            Timeframe::H1
        ))["stats"]["trades"],
        "the overrides changed the run"
    );
}

async fn strategies_list_the_registry(backend: Backend) {
    let app = spawn_app(backend).await;
    app.login_admin().await;
    let list = json(
        app.request(Method::GET, "/api/backtests/strategies")
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let strategies = list["strategies"].as_array().unwrap();
    assert_eq!(strategies.len(), STRATEGIES.len());
    for (got, s) in strategies.iter().zip(STRATEGIES) {
        assert_eq!(got["name"], s.name());
        assert_eq!(
            got["params"],
            serde_json::to_value(s.default_params()).unwrap()
        );
    }
    assert_eq!(list["data"]["symbol"], "EUR/USD");
    assert_eq!(list["data"]["timeframe"], "1h");
    assert_eq!(list["data"]["bars"], 5000);
    assert_eq!(
        list["data"]["first_bar"],
        parse_time("2017-04-19 09:00").unwrap()
    );
}

async fn bad_backtest_input_names_the_field(backend: Backend) {
    let app = spawn_app(backend).await;
    app.login_admin().await;
    let cases = [
        (
            json!({"strategy": "scalper"}),
            "strategy",
            "unknown strategy",
        ),
        (json!({}), "strategy", "required"),
        (json!({"strategy": 7}), "strategy", "strategy name"),
        (
            json!({"strategy": "aggressive", "params": {"rsi_buy": 30}}),
            "params",
            "unknown parameter `rsi_buy`",
        ),
        (
            json!({"strategy": "aggressive", "params": {"rsi_oversold": "low"}}),
            "params",
            "`rsi_oversold`",
        ),
        (
            json!({"strategy": "aggressive", "params": {"atr_tp1_multiplier": 5}}),
            "params",
            "tp1 < tp2 < tp3",
        ),
        (
            json!({"strategy": "aggressive", "params": [1, 2]}),
            "params",
            "object",
        ),
        (
            json!({"strategy": "aggressive", "spread": -1}),
            "spread",
            "0 to 100",
        ),
        (
            json!({"strategy": "aggressive", "spread": "1"}),
            "spread",
            "number",
        ),
        (
            json!({"strategy": "aggressive", "slippage": 1000}),
            "slippage",
            "0 to 100",
        ),
        (
            json!({"strategy": "aggressive", "timerange": "June"}),
            "timerange",
            "FROM..TO",
        ),
        (
            json!({"strategy": "aggressive", "timerange": "2017-13-40.."}),
            "timerange",
            "not a time",
        ),
        (
            json!({"strategy": "aggressive", "timerange": "2019-01-01.."}),
            "timerange",
            "outside the data",
        ),
        (
            json!({"strategy": "aggressive", "timerange": "2017-09-01..2017-08-01"}),
            "timerange",
            "before",
        ),
    ];
    for (body, field, message) in cases {
        let err = expect_error(post(&app, body.clone()).await, 422, "validation_failed").await;
        assert_eq!(err["field"], field, "{body}: {err}");
        let text = err["error"].as_str().unwrap();
        assert!(text.contains(message), "{body}: `{text}` lacks `{message}`");
    }
    let err = expect_error(
        post(&app, json!({"strategy": "aggressive", "fast": true})).await,
        422,
        "validation_failed",
    )
    .await;
    assert!(
        err["error"]
            .as_str()
            .unwrap()
            .contains("unknown field `fast`")
    );
}

async fn backtests_need_a_session(backend: Backend) {
    let app = spawn_app(backend).await;
    let anonymous = reqwest::Client::new();
    let run = anonymous
        .post(app.url("/api/backtests"))
        .json(&json!({"strategy": "aggressive"}))
        .send()
        .await
        .unwrap();
    expect_error(run, 401, "unauthenticated").await;
    let list = anonymous
        .get(app.url("/api/backtests/strategies"))
        .send()
        .await
        .unwrap();
    expect_error(list, 401, "unauthenticated").await;
}

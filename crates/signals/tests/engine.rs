//! The engine: one open signal at a time, session filter, hot-reloaded parameters, queued
//! strategy switch, and never a signal from missing values.
use promostack_signals::engine::SignalEngine;
use promostack_signals::lifecycle::{EventKind, Outcome};
use promostack_signals::{Bar, Direction, EngineError, IndicatorSnapshot, StrategyParams};

const NOON: i64 = 1_700_049_600; // 2023-11-15 12:00 UTC

/// Values on which `aggressive` buys: ADX 25, RSI 35, close at the lower band, %K 15.
fn buy_setup(time: i64) -> IndicatorSnapshot {
    IndicatorSnapshot {
        time,
        close: 2000.0,
        rsi_14: Some(35.0),
        adx_14: Some(25.0),
        macd_hist: Some(-0.1),
        stoch_k: Some(15.0),
        stoch_d: Some(18.0),
        bb_upper: Some(2004.0),
        bb_middle: Some(2002.0),
        bb_lower: Some(2000.0),
        atr_14: Some(2.0),
        ..Default::default()
    }
}

#[test]
fn opens_one_signal_at_a_time_with_atr_levels() {
    let mut engine = SignalEngine::new("XAU/USD", None, "aggressive", None).unwrap();
    let step = engine.check_for_signal(NOON, &buy_setup(NOON));
    assert!(matches!(step.events[0].kind, EventKind::Opened { .. }));
    let h = &step.events[0].signal;
    assert_eq!(h.direction, Direction::Buy);
    assert_eq!((h.entry, h.stop_loss), (2000.0, 1998.0));
    assert_eq!(h.take_profits, [2002.4, 2004.0, 2005.0]);
    assert_eq!(h.pip_size, 0.1);
    assert!(
        engine
            .check_for_signal(NOON + 900, &buy_setup(NOON + 900))
            .events
            .is_empty(),
        "one open signal"
    );
    assert_eq!(engine.open_signal().unwrap().header.id, 1);
}

#[test]
fn never_signals_on_missing_values_or_outside_the_session() {
    let mut engine = SignalEngine::new("XAU/USD", None, "aggressive", None).unwrap();
    let mut no_atr = buy_setup(NOON);
    no_atr.atr_14 = None;
    assert!(engine.check_for_signal(NOON, &no_atr).events.is_empty());
    let mut no_rsi = buy_setup(NOON);
    no_rsi.rsi_14 = None;
    assert!(engine.check_for_signal(NOON, &no_rsi).events.is_empty());
    let mut nan_close = buy_setup(NOON);
    nan_close.close = f64::NAN;
    assert!(engine.check_for_signal(NOON, &nan_close).events.is_empty());
    let night = NOON - 9 * 3600; // 03:00 UTC
    assert!(
        engine
            .check_for_signal(night, &buy_setup(night))
            .events
            .is_empty()
    );
    let mut params = engine.params().clone();
    params.session_filter_enabled = false;
    engine.set_params(params).unwrap();
    assert_eq!(
        engine
            .check_for_signal(night, &buy_setup(night))
            .events
            .len(),
        1,
        "hot-reloaded params apply"
    );
}

#[test]
fn disabling_a_registry_entry_changes_generation() {
    // Conservative needs both confirmations; with the stochastic disabled the band touch suffices.
    let mut setup = buy_setup(NOON);
    setup.stoch_k = Some(50.0);
    setup.rsi_14 = Some(30.0);
    let mut engine = SignalEngine::new("XAU/USD", None, "conservative", None).unwrap();
    assert!(engine.check_for_signal(NOON, &setup).events.is_empty());
    let params = StrategyParams {
        indicators_enabled: [(promostack_signals::IndicatorId::Stochastic, false)].into(),
        ..engine.strategy().default_params()
    };
    engine.set_params(params).unwrap();
    assert_eq!(engine.check_for_signal(NOON, &setup).events.len(), 1);
}

#[test]
fn queued_switch_waits_for_the_open_signal_to_close() {
    let mut engine = SignalEngine::new("XAU/USD", None, "aggressive", None).unwrap();
    // No open signal: applies at once.
    let switched = engine
        .queue_strategy_switch("conservative", None, NOON)
        .unwrap()
        .unwrap();
    assert_eq!(
        (switched.from.as_str(), switched.to.as_str()),
        ("aggressive", "conservative")
    );
    engine
        .queue_strategy_switch("aggressive", None, NOON)
        .unwrap();

    engine.check_for_signal(NOON, &buy_setup(NOON));
    assert!(engine.open_signal().is_some());
    assert!(
        engine
            .queue_strategy_switch("trend_pullback", None, NOON + 60)
            .unwrap()
            .is_none()
    );
    assert_eq!(engine.queued_strategy(), Some("trend_pullback"));
    assert_eq!(engine.strategy().name(), "aggressive");

    let step = engine.on_price(NOON + 120, 1997.0, None);
    assert_eq!(step.closed.as_ref().unwrap().outcome, Outcome::StopLoss);
    assert_eq!(step.switched.unwrap().to, "trend_pullback");
    assert_eq!(engine.strategy().name(), "trend_pullback");
    assert_eq!(engine.params(), &engine.strategy().default_params());
    assert!(matches!(
        engine.queue_strategy_switch("martingale", None, NOON),
        Err(EngineError::UnknownStrategy { .. })
    ));
}

#[test]
fn on_bar_monitors_then_looks_for_a_new_signal() {
    let mut engine = SignalEngine::new("XAU/USD", None, "aggressive", None).unwrap();
    let bar = Bar {
        time: NOON - 3600,
        open: 2001.0,
        high: 2001.5,
        low: 1999.8,
        close: 2000.0,
    };
    let step = engine.on_bar(&bar, NOON, &buy_setup(NOON));
    assert_eq!(step.events.len(), 1);
    // Next bar stops it out and, at its close, the same setup opens signal #2.
    let bar2 = Bar {
        time: NOON,
        open: 2000.0,
        high: 2000.2,
        low: 1997.5,
        close: 2000.0,
    };
    let step = engine.on_bar(&bar2, NOON + 3600, &buy_setup(NOON + 3600));
    assert_eq!(step.closed.unwrap().outcome, Outcome::StopLoss);
    assert!(matches!(
        step.events.last().unwrap().kind,
        EventKind::Opened { .. }
    ));
    assert_eq!(engine.open_signal().unwrap().header.id, 2);
}

#[test]
fn parameters_validate_and_merge_from_json() {
    let base = StrategyParams::default();
    let p = StrategyParams::with_overrides(
        &base,
        &serde_json::json!({"rsi_oversold": 30, "session_end_hour_utc": 2}),
    )
    .unwrap();
    assert_eq!(p.rsi_oversold, 30.0);
    assert!(
        p.in_session(NOON - 11 * 3600),
        "01:00 is inside an 08:00-02:00 session"
    );
    assert!(
        StrategyParams::with_overrides(
            &base,
            &serde_json::json!({"tp_split_percent": [50, 30, 30]})
        )
        .is_err()
    );
    assert!(
        StrategyParams::with_overrides(&base, &serde_json::json!({"atr_tp2_multiplier": 0.5}))
            .is_err()
    );
    assert!(
        StrategyParams::with_overrides(&base, &serde_json::json!({"no_such_field": 1})).is_err()
    );
    assert!(SignalEngine::new("XAU/USD", Some(-1.0), "aggressive", None).is_err());
}

//! The lifecycle state machine, driven by an injected clock (plain unix seconds) and prices or
//! bars: every event, its P&L in pips, cooldowns, re-validation timing and the timeout.
use promostack_signals::lifecycle::{
    EventKind, Observation, OpenSignal, Outcome, Revalidation, SignalHeader,
};
use promostack_signals::registry::ThesisStatus;
use promostack_signals::timing::{
    FIRST_REVALIDATION_MINUTES, GUIDANCE_COOLDOWN_MINUTES, HARD_TIMEOUT_MINUTES,
    REVALIDATION_INTERVAL_MINUTES,
};
use promostack_signals::{Direction, IndicatorSnapshot, StrategyParams, strategy_by_name};

const T0: i64 = 1_700_000_000;
const MIN: i64 = 60;

/// Gold-style buy: entry 2000.0, SL 1999.0, TPs 2001.2 / 2002.0 / 2002.5, pip 0.1.
fn header(direction: Direction) -> SignalHeader {
    let s = direction.sign();
    SignalHeader {
        id: 7,
        symbol: "XAU/USD".into(),
        strategy: "aggressive".into(),
        direction,
        opened_at: T0,
        entry: 2000.0,
        stop_loss: 2000.0 - s * 1.0,
        take_profits: [2000.0 + s * 1.2, 2000.0 + s * 2.0, 2000.0 + s * 2.5],
        tp_fractions: [0.5, 0.3, 0.2],
        pip_size: 0.1,
    }
}

fn snapshot(rsi: f64) -> IndicatorSnapshot {
    IndicatorSnapshot {
        time: T0,
        close: 2000.0,
        rsi_14: Some(rsi),
        adx_14: Some(25.0),
        macd_hist: Some(0.0),
        stoch_k: Some(15.0),
        stoch_d: Some(14.0),
        bb_upper: Some(2003.0),
        bb_middle: Some(2001.0),
        bb_lower: Some(1999.5),
        atr_14: Some(1.0),
        ..Default::default()
    }
}

fn open(direction: Direction) -> OpenSignal {
    let (signal, event) = OpenSignal::open(
        header(direction),
        vec!["RSI 14: 35.0".into()],
        snapshot(35.0),
        &StrategyParams::default(),
    );
    assert_eq!(
        event.kind,
        EventKind::Opened {
            reasons: vec!["RSI 14: 35.0".into()]
        }
    );
    assert_eq!(event.move_pips, 0.0);
    signal
}

fn price(s: &mut OpenSignal, minutes: i64, p: f64) -> promostack_signals::lifecycle::Observed {
    s.observe(T0 + minutes * MIN, Observation::Price(p), None)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn buy_walks_through_zones_breakeven_and_all_targets() {
    let mut s = open(Direction::Buy);
    assert!(
        price(&mut s, 5, 2000.35).events.is_empty(),
        "29% is below the first zone"
    );

    let e = price(&mut s, 6, 2000.40).events;
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].kind, EventKind::Progress { zone_percent: 30.0 });
    assert!(close(e[0].move_pips, 4.0) && close(e[0].open_pips, 4.0) && e[0].realized_pips == 0.0);

    // 60% reached 3 minutes later: held back by the 10-minute cooldown, sent once it passes.
    assert!(price(&mut s, 9, 2000.75).events.is_empty());
    let e = price(&mut s, 6 + GUIDANCE_COOLDOWN_MINUTES, 2000.75).events;
    assert_eq!(e[0].kind, EventKind::Progress { zone_percent: 60.0 });

    // Breakeven at 70% is never held back, and moves the tracked stop to entry.
    let e = price(&mut s, 17, 2000.85).events;
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].kind, EventKind::Breakeven { stop_moved: true });
    assert_eq!(s.stop_loss, 2000.0);

    // 85% right after the advisory waits for the cooldown the advisory restarted.
    assert!(price(&mut s, 20, 2001.05).events.is_empty());
    let e = price(&mut s, 27, 2001.05).events;
    assert_eq!(e[0].kind, EventKind::Progress { zone_percent: 85.0 });
    assert!(
        price(&mut s, 40, 2001.10).events.is_empty(),
        "each zone fires once"
    );

    let tp1 = price(&mut s, 41, 2001.3);
    assert_eq!(tp1.events[0].kind, EventKind::TakeProfit { level: 1 });
    assert_eq!(tp1.events[0].price, 2001.2, "filled at the target");
    assert!(close(tp1.events[0].realized_pips, 6.0), "50% of 12 pips");
    assert!(close(tp1.events[0].open_pips, 6.0));
    assert!(tp1.closed.is_none());

    let tp2 = price(&mut s, 50, 2002.0);
    assert_eq!(tp2.events[0].kind, EventKind::TakeProfit { level: 2 });
    assert!(close(tp2.events[0].realized_pips, 12.0), "+30% of 20 pips");

    let tp3 = price(&mut s, 55, 2002.6);
    assert_eq!(tp3.events[0].kind, EventKind::TakeProfit { level: 3 });
    assert!(tp3.events[0].closed);
    assert!(close(tp3.events[0].realized_pips, 17.0), "+20% of 25 pips");
    assert_eq!(tp3.closed, Some((Outcome::Tp3, 2002.5)));
    let record = s.into_closed(T0 + 55 * MIN, Outcome::Tp3, 2002.5);
    assert!(close(record.net_pips, 17.0));
    assert_eq!(record.targets_hit, 3);
}

#[test]
fn sell_stop_loss_closes_with_negative_pips() {
    let mut s = open(Direction::Sell);
    assert!(price(&mut s, 1, 2000.5).events.is_empty());
    let out = price(&mut s, 2, 2001.3);
    assert_eq!(
        out.events[0].kind,
        EventKind::StopLoss {
            at_breakeven: false
        }
    );
    assert_eq!(out.events[0].price, 2001.0);
    assert!(close(out.events[0].realized_pips, -10.0));
    assert_eq!(out.closed, Some((Outcome::StopLoss, 2001.0)));
}

#[test]
fn stop_at_entry_after_breakeven_and_after_tp1() {
    let mut s = open(Direction::Buy);
    price(&mut s, 1, 2001.0); // 83%: breakeven advisory (and the 60% zone after it, cooldown permitting)
    assert!(s.breakeven_advised);
    let out = price(&mut s, 30, 1999.9);
    assert_eq!(
        out.events[0].kind,
        EventKind::StopLoss { at_breakeven: true }
    );
    assert_eq!(out.events[0].price, 2000.0);
    assert!(close(out.events[0].realized_pips, 0.0));

    // TP1 hit first, then back to entry: half the position banked at +12 pips.
    let mut s = open(Direction::Buy);
    let out = price(&mut s, 1, 2001.25);
    assert_eq!(
        out.events[0].kind,
        EventKind::Breakeven { stop_moved: true },
        "TP1 implies the advisory"
    );
    assert_eq!(out.events[1].kind, EventKind::TakeProfit { level: 1 });
    let out = price(&mut s, 2, 2000.0);
    assert!(close(out.events[0].realized_pips, 6.0));
    let record = s.into_closed(T0 + 2 * MIN, out.closed.unwrap().0, 2000.0);
    assert!(record.stopped_at_breakeven && close(record.net_pips, 6.0));
}

#[test]
fn bar_touching_stop_and_target_counts_as_stopped() {
    let mut s = open(Direction::Buy);
    let out = s.observe(
        T0 + 60 * MIN,
        Observation::Bar {
            open: 2000.1,
            high: 2001.5,
            low: 1998.9,
            close: 2001.4,
        },
        None,
    );
    assert_eq!(out.events.len(), 1);
    assert_eq!(
        out.events[0].kind,
        EventKind::StopLoss {
            at_breakeven: false
        }
    );
    assert_eq!(out.closed, Some((Outcome::StopLoss, 1999.0)));
}

#[test]
fn bar_gapping_through_levels_fills_at_the_open() {
    let mut s = open(Direction::Buy);
    let out = s.observe(
        T0 + 60 * MIN,
        Observation::Bar {
            open: 1998.5,
            high: 1998.8,
            low: 1998.0,
            close: 1998.2,
        },
        None,
    );
    assert_eq!(out.closed, Some((Outcome::StopLoss, 1998.5)));
    assert!(close(out.events[0].realized_pips, -15.0));

    let mut s = open(Direction::Buy);
    let out = s.observe(
        T0 + 60 * MIN,
        Observation::Bar {
            open: 2001.6,
            high: 2001.9,
            low: 2001.4,
            close: 2001.7,
        },
        None,
    );
    let tp1 = out
        .events
        .iter()
        .find(|e| e.kind == EventKind::TakeProfit { level: 1 })
        .unwrap();
    assert_eq!(tp1.price, 2001.6);
}

#[test]
fn revalidation_first_at_90_then_every_30_minutes() {
    let aggressive = strategy_by_name("aggressive").unwrap();
    let params = aggressive.default_params();
    let weak = snapshot(28.0); // RSI 7 points lower than at entry
    let broken = snapshot(20.0); // 15 points lower
    let reval = |current| {
        Some(Revalidation {
            strategy: aggressive,
            params: &params,
            current,
        })
    };
    let mut s = open(Direction::Buy);

    let t = |m: i64| T0 + m * MIN;
    assert!(
        s.observe(
            t(FIRST_REVALIDATION_MINUTES - 1),
            Observation::Price(2000.1),
            reval(&weak)
        )
        .events
        .is_empty()
    );
    let out = s.observe(
        t(FIRST_REVALIDATION_MINUTES),
        Observation::Price(2000.1),
        reval(&weak),
    );
    match &out.events[0].kind {
        EventKind::ThesisWeakening { report } => {
            assert_eq!(report.status, ThesisStatus::Weakening);
            assert_eq!(
                report.findings[0].indicator,
                promostack_signals::IndicatorId::Rsi
            );
        }
        other => panic!("expected weakening, got {other:?}"),
    }
    assert!(close(out.events[0].move_pips, 1.0));
    assert_eq!(
        s.next_revalidation_at,
        t(FIRST_REVALIDATION_MINUTES + REVALIDATION_INTERVAL_MINUTES)
    );
    assert!(
        s.observe(t(100), Observation::Price(2000.1), reval(&broken))
            .events
            .is_empty(),
        "not due before 120"
    );

    let out = s.observe(t(120), Observation::Price(1999.8), reval(&broken));
    assert!(
        matches!(&out.events[0].kind, EventKind::ThesisBroken { closed: true, report } if report.status == ThesisStatus::Broken)
    );
    assert_eq!(out.closed, Some((Outcome::ThesisBroken, 1999.8)));
    assert!(close(out.events[0].realized_pips, -2.0));
}

#[test]
fn revalidation_waits_for_indicator_values_and_intact_is_silent() {
    let aggressive = strategy_by_name("aggressive").unwrap();
    let params = aggressive.default_params();
    let same = snapshot(35.0);
    let mut s = open(Direction::Buy);
    assert!(
        s.observe(T0 + 90 * MIN, Observation::Price(2000.1), None)
            .events
            .is_empty()
    );
    assert_eq!(s.next_revalidation_at, T0 + 90 * MIN, "still due");
    let out = s.observe(
        T0 + 95 * MIN,
        Observation::Price(2000.1),
        Some(Revalidation {
            strategy: aggressive,
            params: &params,
            current: &same,
        }),
    );
    assert!(out.events.is_empty());
    assert_eq!(s.thesis, ThesisStatus::Intact);
    assert_eq!(s.next_revalidation_at, T0 + 120 * MIN);
}

#[test]
fn hard_timeout_closes_at_the_market() {
    let mut s = open(Direction::Sell);
    assert!(
        price(&mut s, HARD_TIMEOUT_MINUTES - 1, 1999.7)
            .closed
            .is_none()
    );
    let out = price(&mut s, HARD_TIMEOUT_MINUTES, 1999.6);
    assert_eq!(out.events[0].kind, EventKind::Timeout);
    assert_eq!(out.closed, Some((Outcome::Timeout, 1999.6)));
    assert!(close(out.events[0].realized_pips, 4.0));
}

#[test]
fn non_finite_prices_are_ignored() {
    let mut s = open(Direction::Buy);
    assert_eq!(price(&mut s, 1, f64::NAN), Default::default());
    assert_eq!(price(&mut s, 1, f64::INFINITY), Default::default());
    assert_eq!(s.remaining, 1.0);
}

#[test]
fn open_signal_round_trips_through_json() {
    let mut s = open(Direction::Buy);
    price(&mut s, 6, 2000.4);
    let json = serde_json::to_string(&s).unwrap();
    let back: OpenSignal = serde_json::from_str(&json).unwrap();
    assert_eq!(back, s);
    let snap = IndicatorSnapshot::from_json(&s.original_indicators.to_json()).unwrap();
    assert_eq!(snap, s.original_indicators);
    assert!(
        !s.original_indicators.to_json().contains("ema_200"),
        "missing values are left out"
    );
}

#[test]
fn timing_settings_apply_to_signals_opened_with_them() {
    let mut params = StrategyParams::default();
    params.timing.hard_timeout_minutes = 240;
    params.timing.progress_zones_percent = vec![40.0];
    params.timing.breakeven_zone_percent = 60.0;
    let (mut s, _) = OpenSignal::open(header(Direction::Buy), vec![], snapshot(35.0), &params);
    // 35 % of the way to TP1: below the only zone.
    assert!(price(&mut s, 1, 2000.42).events.is_empty());
    let at_40 = price(&mut s, 2, 2000.48).events;
    assert!(
        matches!(at_40[..], [ref e] if e.kind == EventKind::Progress { zone_percent: 40.0 }),
        "{at_40:?}"
    );
    let at_60 = price(&mut s, 3, 2000.72).events;
    assert!(
        matches!(at_60[0].kind, EventKind::Breakeven { .. }),
        "{at_60:?}"
    );
    // The seeds' 3 h timeout does not apply: this signal was opened with 4 h.
    assert!(price(&mut s, HARD_TIMEOUT_MINUTES, 2000.3).closed.is_none());
    let out = price(&mut s, 240, 2000.3);
    assert_eq!(out.closed.map(|c| c.0), Some(Outcome::Timeout));
}

#[test]
fn bad_timing_settings_name_the_field() {
    let mut params = StrategyParams::default();
    params.timing.progress_zones_percent = vec![60.0, 40.0];
    let err = params.validate().unwrap_err().to_string();
    assert!(err.contains("progress_zones_percent"), "{err}");
    let mut params = StrategyParams::default();
    params.timing.hard_timeout_minutes = 0;
    let err = params.validate().unwrap_err().to_string();
    assert!(err.contains("hard_timeout_minutes"), "{err}");
}

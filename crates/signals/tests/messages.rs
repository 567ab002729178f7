//! Message texts: one per lifecycle event kind and per recap period, deterministic.
use promostack_signals::engine::StrategySwitch;
use promostack_signals::lifecycle::{
    ClosedSignal, EventKind, Observation, OpenSignal, Outcome, SignalEvent, SignalHeader,
};
use promostack_signals::messages::{
    RecapPeriod, event_message, recap_message, strategy_switch_message,
};
use promostack_signals::registry::{Finding, IndicatorId, ThesisReport, ThesisStatus};
use promostack_signals::{Direction, IndicatorSnapshot, StrategyParams};

const T0: i64 = 1_700_049_600; // 2023-11-15 12:00:00 UTC

fn header() -> SignalHeader {
    SignalHeader {
        id: 12,
        symbol: "XAU/USD".into(),
        strategy: "trend_pullback".into(),
        direction: Direction::Buy,
        opened_at: T0,
        entry: 2000.0,
        stop_loss: 1997.0,
        take_profits: [2003.0, 2005.0, 2008.0],
        tp_fractions: [0.5, 0.3, 0.2],
        pip_size: 0.1,
    }
}

fn event(kind: EventKind, price: f64, realized: f64, open: f64) -> SignalEvent {
    let h = header();
    SignalEvent {
        time: T0 + 3600,
        move_pips: h.pips_at(price),
        progress_percent: h.progress_to_tp1(price),
        signal: h,
        kind,
        price,
        realized_pips: realized,
        open_pips: open,
        closed: false,
    }
}

#[test]
fn opened_message_lists_levels_with_pips_and_reasons() {
    let (_, opened) = OpenSignal::open(
        header(),
        vec!["RSI 14: 45.2".into()],
        IndicatorSnapshot::default(),
        &StrategyParams::default(),
    );
    let text = event_message(&opened);
    assert_eq!(
        text,
        "XAU/USD BUY\nEntry: 2000.00\nTP1: 2003.00\nTP2: 2005.00\nTP3: 2008.00\nStop Loss: 1997.00\n\n\
         Signal #12 (trend_pullback)\nTargets +30.0 / +50.0 / +80.0 pips, stop -30.0 pips\n\
         Close 50% / 30% / 20% at TP1 / TP2 / TP3\nWhy:\n- RSI 14: 45.2"
    );
}

#[test]
fn every_event_kind_has_its_text() {
    let report = ThesisReport {
        status: ThesisStatus::Weakening,
        findings: vec![Finding {
            indicator: IndicatorId::Rsi,
            status: ThesisStatus::Weakening,
            rule: "RSI fell".into(),
            current: Some("RSI 14: 38.0".into()),
        }],
    };
    let cases = [
        (
            EventKind::TakeProfit { level: 1 },
            2003.0,
            15.0,
            15.0,
            "TP1 HIT: XAU/USD BUY #12 at 2003.00 (+30.0 pips).\nP&L: +30.0 pips (banked +15.0 pips, open +15.0 pips)",
        ),
        (
            EventKind::TakeProfit { level: 3 },
            2008.0,
            46.0,
            0.0,
            "TP3 HIT",
        ),
        (
            EventKind::StopLoss {
                at_breakeven: false,
            },
            1997.0,
            -30.0,
            0.0,
            "STOP LOSS HIT: XAU/USD BUY #12 at 1997.00 (-30.0 pips).",
        ),
        (
            EventKind::StopLoss { at_breakeven: true },
            2000.0,
            15.0,
            0.0,
            "STOPPED AT BREAKEVEN",
        ),
        (
            EventKind::Progress { zone_percent: 60.0 },
            2001.8,
            0.0,
            18.0,
            "PROGRESS: XAU/USD BUY #12 is 60% of the way to TP1 (price 2001.80, +18.0 pips).",
        ),
        (
            EventKind::Breakeven { stop_moved: true },
            2002.1,
            0.0,
            21.0,
            "BREAKEVEN: XAU/USD BUY #12 is 70% of the way to TP1. Move your stop loss to entry (2000.00).",
        ),
        (
            EventKind::ThesisWeakening {
                report: report.clone(),
            },
            1999.0,
            0.0,
            -10.0,
            "THESIS WEAKENING: XAU/USD BUY #12 at 1999.00 (-10.0 pips). Consider reducing exposure:\n- RSI fell (RSI 14: 38.0)",
        ),
        (
            EventKind::ThesisBroken {
                report,
                closed: true,
            },
            1998.0,
            -20.0,
            0.0,
            "THESIS BROKEN: XAU/USD BUY #12 at 1998.00 (-20.0 pips). Signal closed.",
        ),
        (
            EventKind::Timeout,
            2000.5,
            5.0,
            0.0,
            "TIME LIMIT: XAU/USD BUY #12 closed after 60 minutes at 2000.50 (+5.0 pips).",
        ),
        (EventKind::EndOfData, 2000.5, 5.0, 0.0, "END OF DATA"),
    ];
    for (kind, price, realized, open, expected) in cases {
        let e = event(kind, price, realized, open);
        let text = event_message(&e);
        assert!(
            text.starts_with(expected) || text.contains(expected),
            "{text:?} lacks {expected:?}"
        );
        assert_eq!(text, event_message(&e.clone()), "deterministic");
        assert!(!text.contains("NaN"));
    }
    let s = StrategySwitch {
        time: T0,
        from: "aggressive".into(),
        to: "conservative".into(),
    };
    assert_eq!(
        strategy_switch_message(&s),
        "STRATEGY SWITCH: aggressive -> conservative at 2023-11-15 12:00:00 UTC."
    );
}

fn closed(id: u64, closed_at: i64, outcome: Outcome, pips: f64, targets: u8) -> ClosedSignal {
    let mut signal = OpenSignal::open(
        SignalHeader { id, ..header() },
        vec![],
        IndicatorSnapshot::default(),
        &StrategyParams::default(),
    )
    .0;
    signal.observe(closed_at, Observation::Price(2000.0), None);
    let mut c = signal.into_closed(closed_at, outcome, 2000.0);
    c.net_pips = pips;
    c.targets_hit = targets;
    c
}

#[test]
fn daily_and_weekly_recaps() {
    let day = T0 - 12 * 3600; // 2023-11-15 00:00
    let trades = [
        closed(1, day + 3600, Outcome::Tp3, 46.0, 3),
        closed(2, day + 7200, Outcome::StopLoss, -30.0, 0),
        closed(3, day + 86_400 + 60, Outcome::Timeout, 4.5, 0),
    ];
    let daily = recap_message(RecapPeriod::Daily, day, day + 86_400, &trades);
    assert_eq!(
        daily,
        "DAILY RECAP 2023-11-15\nSignals: 2\nTP3: 1 | TP1+ reached: 1 | SL: 1 | Timeout: 0 | Thesis broken: 0\n\
         Win rate: 50.0%\nNet: +16.0 pips\nBest: XAU/USD BUY #1 +46.0 pips\nWorst: XAU/USD BUY #2 -30.0 pips"
    );
    let weekly = recap_message(RecapPeriod::Weekly, day, day + 7 * 86_400, &trades);
    assert!(
        weekly.starts_with("WEEKLY RECAP 2023-11-15 to 2023-11-21\nSignals: 3\n"),
        "{weekly}"
    );
    assert!(weekly.contains("Net: +20.5 pips"));
    assert_eq!(
        recap_message(RecapPeriod::Daily, day - 86_400, day, &trades),
        "DAILY RECAP 2023-11-14\nNo signals closed."
    );
}

/// Copy-trading tools read the first six lines: each one instruction with exactly one number
/// (the price), and the symbol line none.
#[test]
fn the_signal_opens_with_one_instruction_per_line() {
    for direction in [Direction::Buy, Direction::Sell] {
        let mut h = header();
        h.direction = direction;
        let (_, event) = OpenSignal::open(
            h,
            vec![],
            IndicatorSnapshot::default(),
            &StrategyParams::default(),
        );
        let text = event_message(&event);
        let lines: Vec<&str> = text.lines().take(6).collect();
        assert_eq!(lines[0], format!("XAU/USD {}", direction.label()));
        let labels = ["Entry: ", "TP1: ", "TP2: ", "TP3: ", "Stop Loss: "];
        for (line, label) in lines[1..].iter().zip(labels) {
            let value = line
                .strip_prefix(label)
                .unwrap_or_else(|| panic!("{line:?}"));
            assert!(value.parse::<f64>().is_ok(), "{line:?}: one number only");
        }
    }
}

#[test]
fn the_morning_briefing_states_market_strategy_and_open_signal() {
    use promostack_signals::messages::{Briefing, briefing_message};
    let h = header();
    let text = briefing_message(&Briefing {
        symbol: "XAU/USD",
        date: "2026-12-04",
        pip_size: 0.1,
        last_close: Some(2001.5),
        change_pips: Some(-12.0),
        strategy: "aggressive",
        queued: Some("conservative"),
        open: Some(&h),
        session_utc: Some((8, 21)),
        paused: false,
        yesterday: (3, 41.25),
    });
    assert_eq!(
        text,
        "MORNING BRIEFING XAU/USD 2026-12-04\nLast close: 2001.50 (-12.0 pips in 24 h)\n\
         Strategy: aggressive (switching to conservative when the open signal closes)\n\
         Open: XAU/USD BUY #12 from 2000.00\nSignals today between 08:00 and 21:00 UTC.\n\
         Last 24 h: 3 signals closed, +41.2 pips"
    );
    let quiet = briefing_message(&Briefing {
        symbol: "EUR/USD",
        date: "2026-12-05",
        pip_size: 0.0001,
        last_close: None,
        change_pips: None,
        strategy: "conservative",
        queued: None,
        open: None,
        session_utc: None,
        paused: true,
        yesterday: (0, 0.0),
    });
    assert_eq!(
        quiet,
        "MORNING BRIEFING EUR/USD 2026-12-05\nNo market data yet.\nStrategy: conservative\nNo open signal.\nNew signals are paused."
    );
}

//! Deterministic message texts for every lifecycle event and for daily/weekly recaps. Plain
//! text (Telegram-safe without parse mode); numbers use the symbol's price decimals and one
//! decimal for pips. The same input always gives the same text.
use std::fmt::Write as _;

use crate::bars::{UnixSeconds, format_time};
use crate::engine::StrategySwitch;
use crate::lifecycle::{ClosedSignal, EventKind, Outcome, SignalEvent, SignalHeader};
use crate::pips::PipCalculator;
use crate::registry::ThesisReport;

fn price(header: &SignalHeader, value: f64) -> String {
    let decimals = PipCalculator {
        pip_size: header.pip_size,
    }
    .price_decimals();
    format!("{value:.decimals$}")
}

fn pips(value: f64) -> String {
    // Avoid "-0.0".
    let v = if value.abs() < 0.05 { 0.0 } else { value };
    format!("{v:+.1} pips")
}

fn pips_number(value: f64) -> String {
    let v = if value.abs() < 0.05 { 0.0 } else { value };
    format!("{v:+.1}")
}

fn title(h: &SignalHeader) -> String {
    format!("{} {} #{}", h.symbol, h.direction.label(), h.id)
}

fn findings(report: &ThesisReport) -> String {
    let mut s = String::new();
    for f in &report.findings {
        let _ = write!(s, "\n- {}", f.rule);
        if let Some(current) = &f.current {
            let _ = write!(s, " ({current})");
        }
    }
    s
}

/// The text announcing `event`.
pub fn event_message(event: &SignalEvent) -> String {
    let h = &event.signal;
    let p = |v| price(h, v);
    let pnl = format!(
        "P&L: {} (banked {}, open {})",
        pips(event.realized_pips + event.open_pips),
        pips(event.realized_pips),
        pips(event.open_pips)
    );
    match &event.kind {
        EventKind::Opened { reasons } => {
            // The first six lines are for copy-trading tools: one instruction each, no other
            // number on them (docs/forex.md). Everything else follows a blank line.
            let mut s = format!(
                "{} {}\nEntry: {}\nTP1: {}\nTP2: {}\nTP3: {}\nStop Loss: {}\n\nSignal #{} ({})\nTargets {} / {} / {} pips, stop {}\nClose {}% / {}% / {}% at TP1 / TP2 / TP3",
                h.symbol,
                h.direction.label(),
                p(h.entry),
                p(h.take_profits[0]),
                p(h.take_profits[1]),
                p(h.take_profits[2]),
                p(h.stop_loss),
                h.id,
                h.strategy,
                pips_number(h.pips_at(h.take_profits[0])),
                pips_number(h.pips_at(h.take_profits[1])),
                pips_number(h.pips_at(h.take_profits[2])),
                pips(h.pips_at(h.stop_loss)),
                (h.tp_fractions[0] * 100.0).round(),
                (h.tp_fractions[1] * 100.0).round(),
                (h.tp_fractions[2] * 100.0).round(),
            );
            if !reasons.is_empty() {
                s.push_str("\nWhy:");
                for r in reasons {
                    let _ = write!(s, "\n- {r}");
                }
            }
            s
        }
        EventKind::TakeProfit { level } => {
            let tail = match level {
                1 => "Stop moves to entry: the rest of the trade is risk-free.",
                2 => "Let the last part run to TP3.",
                _ => "All targets reached. Trade complete.",
            };
            format!(
                "TP{level} HIT: {} at {} ({}).\n{pnl}\n{tail}",
                title(h),
                p(event.price),
                pips(event.move_pips)
            )
        }
        EventKind::StopLoss { at_breakeven: true } => {
            format!(
                "STOPPED AT BREAKEVEN: {} at {}.\n{pnl}",
                title(h),
                p(event.price)
            )
        }
        EventKind::StopLoss {
            at_breakeven: false,
        } => {
            format!(
                "STOP LOSS HIT: {} at {} ({}).\n{pnl}",
                title(h),
                p(event.price),
                pips(event.move_pips)
            )
        }
        EventKind::Progress { zone_percent } => format!(
            "PROGRESS: {} is {:.0}% of the way to TP1 (price {}, {}).\n{pnl}",
            title(h),
            zone_percent,
            p(event.price),
            pips(event.move_pips)
        ),
        EventKind::Breakeven { stop_moved } => format!(
            "BREAKEVEN: {} is {:.0}% of the way to TP1. Move your stop loss to entry ({}).{}\n{pnl}",
            title(h),
            event.progress_percent.min(100.0),
            p(h.entry),
            if *stop_moved {
                " Tracked stop moved."
            } else {
                ""
            }
        ),
        EventKind::ThesisWeakening { report } => format!(
            "THESIS WEAKENING: {} at {} ({}). Consider reducing exposure:{}\n{pnl}",
            title(h),
            p(event.price),
            pips(event.move_pips),
            findings(report)
        ),
        EventKind::ThesisBroken { report, closed } => format!(
            "THESIS BROKEN: {} at {} ({}).{}{}\n{pnl}",
            title(h),
            p(event.price),
            pips(event.move_pips),
            if *closed {
                " Signal closed."
            } else {
                " Consider closing."
            },
            findings(report)
        ),
        EventKind::Timeout => format!(
            "TIME LIMIT: {} closed after {} minutes at {} ({}).\n{pnl}",
            title(h),
            (event.time - h.opened_at) / 60,
            p(event.price),
            pips(event.move_pips)
        ),
        EventKind::EndOfData => {
            format!(
                "END OF DATA: {} closed at {} ({}).\n{pnl}",
                title(h),
                p(event.price),
                pips(event.move_pips)
            )
        }
    }
}

pub fn strategy_switch_message(switch: &StrategySwitch) -> String {
    format!(
        "STRATEGY SWITCH: {} -> {} at {} UTC.",
        switch.from,
        switch.to,
        format_time(switch.time)
    )
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecapPeriod {
    Daily,
    Weekly,
}

/// Recap of the signals closed in [from, to): count, outcomes, win rate, net pips, best and
/// worst trade. Signals are taken in the order given.
pub fn recap_message(
    period: RecapPeriod,
    from: UnixSeconds,
    to: UnixSeconds,
    closed: &[ClosedSignal],
) -> String {
    let name = match period {
        RecapPeriod::Daily => "DAILY RECAP",
        RecapPeriod::Weekly => "WEEKLY RECAP",
    };
    let day = |t: UnixSeconds| format_time(t)[..10].to_string();
    let range = if to - from <= 86_400 {
        day(from)
    } else {
        format!("{} to {}", day(from), day(to - 1))
    };
    let in_range: Vec<&ClosedSignal> = closed
        .iter()
        .filter(|c| c.closed_at >= from && c.closed_at < to)
        .collect();
    if in_range.is_empty() {
        return format!("{name} {range}\nNo signals closed.");
    }
    let count = |o: Outcome| in_range.iter().filter(|c| c.outcome == o).count();
    let wins = in_range.iter().filter(|c| c.net_pips > 0.0).count();
    let net: f64 = in_range.iter().map(|c| c.net_pips).sum();
    let best = in_range
        .iter()
        .max_by(|a, b| a.net_pips.total_cmp(&b.net_pips));
    let worst = in_range
        .iter()
        .min_by(|a, b| a.net_pips.total_cmp(&b.net_pips));
    let mut s = format!(
        "{name} {range}\nSignals: {}\nTP3: {} | TP1+ reached: {} | SL: {} | Timeout: {} | Thesis broken: {}\nWin rate: {:.1}%\nNet: {}",
        in_range.len(),
        count(Outcome::Tp3),
        in_range.iter().filter(|c| c.targets_hit >= 1).count(),
        count(Outcome::StopLoss),
        count(Outcome::Timeout),
        count(Outcome::ThesisBroken),
        wins as f64 / in_range.len() as f64 * 100.0,
        pips(net),
    );
    if let (Some(b), Some(w)) = (best, worst) {
        let _ = write!(
            s,
            "\nBest: {} {}\nWorst: {} {}",
            title(&b.header),
            pips(b.net_pips),
            title(&w.header),
            pips(w.net_pips)
        );
    }
    s
}

/// What the morning briefing says: the market, the strategy and what is open.
#[derive(Clone, Debug)]
pub struct Briefing<'a> {
    pub symbol: &'a str,
    /// The local date of the briefing, `YYYY-MM-DD`.
    pub date: &'a str,
    pub pip_size: f64,
    pub last_close: Option<f64>,
    /// Move over the last 24 hours of bars, in pips.
    pub change_pips: Option<f64>,
    pub strategy: &'a str,
    pub queued: Option<&'a str>,
    pub open: Option<&'a SignalHeader>,
    /// New signals only in [start, end) UTC, when the session filter is on.
    pub session_utc: Option<(u8, u8)>,
    pub paused: bool,
    /// Signals closed in the last 24 hours and their net pips.
    pub yesterday: (usize, f64),
}

pub fn briefing_message(b: &Briefing<'_>) -> String {
    let decimals = PipCalculator {
        pip_size: b.pip_size,
    }
    .price_decimals();
    let mut s = format!("MORNING BRIEFING {} {}", b.symbol, b.date);
    match (b.last_close, b.change_pips) {
        (Some(close), Some(change)) => {
            let _ = write!(
                s,
                "\nLast close: {close:.decimals$} ({} in 24 h)",
                pips(change)
            );
        }
        (Some(close), None) => {
            let _ = write!(s, "\nLast close: {close:.decimals$}");
        }
        _ => s.push_str("\nNo market data yet."),
    }
    let _ = write!(s, "\nStrategy: {}", b.strategy);
    if let Some(q) = b.queued {
        let _ = write!(s, " (switching to {q} when the open signal closes)");
    }
    match b.open {
        Some(h) => {
            let _ = write!(s, "\nOpen: {} from {:.decimals$}", title(h), h.entry);
        }
        None => s.push_str("\nNo open signal."),
    }
    if b.paused {
        s.push_str("\nNew signals are paused.");
    } else if let Some((start, end)) = b.session_utc {
        let _ = write!(
            s,
            "\nSignals today between {start:02}:00 and {end:02}:00 UTC."
        );
    }
    let (count, net) = b.yesterday;
    if count > 0 {
        let _ = write!(s, "\nLast 24 h: {count} signals closed, {}", pips(net));
    }
    s
}

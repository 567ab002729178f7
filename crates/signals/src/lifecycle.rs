//! The life of one open signal: a state machine fed by (time, price) or (time, bar).
//!
//! Order of checks at each observation (docs/signals.md):
//! 1. stop loss (first: a bar that touches both the stop and a target counts as stopped);
//! 2. targets in order TP1, TP2, TP3 (partial closes by the TP split; TP3 closes the rest);
//! 3. hard timeout (close the rest at the observed price);
//! 4. thesis re-validation when due (by default first at 90 min, then every 30 min);
//! 5. guidance before TP1: breakeven advisory (default 70% of the way to TP1), progress zones
//!    (default 30/40/60/85%) with a cooldown (default 10 minutes).
//!
//! The thresholds are the signal's own copy of `StrategyParams::timing` at its opening.
//!
//! Every event carries the P&L in pips: the price move from entry, the realised pips (weighted
//! by the position fractions already closed) and the open pips of the rest.
use serde::{Deserialize, Serialize};

use crate::bars::UnixSeconds;
use crate::direction::Direction;
use crate::registry::{ThesisReport, ThesisStatus};
use crate::snapshot::IndicatorSnapshot;
use crate::strategy::{Levels, Strategy, StrategyParams};
use crate::timing::{LifecycleTiming, minutes};

/// What does not change while a signal is open; copied into every event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignalHeader {
    pub id: u64,
    pub symbol: String,
    pub strategy: String,
    pub direction: Direction,
    pub opened_at: UnixSeconds,
    pub entry: f64,
    /// The stop at entry (the live stop may move to entry later).
    pub stop_loss: f64,
    pub take_profits: [f64; 3],
    /// Position fractions closed at TP1, TP2, TP3.
    pub tp_fractions: [f64; 3],
    pub pip_size: f64,
}

impl SignalHeader {
    #[inline]
    pub fn pips_at(&self, price: f64) -> f64 {
        self.direction.sign() * (price - self.entry) / self.pip_size
    }

    /// Percent of the way from entry to TP1 (negative when against the signal).
    #[inline]
    pub fn progress_to_tp1(&self, price: f64) -> f64 {
        let span = self.take_profits[0] - self.entry;
        if span == 0.0 {
            0.0
        } else {
            (price - self.entry) / span * 100.0
        }
    }
}

/// An open signal and everything needed to carry on after a restart (serde).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OpenSignal {
    pub header: SignalHeader,
    pub reasons: Vec<String>,
    /// The indicator values the signal was opened on, for thesis re-validation.
    pub original_indicators: IndicatorSnapshot,
    /// The live stop (moves to entry with the breakeven advisory when configured).
    pub stop_loss: f64,
    pub targets_hit: u8,
    /// Fraction of the position still open.
    pub remaining: f64,
    pub realized_pips: f64,
    /// How many progress zones have been announced (zones fire in order).
    pub zones_fired: u8,
    pub breakeven_advised: bool,
    pub last_guidance_at: Option<UnixSeconds>,
    pub next_revalidation_at: UnixSeconds,
    pub thesis: ThesisStatus,
    pub move_sl_to_entry_at_breakeven: bool,
    pub close_on_broken_thesis: bool,
    /// The thresholds the signal was opened with (a later settings change leaves it alone).
    #[serde(default)]
    pub timing: LifecycleTiming,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Closed at TP3 (or at an earlier target when the TP split leaves nothing after it).
    Tp1,
    Tp2,
    Tp3,
    StopLoss,
    Timeout,
    ThesisBroken,
    /// Backtest only: data ended with the signal open; closed at the last close.
    EndOfData,
}

impl Outcome {
    pub const fn label(self) -> &'static str {
        match self {
            Outcome::Tp1 => "tp1",
            Outcome::Tp2 => "tp2",
            Outcome::Tp3 => "tp3",
            Outcome::StopLoss => "sl",
            Outcome::Timeout => "timeout",
            Outcome::ThesisBroken => "thesis_broken",
            Outcome::EndOfData => "end_of_data",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    Opened { reasons: Vec<String> },
    TakeProfit { level: u8 },
    StopLoss { at_breakeven: bool },
    Progress { zone_percent: f64 },
    Breakeven { stop_moved: bool },
    ThesisWeakening { report: ThesisReport },
    ThesisBroken { report: ThesisReport, closed: bool },
    Timeout,
    EndOfData,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignalEvent {
    pub time: UnixSeconds,
    pub signal: SignalHeader,
    pub kind: EventKind,
    /// The price the event happened at (fill price for hits and closes).
    pub price: f64,
    /// Price move from entry in pips, positive in the signal's favour.
    pub move_pips: f64,
    /// Progress from entry to TP1, percent.
    pub progress_percent: f64,
    /// Pips banked so far, weighted by the fractions closed.
    pub realized_pips: f64,
    /// Pips of the still-open fraction at `price`.
    pub open_pips: f64,
    /// The signal is closed after this event.
    pub closed: bool,
}

/// A finished signal.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClosedSignal {
    pub header: SignalHeader,
    pub closed_at: UnixSeconds,
    pub exit_price: f64,
    pub outcome: Outcome,
    pub targets_hit: u8,
    pub stopped_at_breakeven: bool,
    /// Net pips of the whole position.
    pub net_pips: f64,
    pub original_indicators: IndicatorSnapshot,
}

/// What the signal is fed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Observation {
    /// A price seen at the observation time.
    Price(f64),
    /// A bar that ended at the observation time; its path inside is unknown.
    Bar {
        open: f64,
        high: f64,
        low: f64,
        close: f64,
    },
}

/// The means to re-validate: current indicator values and the strategy that judges them.
#[derive(Clone, Copy)]
pub struct Revalidation<'a> {
    pub strategy: &'a dyn Strategy,
    pub params: &'a StrategyParams,
    pub current: &'a IndicatorSnapshot,
}

/// Result of one observation.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Observed {
    pub events: Vec<SignalEvent>,
    /// Set when this observation closed the signal.
    pub closed: Option<(Outcome, f64)>,
}

impl OpenSignal {
    /// A new signal from validated levels. `tp_fractions` must sum to 1.
    pub fn open(
        header: SignalHeader,
        reasons: Vec<String>,
        original_indicators: IndicatorSnapshot,
        params: &StrategyParams,
    ) -> (OpenSignal, SignalEvent) {
        let signal = OpenSignal {
            stop_loss: header.stop_loss,
            next_revalidation_at: header.opened_at
                + minutes(params.timing.first_revalidation_minutes),
            header,
            reasons,
            original_indicators,
            targets_hit: 0,
            remaining: 1.0,
            realized_pips: 0.0,
            zones_fired: 0,
            breakeven_advised: false,
            last_guidance_at: None,
            thesis: ThesisStatus::Intact,
            move_sl_to_entry_at_breakeven: params.move_sl_to_entry_at_breakeven,
            close_on_broken_thesis: params.close_on_broken_thesis,
            timing: params.timing.clone(),
        };
        let opened_at = signal.header.opened_at;
        let entry = signal.header.entry;
        let event = signal.event(
            opened_at,
            EventKind::Opened {
                reasons: signal.reasons.clone(),
            },
            entry,
            false,
        );
        (signal, event)
    }

    pub fn levels(&self) -> Levels {
        Levels {
            entry: self.header.entry,
            stop_loss: self.stop_loss,
            take_profits: self.header.take_profits,
        }
    }

    fn event(&self, time: UnixSeconds, kind: EventKind, price: f64, closed: bool) -> SignalEvent {
        let move_pips = self.header.pips_at(price);
        SignalEvent {
            time,
            signal: self.header.clone(),
            kind,
            price,
            move_pips,
            progress_percent: self.header.progress_to_tp1(price),
            realized_pips: self.realized_pips,
            open_pips: self.remaining * move_pips,
            closed,
        }
    }

    fn close_rest(&mut self, price: f64) {
        self.realized_pips += self.remaining * self.header.pips_at(price);
        self.remaining = 0.0;
    }

    fn stop_at_entry(&self) -> bool {
        self.stop_loss == self.header.entry
    }

    fn advise_breakeven(&mut self, time: UnixSeconds, price: f64, events: &mut Vec<SignalEvent>) {
        self.breakeven_advised = true;
        self.last_guidance_at = Some(time);
        let stop_moved = self.move_sl_to_entry_at_breakeven;
        if stop_moved {
            self.stop_loss = self.header.entry;
        }
        events.push(self.event(time, EventKind::Breakeven { stop_moved }, price, false));
    }

    /// Feed one observation. After a close the signal must not be fed again.
    pub fn observe(
        &mut self,
        time: UnixSeconds,
        obs: Observation,
        revalidation: Option<Revalidation<'_>>,
    ) -> Observed {
        let mut out = Observed::default();
        let (open, high, low, last) = match obs {
            Observation::Price(p) => (p, p, p, p),
            Observation::Bar {
                open,
                high,
                low,
                close,
            } => (open, high, low, close),
        };
        if ![open, high, low, last].iter().all(|v| v.is_finite()) || self.remaining <= 0.0 {
            return out;
        }
        let is_bar = matches!(obs, Observation::Bar { .. });
        let s = self.header.direction.sign();
        let (favourable, adverse) = match self.header.direction {
            Direction::Buy => (high, low),
            Direction::Sell => (low, high),
        };

        // 1. Stop first. A bar that opens beyond the stop fills at its open (gap).
        if s * (adverse - self.stop_loss) <= 0.0 {
            let fill = if is_bar && s * (open - self.stop_loss) < 0.0 {
                open
            } else {
                self.stop_loss
            };
            let at_breakeven = self.stop_at_entry();
            self.close_rest(fill);
            out.events
                .push(self.event(time, EventKind::StopLoss { at_breakeven }, fill, true));
            out.closed = Some((Outcome::StopLoss, fill));
            return out;
        }

        // 2. Targets in order; a bar that opens beyond a target fills at its open.
        while self.targets_hit < 3 {
            let level = self.targets_hit as usize;
            let target = self.header.take_profits[level];
            if s * (favourable - target) < 0.0 {
                break;
            }
            if level == 0 && !self.breakeven_advised {
                // TP1 passes the breakeven zone: the advisory comes first.
                self.advise_breakeven(time, target, &mut out.events);
            }
            let fill = if is_bar && s * (open - target) > 0.0 {
                open
            } else {
                target
            };
            let fraction = if level == 2 {
                self.remaining
            } else {
                self.header.tp_fractions[level].min(self.remaining)
            };
            self.realized_pips += fraction * self.header.pips_at(fill);
            self.remaining -= fraction;
            self.targets_hit += 1;
            let done = self.targets_hit == 3 || self.remaining <= 1e-12;
            if done {
                self.remaining = 0.0;
            }
            out.events.push(self.event(
                time,
                EventKind::TakeProfit {
                    level: self.targets_hit,
                },
                fill,
                done,
            ));
            if done {
                let outcome = [Outcome::Tp1, Outcome::Tp2, Outcome::Tp3][level];
                out.closed = Some((outcome, fill));
                return out;
            }
        }

        // 3. Hard timeout.
        if time - self.header.opened_at >= minutes(self.timing.hard_timeout_minutes) {
            self.close_rest(last);
            out.events
                .push(self.event(time, EventKind::Timeout, last, true));
            out.closed = Some((Outcome::Timeout, last));
            return out;
        }

        // 4. Thesis re-validation when due and indicator values are at hand.
        if time >= self.next_revalidation_at
            && let Some(r) = revalidation
        {
            while self.next_revalidation_at <= time {
                self.next_revalidation_at += minutes(self.timing.revalidation_interval_minutes);
            }
            let report = r.strategy.validate_thesis(
                self.header.direction,
                &self.original_indicators,
                r.current,
                r.params,
            );
            self.thesis = report.status;
            match report.status {
                ThesisStatus::Intact => {}
                ThesisStatus::Weakening => {
                    out.events.push(self.event(
                        time,
                        EventKind::ThesisWeakening { report },
                        last,
                        false,
                    ));
                }
                ThesisStatus::Broken => {
                    let closed = self.close_on_broken_thesis;
                    if closed {
                        self.close_rest(last);
                    }
                    out.events.push(self.event(
                        time,
                        EventKind::ThesisBroken { report, closed },
                        last,
                        closed,
                    ));
                    if closed {
                        out.closed = Some((Outcome::ThesisBroken, last));
                        return out;
                    }
                }
            }
        }

        // 5. Guidance toward TP1.
        if self.targets_hit == 0 {
            let progress = self.header.progress_to_tp1(favourable);
            if progress >= self.timing.breakeven_zone_percent && !self.breakeven_advised {
                self.advise_breakeven(time, favourable, &mut out.events);
            }
            let cooled = self
                .last_guidance_at
                .is_none_or(|t| time - t >= minutes(self.timing.guidance_cooldown_minutes));
            let zones = &self.timing.progress_zones_percent;
            let reached = zones.iter().filter(|&&z| progress >= z).count() as u8;
            if cooled && reached > self.zones_fired {
                let zone_percent = zones[reached as usize - 1];
                self.zones_fired = reached;
                self.last_guidance_at = Some(time);
                out.events.push(self.event(
                    time,
                    EventKind::Progress { zone_percent },
                    favourable,
                    false,
                ));
            }
        }
        out
    }

    /// Close at `price` without a market reason (backtest end of data).
    pub fn force_close(&mut self, time: UnixSeconds, price: f64) -> SignalEvent {
        self.close_rest(price);
        self.event(time, EventKind::EndOfData, price, true)
    }

    /// The record of this signal once `observe` (or `force_close`) closed it.
    pub fn into_closed(
        self,
        closed_at: UnixSeconds,
        outcome: Outcome,
        exit_price: f64,
    ) -> ClosedSignal {
        ClosedSignal {
            stopped_at_breakeven: outcome == Outcome::StopLoss && self.stop_at_entry(),
            header: self.header,
            closed_at,
            exit_price,
            outcome,
            targets_hit: self.targets_hit,
            net_pips: self.realized_pips,
            original_indicators: self.original_indicators,
        }
    }
}

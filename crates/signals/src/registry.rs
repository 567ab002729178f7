//! The indicator registry: one table, read by signal generation (`signal`), thesis
//! re-validation (`validate`) and messages (`display`). Disabling an entry (its `enabled`
//! default, or `StrategyParams::indicators_enabled`) removes it from both generation and
//! validation. Adding an indicator = one entry here (and its value in `IndicatorSnapshot`).
use serde::{Deserialize, Serialize};

use crate::direction::Direction;
use crate::snapshot::IndicatorSnapshot;
use crate::strategy::StrategyParams;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IndicatorId {
    EmaTrend,
    Adx,
    Dmi,
    Rsi,
    Macd,
    Bollinger,
    Stochastic,
    Atr,
}

/// Which directions an indicator supports right now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Support {
    pub buy: bool,
    pub sell: bool,
}

impl Support {
    pub const fn allows(self, d: Direction) -> bool {
        match d {
            Direction::Buy => self.buy,
            Direction::Sell => self.sell,
        }
    }
}

/// Verdict on an open signal's thesis, from best to worst.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThesisStatus {
    Intact,
    Weakening,
    Broken,
}

/// Filters vote on direction; volatility entries only inform (sizing, display).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Filter,
    Volatility,
}

pub struct IndicatorEntry {
    pub id: IndicatorId,
    pub name: &'static str,
    /// Default; `StrategyParams::indicators_enabled` overrides it per strategy configuration.
    pub enabled: bool,
    pub role: Role,
    /// Buy/sell conditions. `None` when the snapshot lacks a needed value (warm-up).
    pub signal: fn(&IndicatorSnapshot, &StrategyParams) -> Option<Support>,
    pub signal_rule: &'static str,
    /// Weakening/broken for an open signal, from the values it opened on and the current ones.
    /// `None` when a value is missing (cannot judge: counted as intact).
    pub validate: fn(Direction, &IndicatorSnapshot, &IndicatorSnapshot) -> Option<ThesisStatus>,
    pub weakening_rule: &'static str,
    pub broken_rule: &'static str,
    /// One line for messages, e.g. "RSI 14: 38.21".
    pub display: fn(&IndicatorSnapshot) -> Option<String>,
}

fn both(ok: bool) -> Support {
    Support { buy: ok, sell: ok }
}

fn worst(weakening: bool, broken: bool) -> ThesisStatus {
    if broken {
        ThesisStatus::Broken
    } else if weakening {
        ThesisStatus::Weakening
    } else {
        ThesisStatus::Intact
    }
}

pub static INDICATOR_REGISTRY: [IndicatorEntry; 8] = [
    IndicatorEntry {
        id: IndicatorId::EmaTrend,
        name: "EMA trend 50/200",
        enabled: true,
        role: Role::Filter,
        signal: |s, _| {
            let (e50, e200) = (s.ema_50?, s.ema_200?);
            Some(Support {
                buy: e50 > e200 && s.close > e200,
                sell: e50 < e200 && s.close < e200,
            })
        },
        signal_rule: "buy: EMA50 above EMA200 and close above EMA200; sell: the mirror",
        validate: |d, _orig, cur| {
            let (e50, e200) = (cur.ema_50?, cur.ema_200?);
            let s = d.sign();
            Some(worst(s * (cur.close - e200) < 0.0, s * (e50 - e200) < 0.0))
        },
        weakening_rule: "close back across EMA200",
        broken_rule: "EMA50 crossed EMA200 against the signal",
        display: |s| Some(format!("EMA 50/200: {:.5} / {:.5}", s.ema_50?, s.ema_200?)),
    },
    IndicatorEntry {
        id: IndicatorId::Adx,
        name: "ADX 14",
        enabled: true,
        role: Role::Filter,
        signal: |s, p| Some(both(s.adx_14? >= p.adx_threshold)),
        signal_rule: "ADX at or above adx_threshold (trend strong enough), either direction",
        validate: |_, orig, cur| {
            let (a0, a) = (orig.adx_14?, cur.adx_14?);
            Some(worst(a < 0.75 * a0, a < 0.5 * a0))
        },
        weakening_rule: "ADX below 75% of its value at entry",
        broken_rule: "ADX below half its value at entry",
        display: |s| Some(format!("ADX 14: {:.1}", s.adx_14?)),
    },
    IndicatorEntry {
        id: IndicatorId::Dmi,
        name: "+DI/-DI 14",
        enabled: true,
        role: Role::Filter,
        signal: |s, _| {
            let (p, m) = (s.plus_di_14?, s.minus_di_14?);
            Some(Support {
                buy: p > m,
                sell: m > p,
            })
        },
        signal_rule: "buy: +DI above -DI; sell: -DI above +DI",
        validate: |d, orig, cur| {
            let spread0 = d.sign() * (orig.plus_di_14? - orig.minus_di_14?);
            let spread = d.sign() * (cur.plus_di_14? - cur.minus_di_14?);
            Some(worst(spread0 > 0.0 && spread < 0.5 * spread0, spread < 0.0))
        },
        weakening_rule: "DI spread in the signal's favour shrank below half of entry's",
        broken_rule: "DI lines crossed against the signal",
        display: |s| {
            Some(format!(
                "+DI/-DI: {:.1} / {:.1}",
                s.plus_di_14?, s.minus_di_14?
            ))
        },
    },
    IndicatorEntry {
        id: IndicatorId::Rsi,
        name: "RSI 14",
        enabled: true,
        role: Role::Filter,
        signal: |s, p| {
            let r = s.rsi_14?;
            Some(Support {
                buy: r < p.rsi_oversold,
                sell: r > p.rsi_overbought,
            })
        },
        signal_rule: "buy: RSI below rsi_oversold; sell: RSI above rsi_overbought",
        validate: |d, orig, cur| {
            let fall = d.sign() * (orig.rsi_14? - cur.rsi_14?);
            Some(worst(fall > 5.0, fall > 12.0))
        },
        weakening_rule: "RSI moved 5 points further against the signal than at entry",
        broken_rule: "RSI moved 12 points further against the signal than at entry",
        display: |s| Some(format!("RSI 14: {:.1}", s.rsi_14?)),
    },
    IndicatorEntry {
        id: IndicatorId::Macd,
        name: "MACD 12/26/9",
        enabled: true,
        role: Role::Filter,
        signal: |s, _| {
            let h = s.macd_hist?;
            Some(Support {
                buy: h > 0.0,
                sell: h < 0.0,
            })
        },
        signal_rule: "buy: histogram above 0; sell: below 0",
        validate: |d, orig, cur| {
            let atr = orig.atr_14?;
            let worsened = d.sign() * (orig.macd_hist? - cur.macd_hist?);
            Some(worst(worsened > 0.05 * atr, worsened > 0.15 * atr))
        },
        weakening_rule: "histogram moved against the signal by over 0.05 ATR since entry",
        broken_rule: "histogram moved against the signal by over 0.15 ATR since entry",
        display: |s| {
            Some(format!(
                "MACD: {:.5} (signal {:.5}, hist {:.5})",
                s.macd?, s.macd_signal?, s.macd_hist?
            ))
        },
    },
    IndicatorEntry {
        id: IndicatorId::Bollinger,
        name: "Bollinger 20/2",
        enabled: true,
        role: Role::Filter,
        signal: |s, p| {
            let (up, lo, atr) = (s.bb_upper?, s.bb_lower?, s.atr_14?);
            let near = p.bb_touch_atr * atr;
            Some(Support {
                buy: s.close - lo <= near,
                sell: up - s.close <= near,
            })
        },
        signal_rule: "buy: close within bb_touch_atr ATR of (or below) the lower band; sell: the upper band",
        validate: |d, _orig, cur| {
            let (up, lo, atr) = (cur.bb_upper?, cur.bb_lower?, cur.atr_14?);
            let outside = match d {
                Direction::Buy => lo - cur.close,
                Direction::Sell => cur.close - up,
            };
            Some(worst(outside > 0.0, outside > 0.5 * atr))
        },
        weakening_rule: "close outside the band on the losing side",
        broken_rule: "close more than 0.5 ATR outside the band on the losing side",
        display: |s| {
            Some(format!(
                "Bollinger: {:.5} / {:.5} / {:.5}",
                s.bb_upper?, s.bb_middle?, s.bb_lower?
            ))
        },
    },
    IndicatorEntry {
        id: IndicatorId::Stochastic,
        name: "Stochastic 14/3/3",
        enabled: true,
        role: Role::Filter,
        signal: |s, p| {
            let k = s.stoch_k?;
            Some(Support {
                buy: k < p.stoch_oversold,
                sell: k > p.stoch_overbought,
            })
        },
        signal_rule: "buy: %K below stoch_oversold; sell: %K above stoch_overbought",
        validate: |d, orig, cur| {
            let (k0, k, dd) = (orig.stoch_k?, cur.stoch_k?, cur.stoch_d?);
            let s = d.sign();
            let falling = s * (k - dd) < 0.0 && s * (k - k0) < 0.0;
            let pinned = match d {
                Direction::Buy => k < 10.0,
                Direction::Sell => k > 90.0,
            };
            Some(worst(falling, falling && pinned))
        },
        weakening_rule: "%K below %D and worse than at entry",
        broken_rule: "as weakening, and %K pinned in the extreme against the signal (<10 buy, >90 sell)",
        display: |s| {
            Some(format!(
                "Stochastic: %K {:.1} %D {:.1}",
                s.stoch_k?, s.stoch_d?
            ))
        },
    },
    IndicatorEntry {
        id: IndicatorId::Atr,
        name: "ATR 14",
        enabled: true,
        role: Role::Volatility,
        signal: |s, _| Some(both(s.atr_14? > 0.0)),
        signal_rule: "volatility only: sizes SL and TPs, never votes",
        validate: |_, orig, cur| {
            let (a0, a) = (orig.atr_14?, cur.atr_14?);
            Some(worst(a > 2.0 * a0, false))
        },
        weakening_rule: "ATR more than doubled since entry (volatility shock)",
        broken_rule: "never",
        display: |s| Some(format!("ATR 14: {:.5}", s.atr_14?)),
    },
];

pub fn entry(id: IndicatorId) -> &'static IndicatorEntry {
    INDICATOR_REGISTRY
        .iter()
        .find(|e| e.id == id)
        .unwrap_or(&INDICATOR_REGISTRY[0])
}

pub fn is_enabled(id: IndicatorId, params: &StrategyParams) -> bool {
    params
        .indicators_enabled
        .get(&id)
        .copied()
        .unwrap_or(entry(id).enabled)
}

/// The direction on which all enabled `required` filters agree and at least
/// `min(min_confirmations, enabled confirmations)` of `confirmations` agree; `None` if no
/// direction or both qualify. Reasons name each agreeing indicator with its value.
pub fn vote(
    snapshot: &IndicatorSnapshot,
    params: &StrategyParams,
    required: &[IndicatorId],
    confirmations: &[IndicatorId],
    min_confirmations: usize,
) -> Option<(Direction, Vec<String>)> {
    let supports = |id: IndicatorId, d: Direction| {
        (entry(id).signal)(snapshot, params).is_some_and(|s| s.allows(d))
    };
    let enabled = |id: &&IndicatorId| is_enabled(**id, params);
    let needed = min_confirmations.min(confirmations.iter().filter(enabled).count());
    let mut found = None;
    for direction in [Direction::Buy, Direction::Sell] {
        // Decide first; format reasons only for the winner (this runs on every bar).
        if !required
            .iter()
            .filter(enabled)
            .all(|&id| supports(id, direction))
        {
            continue;
        }
        if confirmations
            .iter()
            .filter(enabled)
            .filter(|&&id| supports(id, direction))
            .count()
            < needed
        {
            continue;
        }
        if found.is_some() {
            return None;
        }
        found = Some(direction);
    }
    let direction = found?;
    let reasons = required
        .iter()
        .filter(enabled)
        .chain(
            confirmations
                .iter()
                .filter(enabled)
                .filter(|&&id| supports(id, direction)),
        )
        .map(|&id| {
            let e = entry(id);
            (e.display)(snapshot).unwrap_or_else(|| e.name.to_string())
        })
        .collect();
    Some((direction, reasons))
}

/// One indicator's verdict in a re-validation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub indicator: IndicatorId,
    pub status: ThesisStatus,
    /// The rule that fired.
    pub rule: String,
    pub current: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ThesisReport {
    pub status: ThesisStatus,
    /// Only the weakening or broken indicators.
    pub findings: Vec<Finding>,
}

/// Re-validate an open signal with the enabled entries among `ids`: broken if any is broken,
/// else weakening if any is weakening, else intact.
pub fn validate(
    ids: &[IndicatorId],
    direction: Direction,
    original: &IndicatorSnapshot,
    current: &IndicatorSnapshot,
    params: &StrategyParams,
) -> ThesisReport {
    let mut findings = Vec::new();
    for &id in ids.iter().filter(|&&id| is_enabled(id, params)) {
        let e = entry(id);
        let status = (e.validate)(direction, original, current).unwrap_or(ThesisStatus::Intact);
        if status != ThesisStatus::Intact {
            let rule = if status == ThesisStatus::Broken {
                e.broken_rule
            } else {
                e.weakening_rule
            };
            findings.push(Finding {
                indicator: id,
                status,
                rule: rule.to_string(),
                current: (e.display)(current),
            });
        }
    }
    let status = findings
        .iter()
        .map(|f| f.status)
        .max()
        .unwrap_or(ThesisStatus::Intact);
    ThesisReport { status, findings }
}

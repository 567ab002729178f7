//! The indicator registry table: one entry per id, and no entry judges or votes on values it
//! does not have (warm-up), so nothing missing can make a signal.
use std::collections::BTreeSet;

use promostack_signals::registry::{
    INDICATOR_REGISTRY, IndicatorId, ThesisStatus, entry, validate, vote,
};
use promostack_signals::{Direction, IndicatorSnapshot, STRATEGIES, StrategyParams};

#[test]
fn one_entry_per_indicator_with_rules_described() {
    let ids: BTreeSet<IndicatorId> = INDICATOR_REGISTRY.iter().map(|e| e.id).collect();
    assert_eq!(ids.len(), INDICATOR_REGISTRY.len());
    for e in &INDICATOR_REGISTRY {
        assert_eq!(entry(e.id).name, e.name);
        assert!(
            !e.signal_rule.is_empty() && !e.weakening_rule.is_empty() && !e.broken_rule.is_empty()
        );
    }
}

#[test]
fn missing_values_never_vote_judge_or_display() {
    let empty = IndicatorSnapshot {
        close: 100.0,
        ..Default::default()
    };
    let params = StrategyParams::default();
    for e in &INDICATOR_REGISTRY {
        assert_eq!((e.signal)(&empty, &params), None, "{:?}", e.id);
        assert_eq!(
            (e.validate)(Direction::Buy, &empty, &empty),
            None,
            "{:?}",
            e.id
        );
        assert_eq!((e.display)(&empty), None, "{:?}", e.id);
    }
    for s in STRATEGIES {
        assert_eq!(
            s.check_for_signal(&empty, &s.default_params()),
            None,
            "{}",
            s.name()
        );
    }
    let all: Vec<IndicatorId> = INDICATOR_REGISTRY.iter().map(|e| e.id).collect();
    assert_eq!(
        validate(&all, Direction::Sell, &empty, &empty, &params).status,
        ThesisStatus::Intact
    );
    assert_eq!(vote(&empty, &params, &[IndicatorId::Rsi], &[], 0), None);
}

#[test]
fn disabled_entries_are_skipped_by_validation() {
    let original = IndicatorSnapshot {
        rsi_14: Some(40.0),
        ..Default::default()
    };
    let current = IndicatorSnapshot {
        rsi_14: Some(20.0),
        ..Default::default()
    };
    let mut params = StrategyParams::default();
    assert_eq!(
        validate(
            &[IndicatorId::Rsi],
            Direction::Buy,
            &original,
            &current,
            &params
        )
        .status,
        ThesisStatus::Broken
    );
    params.indicators_enabled.insert(IndicatorId::Rsi, false);
    assert_eq!(
        validate(
            &[IndicatorId::Rsi],
            Direction::Buy,
            &original,
            &current,
            &params
        )
        .status,
        ThesisStatus::Intact
    );
}

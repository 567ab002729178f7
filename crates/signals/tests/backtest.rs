//! Backtests over the real EURUSD H1 bars (the parity fixture repeats them): the report's
//! numbers must agree with its own trade list, and finer bars must aggregate to the timeframe.
use promostack_signals::backtest::{BacktestOptions, run_backtest};
use promostack_signals::lifecycle::Outcome;
use promostack_signals::{Bar, Timeframe, parse_ohlc_csv, strategy_names};

const FIXTURE: &str = include_str!("fixtures/talib_eurusd_h1.csv");

fn options(strategy: &str, timeframe: Timeframe) -> BacktestOptions {
    BacktestOptions::new("EUR/USD", strategy, timeframe)
}

#[test]
fn every_strategy_report_is_consistent_with_its_trades() {
    let series = parse_ohlc_csv(FIXTURE).unwrap();
    for name in strategy_names() {
        let mut calls = 0;
        let r = run_backtest(
            &series.bars,
            3600,
            &options(name, Timeframe::H1),
            &mut |done, total| {
                assert!(done <= total);
                calls += 1;
            },
        )
        .unwrap();
        assert!(calls >= 2, "{name}: progress reported");
        assert_eq!(r.bars, 5000);
        assert_eq!(r.pip_size, 0.0001);
        assert!(r.counts.signals > 0, "{name}: no signals on 5000 bars");
        assert_eq!(r.trades.len(), r.counts.signals, "{name}");
        let by = |o: Outcome| r.trades.iter().filter(|t| t.outcome == o).count();
        assert_eq!(r.counts.sl_hits, by(Outcome::StopLoss));
        assert_eq!(r.counts.timeouts, by(Outcome::Timeout));
        assert_eq!(
            r.counts.tp3_hits,
            by(Outcome::Tp3),
            "{name}: with a 50/30/20 split only TP3 closes on a target"
        );
        assert_eq!(
            r.counts.tp1_hits,
            r.trades.iter().filter(|t| t.targets_hit >= 1).count()
        );
        assert_eq!(
            r.counts.tp2_hits,
            r.trades.iter().filter(|t| t.targets_hit >= 2).count()
        );
        assert!(r.counts.tp1_hits >= r.counts.tp2_hits && r.counts.tp2_hits >= r.counts.tp3_hits);
        let net: f64 = r.trades.iter().map(|t| t.pips).sum();
        assert!((net - r.stats.net_pips).abs() < 1e-6);
        assert!((r.equity.last().unwrap().pips - r.stats.net_pips).abs() < 1e-9);
        assert!(
            (r.stats.expectancy_pips * r.counts.signals as f64 - r.stats.net_pips).abs() < 1e-6
        );
        assert_eq!(
            r.stats.wins,
            r.trades.iter().filter(|t| t.pips > 0.0).count()
        );
        assert_eq!(
            r.stats.draws,
            r.trades.iter().filter(|t| t.pips == 0.0).count()
        );
        let decided = (r.stats.wins + r.stats.losses) as f64;
        assert!((r.stats.win_rate_percent - r.stats.wins as f64 * 100.0 / decided).abs() < 1e-9);
        // Drawdown recomputed from the equity curve.
        let (mut peak, mut dd) = (0.0f64, 0.0f64);
        for p in &r.equity {
            peak = peak.max(p.pips);
            dd = dd.max(peak - p.pips);
        }
        assert!((dd - r.stats.drawdown.max_pips).abs() < 1e-9);
        for t in &r.trades {
            assert!(t.pips.is_finite() && t.entry.is_finite() && t.exit_price.is_finite());
            assert!(t.closed_at > t.opened_at || t.outcome == Outcome::EndOfData);
            if t.outcome == Outcome::Timeout {
                assert!(t.closed_at - t.opened_at >= 180 * 60);
            }
            // Closed no later than the first bar closing 180 minutes or more after entry
            // (weekend gaps make that bar later than 180 minutes).
            let deadline = series
                .bars
                .iter()
                .map(|b| b.time + 3600)
                .find(|&c| c >= t.opened_at + 180 * 60);
            if let Some(deadline) = deadline {
                assert!(
                    t.closed_at <= deadline,
                    "{name}: trade {} outlived its timeout",
                    t.id
                );
            }
        }
        // One open signal at a time: trades never overlap.
        for w in r.trades.windows(2) {
            assert!(
                w[1].opened_at >= w[0].closed_at,
                "{name}: overlapping trades"
            );
        }
    }
}

#[test]
fn quarter_hour_bars_are_aggregated_to_hours() {
    let series = parse_ohlc_csv(FIXTURE).unwrap();
    // Split each real hour into four 15-minute bars whose aggregate is the hour itself.
    let mut quarters = Vec::new();
    for b in &series.bars[..2000] {
        let mid = (b.open + b.close) / 2.0;
        quarters.push(Bar {
            time: b.time,
            open: b.open,
            high: b.high,
            low: b.open.min(mid),
            close: mid,
        });
        quarters.push(Bar {
            time: b.time + 900,
            open: mid,
            high: mid.max(b.close),
            low: b.low,
            close: mid,
        });
        quarters.push(Bar {
            time: b.time + 1800,
            open: mid,
            high: mid,
            low: mid.min(b.close),
            close: mid,
        });
        quarters.push(Bar {
            time: b.time + 2700,
            open: mid,
            high: mid.max(b.close),
            low: mid.min(b.close),
            close: b.close,
        });
    }
    let hourly = run_backtest(
        &series.bars[..2000],
        3600,
        &options("aggressive", Timeframe::H1),
        &mut |_, _| {},
    )
    .unwrap();
    let from_quarters = run_backtest(
        &quarters,
        900,
        &options("aggressive", Timeframe::H1),
        &mut |_, _| {},
    )
    .unwrap();
    assert_eq!(from_quarters.bars, 2000);
    assert_eq!(from_quarters.trades, hourly.trades);
    let on_quarters = run_backtest(
        &quarters,
        900,
        &options("aggressive", Timeframe::M15),
        &mut |_, _| {},
    )
    .unwrap();
    assert_eq!(on_quarters.bars, 8000);
    assert!(
        run_backtest(
            &series.bars,
            3600,
            &options("aggressive", Timeframe::M15),
            &mut |_, _| {}
        )
        .is_err()
    );
    assert!(
        run_backtest(
            &series.bars,
            3600,
            &options("nope", Timeframe::H1),
            &mut |_, _| {}
        )
        .is_err()
    );
}

#[test]
fn too_few_bars_give_an_empty_report() {
    let series = parse_ohlc_csv(FIXTURE).unwrap();
    let r = run_backtest(
        &series.bars[..30],
        3600,
        &options("aggressive", Timeframe::H1),
        &mut |_, _| {},
    )
    .unwrap();
    assert_eq!(
        (r.counts.signals, r.stats.net_pips, r.stats.win_rate_percent),
        (0, 0.0, 0.0)
    );
    assert!(r.trades.is_empty() && r.equity.is_empty());
}

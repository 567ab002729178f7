//! Sweeps: grid parsing and its errors, window planning, the same result on 1 and 2 threads,
//! and walk-forward's promise: no out-of-sample bar reaches the parameters chosen for it.
use promostack_signals::backtest::{Costs, PreparedSeries};
use promostack_signals::sweep::{
    Grid, Objective, Summary, SweepConfig, SweepError, WARMUP_BARS, Window, choose, plan_windows,
    walk_forward,
};
use promostack_signals::{Bar, StrategyParams, Timeframe, parse_ohlc_csv, strategy_by_name};

const FIXTURE: &str = include_str!("fixtures/talib_eurusd_h1.csv");

fn base() -> StrategyParams {
    strategy_by_name("aggressive").unwrap().default_params()
}

fn config(threads: usize, objective: Objective) -> SweepConfig {
    SweepConfig {
        symbol: "EUR/USD".into(),
        pip_size: None,
        strategy: "aggressive".into(),
        costs: Costs::default(),
        objective,
        min_trades: 5,
        threads,
    }
}

#[test]
fn the_issue_grid_parses_with_short_names() {
    let g = Grid::parse("rsi_buy=35..45:5,sl_atr=1.0..2.0:0.25", &base()).unwrap();
    assert_eq!(g.axes[0].name, "rsi_oversold");
    assert_eq!(g.axes[0].values, vec![35.0, 40.0, 45.0]);
    assert_eq!(g.axes[1].name, "atr_sl_multiplier");
    assert_eq!(g.axes[1].values, vec![1.0, 1.25, 1.5, 1.75, 2.0]);
    assert_eq!(g.count(), 15);
    let combos = g.combinations(&base(), 100).unwrap();
    assert_eq!(combos.len(), 15);
    // The last axis varies fastest.
    assert_eq!(
        (combos[1].rsi_oversold, combos[1].atr_sl_multiplier),
        (35.0, 1.25)
    );
    assert_eq!(
        (combos[14].rsi_oversold, combos[14].atr_sl_multiplier),
        (45.0, 2.0)
    );
    // Everything else stays at the base.
    assert_eq!(combos[7].adx_threshold, base().adx_threshold);
    // Full names, single values and whole-number parameters.
    let g = Grid::parse("adx_threshold=20, session_start_hour_utc=6..8:1", &base()).unwrap();
    assert_eq!(g.count(), 3);
    assert_eq!(
        g.combinations(&base(), 3).unwrap()[2].session_start_hour_utc,
        8
    );
}

#[test]
fn bad_grids_are_refused_before_any_work() {
    let b = base();
    let err = |spec: &str| Grid::parse(spec, &b).unwrap_err();
    assert!(matches!(err(""), SweepError::EmptyGrid));
    let unknown = err("rsi_bye=30..40:5");
    assert!(matches!(unknown, SweepError::UnknownName { .. }));
    assert!(unknown.to_string().contains("rsi_oversold"), "{unknown}");
    assert!(matches!(
        err("rsi_buy=45..35:5"),
        SweepError::Reversed { .. }
    ));
    assert!(err("rsi_buy=45..35:5").to_string().contains("write 35..45"));
    assert!(matches!(err("rsi_buy=35..45:0"), SweepError::BadStep(_)));
    assert!(matches!(err("rsi_buy=35..45:-5"), SweepError::BadStep(_)));
    assert!(matches!(err("rsi_buy=35..45"), SweepError::Syntax(_)));
    assert!(matches!(err("rsi_buy"), SweepError::Syntax(_)));
    assert!(matches!(
        err("rsi_buy=..45:5"),
        SweepError::BadNumber { .. }
    ));
    assert!(matches!(err("rsi_buy=abc"), SweepError::BadNumber { .. }));
    assert!(matches!(
        err("rsi_buy=30,rsi_oversold=35"),
        SweepError::Duplicate(_)
    ));
    assert!(matches!(
        err("session_end_hour_utc=20.5"),
        SweepError::NotWhole(..)
    ));
    // Booleans and the TP split are not numeric parameters.
    assert!(matches!(
        err("close_on_broken_thesis=1"),
        SweepError::UnknownName { .. }
    ));
    let big = Grid::parse("rsi_buy=1..100:1,sl_atr=0.1..5:0.1", &b).unwrap();
    assert!(matches!(
        big.combinations(&b, 1000),
        Err(SweepError::TooMany {
            count: 5000,
            max: 1000
        })
    ));
    // A combination the strategy rejects (TP1 beyond TP2) names itself.
    let bad = Grid::parse("tp1_atr=1.0..3.0:1.0", &b).unwrap();
    let e = bad.combinations(&b, 10).unwrap_err();
    assert!(matches!(e, SweepError::InvalidCombination { .. }));
    assert!(e.to_string().contains("atr_tp1_multiplier=2"), "{e}");
}

#[test]
fn windows_roll_after_the_warm_up_and_refuse_short_parts() {
    let w = plan_windows(0..5000, 1500, 500).unwrap();
    assert_eq!(w.len(), 6);
    assert_eq!(
        w[0],
        Window {
            in_sample: 200..1700,
            out_of_sample: 1700..2200
        }
    );
    for pair in w.windows(2) {
        assert_eq!(
            pair[1].out_of_sample.start, pair[0].out_of_sample.end,
            "OOS parts tile"
        );
    }
    assert!(w.iter().all(|x| x.in_sample.end == x.out_of_sample.start));
    assert!(w.last().unwrap().out_of_sample.end <= 5000);
    // A range starting later starts there.
    assert_eq!(
        plan_windows(1000..5000, 1000, 1000).unwrap()[0]
            .in_sample
            .start,
        1000
    );
    assert!(matches!(
        plan_windows(0..5000, WARMUP_BARS - 1, 500),
        Err(SweepError::WindowTooShort {
            name: "in-sample",
            ..
        })
    ));
    assert!(matches!(
        plan_windows(0..5000, 1500, 50),
        Err(SweepError::WindowTooShort {
            name: "out-of-sample",
            ..
        })
    ));
    let e = plan_windows(0..1000, 1500, 500).unwrap_err();
    assert!(
        matches!(e, SweepError::TooFewBars { needed: 2200, .. }),
        "{e}"
    );
}

fn run(
    bars: &[Bar],
    threads: usize,
    objective: Objective,
) -> promostack_signals::sweep::SweepReport {
    let prepared = PreparedSeries::new(bars, 3600, Timeframe::H1).unwrap();
    let grid = Grid::parse("rsi_buy=30..45:5,sl_atr=0.8..2.0:0.4", &base()).unwrap();
    let combos = grid.combinations(&base(), 100).unwrap();
    let windows = plan_windows(0..prepared.bars.len(), 1000, 500).unwrap();
    walk_forward(
        &prepared,
        &config(threads, objective),
        &grid,
        &combos,
        &windows,
        &|_, _| {},
    )
    .unwrap()
}

#[test]
fn two_threads_give_the_one_thread_result() {
    let bars = parse_ohlc_csv(FIXTURE).unwrap().bars;
    let one = run(&bars, 1, Objective::ProfitFactor);
    let mut two = run(&bars, 2, Objective::ProfitFactor);
    assert_eq!(two.threads, 2);
    two.threads = 1;
    assert_eq!(one, two);
    assert_eq!(one.combinations, 16);
    assert_eq!(one.windows.len(), 7);
    assert_eq!(one.bar_replays, 16 * 7 * 1500);
    // The chosen combination really is the in-sample best among those with enough trades,
    // and the stitched out-of-sample result is the sum of the windows'.
    let mut oos_pips = 0.0;
    for w in &one.windows {
        if let Some(r) = &w.out_of_sample_result {
            oos_pips += r.net_pips;
            assert!(w.in_sample_result.as_ref().unwrap().trades >= 5);
        }
    }
    assert!((oos_pips - one.walk_forward.out_of_sample.net_pips).abs() < 1e-6);
    // The combos table is sorted by out-of-sample score.
    let scores: Vec<f64> = one
        .combos
        .iter()
        .map(|c| c.out_of_sample.score.unwrap_or(f64::NEG_INFINITY))
        .collect();
    assert!(scores.windows(2).all(|p| p[0] >= p[1]));
    assert_eq!(
        one.combos.iter().map(|c| c.chosen_in).sum::<usize>(),
        one.walk_forward.windows_with_choice
    );
}

#[test]
fn choosing_needs_the_minimum_trades_and_breaks_ties_low() {
    let s = |trades, score| Summary {
        trades,
        score: Some(score),
        ..Summary::default()
    };
    assert_eq!(
        choose(&[s(3, 9.0), s(10, 1.0), s(12, 2.0), s(20, 2.0)], 10),
        Some(2)
    );
    assert_eq!(choose(&[s(3, 9.0), s(4, 1.0)], 10), None);
    assert_eq!(choose(&[Summary::default(), s(10, -1.0)], 1), Some(1));
}

/// Mirror the bars of `range` around the first one's open: a different market from there on.
fn plant(bars: &mut [Bar], from: usize, scale: f64) {
    let p0 = bars[from].open;
    for b in &mut bars[from..] {
        let f = |p: f64| p0 - scale * (p - p0);
        let (hi, lo) = (f(b.low), f(b.high));
        *b = Bar {
            time: b.time,
            open: f(b.open),
            high: hi,
            low: lo,
            close: f(b.close),
        };
    }
}

/// The planted look-ahead: the bars from window k's out-of-sample start on are replaced by a
/// different market. A selector that read them (here: one that scores on in-sample plus
/// out-of-sample bars) changes its choice; walk-forward's choices up to window k do not move,
/// while its out-of-sample results do.
#[test]
fn no_out_of_sample_bar_reaches_the_parameters_chosen_for_it() {
    let original = parse_ohlc_csv(FIXTURE).unwrap().bars;
    let clean = run(&original, 2, Objective::NetPips);
    let grid = Grid::parse("rsi_buy=30..45:5,sl_atr=0.8..2.0:0.4", &base()).unwrap();
    let combos = grid.combinations(&base(), 100).unwrap();
    let windows = plan_windows(0..original.len(), 1000, 500).unwrap();
    let cfg = config(1, Objective::NetPips);
    let leaky_choice = |bars: &[Bar], w: &Window| {
        let prepared = PreparedSeries::new(bars, 3600, Timeframe::H1).unwrap();
        let summaries: Vec<Summary> = combos
            .iter()
            .map(|p| {
                let (_, trades) = prepared
                    .replay(
                        w.in_sample.start..w.out_of_sample.end,
                        &cfg.symbol,
                        None,
                        &cfg.strategy,
                        p,
                        cfg.costs,
                    )
                    .unwrap();
                Summary::of(
                    &trades,
                    cfg.objective,
                    w.out_of_sample.end - w.in_sample.start,
                )
            })
            .collect();
        choose(&summaries, cfg.min_trades)
    };
    let mut proved = 0;
    for k in [1usize, 3, 5] {
        let w = &windows[k];
        let mut found = false;
        for scale in [1.0, 2.0, 3.0, 0.5] {
            let mut planted = original.clone();
            plant(&mut planted, w.out_of_sample.start, scale);
            let leaky_clean = leaky_choice(&original, w);
            let leaky_planted = leaky_choice(&planted, w);
            if leaky_clean == leaky_planted {
                continue; // This plant would not fool a leaky selector; try a stronger one.
            }
            found = true;
            let dirty = run(&planted, 2, Objective::NetPips);
            for j in 0..=k {
                assert_eq!(
                    dirty.windows[j].chosen, clean.windows[j].chosen,
                    "window {j}: planted bars from window {k}'s out-of-sample part moved the choice"
                );
                assert_eq!(
                    dirty.windows[j].in_sample_result,
                    clean.windows[j].in_sample_result
                );
            }
            for j in 0..k {
                assert_eq!(
                    dirty.windows[j].out_of_sample_result,
                    clean.windows[j].out_of_sample_result
                );
            }
            assert_ne!(
                dirty.windows[k].out_of_sample_result, clean.windows[k].out_of_sample_result,
                "the plant changed window {k}'s out-of-sample market"
            );
            break;
        }
        if found {
            proved += 1;
        }
    }
    assert!(
        proved >= 2,
        "the plants must be strong enough to fool a leaky selector"
    );
}

//! The backtest report: its sums agree with the trade list (property tests over random trade
//! lists), golden text and JSON on the bundled EURUSD hours, costs and time ranges.
use std::path::PathBuf;

use promostack_signals::backtest::{
    BacktestError, BacktestOptions, BacktestReport, Costs, TradeRecord, run_backtest,
};
use promostack_signals::bars::{hour_of_day, weekday, year_month};
use promostack_signals::lifecycle::Outcome;
use promostack_signals::report::{
    DRAW_EPSILON_PIPS, exit_reason, render_comparison, render_text, trade_stats, trades_csv,
};
use promostack_signals::report_html::render_html;
use promostack_signals::{Direction, Timeframe, parse_ohlc_csv, strategy_names};
use proptest::prelude::*;

/// The bundled data: the fixture's first five columns are shared/data/EURUSD_H1.csv.
const FIXTURE: &str = include_str!("fixtures/talib_eurusd_h1.csv");

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * (1.0 + a.abs().max(b.abs()))
}

const OUTCOMES: [Outcome; 7] = [
    Outcome::Tp1,
    Outcome::Tp2,
    Outcome::Tp3,
    Outcome::StopLoss,
    Outcome::Timeout,
    Outcome::ThesisBroken,
    Outcome::EndOfData,
];

fn trade_strategy() -> impl Strategy<Value = Vec<TradeRecord>> {
    // (gap before entry, duration, pips kind, pips, outcome, at breakeven)
    prop::collection::vec(
        (
            0i64..200_000,
            0i64..50_000,
            0u8..4,
            -80.0f64..80.0,
            0usize..7,
            any::<bool>(),
        ),
        0..120,
    )
    .prop_map(|rows| {
        let mut t = 1_492_592_400i64;
        rows.into_iter()
            .enumerate()
            .map(|(i, (gap, dur, kind, pips, o, be))| {
                t += gap;
                let opened_at = t;
                t += dur;
                // A quarter of the trades are exact draws, to exercise the draw rule.
                let pips = if kind == 0 {
                    0.0
                } else {
                    (pips * 10.0).round() / 10.0
                };
                TradeRecord {
                    id: i as u64 + 1,
                    direction: if i % 2 == 0 {
                        Direction::Buy
                    } else {
                        Direction::Sell
                    },
                    opened_at,
                    closed_at: t,
                    entry: 1.1,
                    stop_loss: 1.09,
                    take_profits: [1.11, 1.12, 1.13],
                    exit_price: 1.1,
                    outcome: OUTCOMES[o],
                    targets_hit: 0,
                    stopped_at_breakeven: be && OUTCOMES[o] == Outcome::StopLoss,
                    gross_pips: pips,
                    cost_pips: 0.0,
                    pips,
                }
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn report_sums_agree_with_the_trade_list(trades in trade_strategy()) {
        let s = trade_stats(&trades);
        let n = trades.len();
        let wins: Vec<f64> = trades.iter().map(|t| t.pips).filter(|p| *p > DRAW_EPSILON_PIPS).collect();
        let losses: Vec<f64> = trades.iter().map(|t| t.pips).filter(|p| *p < -DRAW_EPSILON_PIPS).collect();
        prop_assert_eq!(s.trades, n);
        prop_assert_eq!(s.wins, wins.len());
        prop_assert_eq!(s.losses, losses.len());
        prop_assert_eq!(s.wins + s.draws + s.losses, n);
        let net: f64 = trades.iter().map(|t| t.pips).sum();
        prop_assert!(close(s.net_pips, net));
        prop_assert!(close(s.gross_profit_pips - s.gross_loss_pips, net));
        prop_assert!(close(s.gross_profit_pips, wins.iter().sum()));
        prop_assert!(close(s.gross_loss_pips, -losses.iter().sum::<f64>()));
        match s.profit_factor {
            Some(pf) => prop_assert!(close(pf * s.gross_loss_pips, s.gross_profit_pips)),
            None => prop_assert!(losses.is_empty()),
        }
        if n > 0 {
            prop_assert!(close(s.expectancy_pips * n as f64, net));
        }
        if wins.len() + losses.len() > 0 {
            prop_assert!(close(
                s.win_rate_percent,
                wins.len() as f64 * 100.0 / (wins.len() + losses.len()) as f64
            ));
        }
        match s.avg_win_pips {
            Some(a) => prop_assert!(close(a * wins.len() as f64, s.gross_profit_pips)),
            None => prop_assert!(wins.is_empty()),
        }
        match s.avg_loss_pips {
            Some(a) => prop_assert!(close(-a * losses.len() as f64, s.gross_loss_pips)),
            None => prop_assert!(losses.is_empty()),
        }
        let max = trades.iter().map(|t| t.pips).fold(f64::NEG_INFINITY, f64::max);
        let min = trades.iter().map(|t| t.pips).fold(f64::INFINITY, f64::min);
        prop_assert_eq!(s.best_trade.as_ref().map(|b| b.pips), (n > 0).then_some(max));
        prop_assert_eq!(s.worst_trade.as_ref().map(|b| b.pips), (n > 0).then_some(min));

        // Every table's rows add up to the whole.
        for (name, rows) in [("exit", &s.by_exit), ("month", &s.by_month), ("weekday", &s.by_weekday), ("hour", &s.by_hour)] {
            prop_assert_eq!(rows.iter().map(|r| r.trades).sum::<usize>(), n, "{}", name);
            prop_assert_eq!(rows.iter().map(|r| r.wins).sum::<usize>(), s.wins, "{}", name);
            prop_assert_eq!(rows.iter().map(|r| r.draws).sum::<usize>(), s.draws, "{}", name);
            prop_assert_eq!(rows.iter().map(|r| r.losses).sum::<usize>(), s.losses, "{}", name);
            prop_assert!(close(rows.iter().map(|r| r.net_pips).sum::<f64>(), net), "{}", name);
            prop_assert!(rows.iter().all(|r| r.trades > 0));
        }
        for r in &s.by_exit {
            let count = trades.iter().filter(|t| exit_reason(t) == r.key).count();
            prop_assert_eq!(r.trades, count);
        }
        for r in &s.by_month {
            let count = trades.iter().filter(|t| {
                let (y, m) = year_month(t.opened_at);
                format!("{y:04}-{m:02}") == r.key
            }).count();
            prop_assert_eq!(r.trades, count);
        }
        for r in &s.by_hour {
            let count = trades.iter().filter(|t| format!("{:02}", hour_of_day(t.opened_at)) == r.key).count();
            prop_assert_eq!(r.trades, count);
        }
        prop_assert_eq!(
            s.by_weekday.iter().map(|r| r.key.clone()).collect::<Vec<_>>(),
            {
                let mut days: Vec<u8> = trades.iter().map(|t| weekday(t.opened_at)).collect();
                days.sort_unstable();
                days.dedup();
                days.into_iter().map(|d| ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][d as usize].to_string()).collect::<Vec<_>>()
            }
        );

        // Streaks, recomputed.
        let (mut best_w, mut best_l, mut w, mut l) = (0, 0, 0, 0);
        for t in &trades {
            if t.pips > DRAW_EPSILON_PIPS { w += 1; l = 0; }
            else if t.pips < -DRAW_EPSILON_PIPS { l += 1; w = 0; }
            else { w = 0; l = 0; }
            best_w = best_w.max(w);
            best_l = best_l.max(l);
        }
        prop_assert_eq!((s.max_consecutive_wins, s.max_consecutive_losses), (best_w, best_l));

        // Drawdown by brute force over every (peak, later trough) pair of the equity curve.
        let mut curve = vec![0.0];
        for t in &trades { curve.push(curve.last().unwrap() + t.pips); }
        let mut dd = 0.0f64;
        for i in 0..curve.len() {
            for j in i..curve.len() {
                dd = dd.max(curve[i] - curve[j]);
            }
        }
        prop_assert!(close(s.drawdown.max_pips, dd));
        if s.drawdown.max_pips > 0.0 {
            let trough = s.drawdown.trough_at.unwrap();
            let k = trades.iter().position(|t| t.closed_at == trough).unwrap() + 1;
            let peak = curve[..k].iter().copied().fold(f64::NEG_INFINITY, f64::max);
            prop_assert!(close(peak - curve[k], s.drawdown.max_pips));
            match s.drawdown.recovered_at {
                Some(r) => {
                    let m = trades.iter().position(|t| t.closed_at == r).unwrap() + 1;
                    prop_assert!(m > k && curve[m] >= peak - 1e-9);
                    prop_assert!(curve[k + 1..m].iter().all(|v| *v < peak));
                }
                None => prop_assert!(curve[k + 1..].iter().all(|v| *v < peak)),
            }
        } else {
            prop_assert!(s.drawdown.trough_at.is_none());
        }

        // Durations.
        if n > 0 {
            let secs: Vec<i64> = trades.iter().map(|t| t.closed_at - t.opened_at).collect();
            prop_assert!(close(s.durations.mean_seconds.unwrap() * n as f64, secs.iter().sum::<i64>() as f64));
            prop_assert_eq!(s.durations.min_seconds, secs.iter().copied().min());
            prop_assert_eq!(s.durations.max_seconds, secs.iter().copied().max());
            let med = s.durations.median_seconds.unwrap();
            prop_assert!(secs.iter().filter(|v| (**v as f64) < med).count() <= n / 2);
            prop_assert!(secs.iter().filter(|v| (**v as f64) > med).count() <= n / 2);
        }
        // Sharpe and Sortino, from their definitions.
        if n >= 2 {
            let mean = net / n as f64;
            let sd = (trades.iter().map(|t| (t.pips - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
            match s.sharpe_per_trade {
                Some(v) => prop_assert!(close(v * sd, mean)),
                None => prop_assert!(sd == 0.0),
            }
            let down = (trades.iter().map(|t| t.pips.min(0.0).powi(2)).sum::<f64>() / n as f64).sqrt();
            match s.sortino_per_trade {
                Some(v) => prop_assert!(close(v * down, mean)),
                None => prop_assert!(down == 0.0),
            }
        }
    }
}

fn bundled(strategy: &str, costs: Costs) -> (BacktestReport, usize) {
    let series = parse_ohlc_csv(FIXTURE).unwrap();
    let mut options = BacktestOptions::new("EUR/USD", strategy, Timeframe::H1);
    options.costs = costs;
    let r = run_backtest(&series.bars, 3600, &options, &mut |_, _| {}).unwrap();
    (r, series.gaps.len())
}

fn golden(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

/// Compare with the committed file exactly; `UPDATE_GOLDEN=1` rewrites it instead.
fn check_golden(name: &str, actual: &str) {
    let path = golden(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with UPDATE_GOLDEN=1 to create it)",
            path.display()
        )
    });
    if expected != actual {
        let line = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(expected.lines().count().min(actual.lines().count()));
        panic!(
            "{} differs from the output at line {}:\nexpected: {:?}\nactual:   {:?}",
            path.display(),
            line + 1,
            expected.lines().nth(line),
            actual.lines().nth(line)
        );
    }
}

#[test]
fn golden_text_reports_on_the_bundled_data() {
    let mut reports = Vec::new();
    for name in strategy_names() {
        let (r, gaps) = bundled(name, Costs::default());
        check_golden(&format!("{name}.txt"), &render_text(&r, gaps));
        reports.push(r);
    }
    check_golden("strategy_list.txt", &render_comparison(&reports));
}

#[test]
fn golden_json_report_on_the_bundled_data() {
    // The whole report of the strategy with few trades; the others without their trade list
    // and equity series (the property tests cover those).
    let (small, _) = bundled("trend_pullback", Costs::default());
    check_golden(
        "trend_pullback.json",
        &(serde_json::to_string_pretty(&small).unwrap() + "\n"),
    );
    for name in ["aggressive", "conservative"] {
        let (r, _) = bundled(name, Costs::default());
        let mut v = serde_json::to_value(&r).unwrap();
        let obj = v.as_object_mut().unwrap();
        obj.remove("trades");
        obj.remove("equity");
        check_golden(
            &format!("{name}.stats.json"),
            &(serde_json::to_string_pretty(&v).unwrap() + "\n"),
        );
    }
    let (r, _) = bundled("aggressive", Costs::default());
    // The JSON carries the text's numbers.
    let v: serde_json::Value = serde_json::to_value(&r).unwrap();
    assert_eq!(v["stats"]["trades"], r.trades.len());
    assert_eq!(v["signals"], r.counts.signals);
    let text = render_text(&r, 42);
    let pf = v["stats"]["profit_factor"].as_f64().unwrap();
    assert!(
        text.contains(&format!("Profit factor:   {pf:.2}")),
        "{text}"
    );
    let dd = v["stats"]["drawdown"]["max_pips"].as_f64().unwrap();
    assert!(text.contains(&format!("Max drawdown:    {dd:.1} pips")));
}

#[test]
fn costs_are_charged_on_every_trade_and_change_nothing_else() {
    let (free, _) = bundled("conservative", Costs::default());
    let costs = Costs {
        spread_pips: 1.2,
        slippage_pips: 0.4,
    };
    let (paid, _) = bundled("conservative", costs);
    assert_eq!(free.trades.len(), paid.trades.len());
    for (a, b) in free.trades.iter().zip(&paid.trades) {
        assert_eq!(
            (a.id, a.opened_at, a.closed_at, a.outcome),
            (b.id, b.opened_at, b.closed_at, b.outcome)
        );
        assert!(close(b.gross_pips, a.pips));
        assert!(
            close(b.cost_pips, 2.0),
            "spread once + slippage on entry and exit"
        );
        assert!(close(b.pips, a.pips - 2.0));
    }
    let n = free.trades.len() as f64;
    assert!(close(paid.stats.net_pips, free.stats.net_pips - 2.0 * n));
    // A stop at entry is a draw without costs and a loss with them.
    let be = free.trades.iter().filter(|t| t.pips == 0.0).count();
    assert!(be > 0 && free.stats.draws == be);
    assert_eq!(paid.stats.draws, 0);
    let series = parse_ohlc_csv(FIXTURE).unwrap();
    let mut bad = BacktestOptions::new("EUR/USD", "conservative", Timeframe::H1);
    bad.costs.slippage_pips = -1.0;
    assert!(matches!(
        run_backtest(&series.bars, 3600, &bad, &mut |_, _| {}),
        Err(BacktestError::BadCost {
            name: "slippage",
            ..
        })
    ));
}

#[test]
fn a_time_range_trades_only_inside_it_after_warming_up_before_it() {
    let series = parse_ohlc_csv(FIXTURE).unwrap();
    let from = series.bars[1500].time;
    let to = series.bars[3000].time;
    let mut options = BacktestOptions::new("EUR/USD", "aggressive", Timeframe::H1);
    options.from = Some(from);
    options.to = Some(to);
    let r = run_backtest(&series.bars, 3600, &options, &mut |_, _| {}).unwrap();
    assert_eq!((r.warmup_bars, r.bars), (1500, 1500));
    assert_eq!(
        (r.first_bar, r.last_bar),
        (Some(from), Some(series.bars[2999].time))
    );
    assert!(!r.trades.is_empty());
    for t in &r.trades {
        assert!(
            t.opened_at > from && t.closed_at <= to,
            "trade {} outside the range",
            t.id
        );
    }
    // A warm start: signals can open on the range's first bars (EMA 200 is already there).
    assert!(r.trades[0].opened_at < from + 200 * 3600);
    options.from = Some(series.bars[4999].time + 3600);
    options.to = None;
    assert_eq!(
        run_backtest(&series.bars, 3600, &options, &mut |_, _| {}),
        Err(BacktestError::EmptyRange)
    );
}

#[test]
fn progress_moves_in_small_steps() {
    let series = parse_ohlc_csv(FIXTURE).unwrap();
    let mut seen = Vec::new();
    run_backtest(
        &series.bars,
        3600,
        &BacktestOptions::new("EUR/USD", "trend_pullback", Timeframe::H1),
        &mut |done, _| seen.push(done),
    )
    .unwrap();
    assert!(seen.len() >= 200, "{} updates", seen.len());
    assert!(seen.windows(2).all(|w| w[1] >= w[0] && w[1] - w[0] <= 50));
    assert_eq!(seen.last(), Some(&5000));
}

#[test]
fn exports_carry_every_trade() {
    let (r, _) = bundled("trend_pullback", Costs::default());
    let csv = trades_csv(&r);
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), r.trades.len() + 1);
    assert!(rows[0].starts_with("id,direction,opened_at"));
    let sum: f64 = rows[1..]
        .iter()
        .map(|l| l.rsplit(',').next().unwrap().parse::<f64>().unwrap())
        .sum();
    assert!((sum - r.stats.net_pips).abs() < 1e-3 * r.trades.len() as f64);

    let html = render_html(&r, "EURUSD_H1.csv <bundled>");
    assert!(html.starts_with("<!doctype html>") && html.ends_with("</html>\n"));
    assert!(html.contains("EURUSD_H1.csv &lt;bundled&gt;"));
    assert_eq!(
        html.matches("<svg").count(),
        2,
        "equity and drawdown charts"
    );
    assert!(
        !html.contains("<script") && !html.contains("http"),
        "self-contained"
    );
    // One table row per trade plus the monthly and exit tables.
    let trade_rows = html
        .split("<h2>Trades</h2>")
        .nth(1)
        .unwrap()
        .matches("<tr>")
        .count();
    assert_eq!(trade_rows, r.trades.len() + 1);
    for m in &r.stats.by_month {
        assert!(html.contains(&format!("<td>{}</td>", m.key)));
    }
}

/// The fixture's bars are the bundled file's, when the shared folder is beside the checkout.
#[test]
fn the_fixture_holds_the_bundled_bars() {
    let shared =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/EURUSD_H1.csv");
    let Ok(text) = std::fs::read_to_string(&shared) else {
        eprintln!("{} not found: skipped", shared.display());
        return;
    };
    assert_eq!(
        parse_ohlc_csv(&text).unwrap().bars,
        parse_ohlc_csv(FIXTURE).unwrap().bars
    );
}

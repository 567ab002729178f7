//! Trade statistics of a backtest: what an operator needs to judge a strategy (docs/backtests.md,
//! "Reading the report"). Pure functions of the trade list, in trade order; serde-serialisable so
//! the CLI's `--json` and a dashboard route return the same numbers the text shows.
//!
//! Rule for draws: a trade whose net pips are within [`DRAW_EPSILON_PIPS`] of zero (a stop at
//! entry before any target, with no costs) is a draw. Draws are counted apart from wins and
//! losses, are left out of the win rate's denominator, and end both winning and losing streaks.
use serde::Serialize;

use crate::backtest::TradeRecord;
use crate::bars::{UnixSeconds, WEEKDAY_NAMES, hour_of_day, weekday, year_month};
use crate::lifecycle::Outcome;

/// |net pips| at or below this is a draw: room for float noise only.
pub const DRAW_EPSILON_PIPS: f64 = 1e-9;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TradeResult {
    Win,
    Draw,
    Loss,
}

/// Win, draw or loss by the draw rule.
pub fn classify(pips: f64) -> TradeResult {
    if pips > DRAW_EPSILON_PIPS {
        TradeResult::Win
    } else if pips < -DRAW_EPSILON_PIPS {
        TradeResult::Loss
    } else {
        TradeResult::Draw
    }
}

/// Exit reasons in report order; `sl_breakeven` is a stop at entry (after the breakeven move).
pub const EXIT_REASONS: [&str; 8] = [
    "tp1",
    "tp2",
    "tp3",
    "sl",
    "sl_breakeven",
    "timeout",
    "thesis_broken",
    "end_of_data",
];

pub fn exit_reason(t: &TradeRecord) -> &'static str {
    match t.outcome {
        Outcome::StopLoss if t.stopped_at_breakeven => "sl_breakeven",
        o => o.label(),
    }
}

/// Wins, draws, losses and pips of one group of trades.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Tally {
    /// The group: an exit reason, "2017-04", "Mon", "09".
    pub key: String,
    pub trades: usize,
    pub wins: usize,
    pub draws: usize,
    pub losses: usize,
    /// Sum of winning trades' pips (>= 0).
    pub gross_profit_pips: f64,
    /// Sum of losing trades' pips, as a positive number.
    pub gross_loss_pips: f64,
    pub net_pips: f64,
    /// gross profit / gross loss; `None` when there was no loss.
    pub profit_factor: Option<f64>,
    /// wins / (wins + losses), percent; 0 when there were neither.
    pub win_rate_percent: f64,
}

impl Tally {
    fn new(key: String) -> Self {
        Tally {
            key,
            ..Tally::default()
        }
    }

    fn add(&mut self, pips: f64) {
        self.trades += 1;
        self.net_pips += pips;
        match classify(pips) {
            TradeResult::Win => {
                self.wins += 1;
                self.gross_profit_pips += pips;
            }
            TradeResult::Draw => self.draws += 1,
            TradeResult::Loss => {
                self.losses += 1;
                self.gross_loss_pips -= pips;
            }
        }
    }

    fn finish(&mut self) {
        self.profit_factor = profit_factor(self.gross_profit_pips, self.gross_loss_pips);
        let decided = self.wins + self.losses;
        self.win_rate_percent = if decided == 0 {
            0.0
        } else {
            self.wins as f64 / decided as f64 * 100.0
        };
    }
}

pub fn profit_factor(gross_profit: f64, gross_loss: f64) -> Option<f64> {
    (gross_loss > 0.0).then(|| gross_profit / gross_loss)
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TradeRef {
    pub id: u64,
    pub opened_at: UnixSeconds,
    pub pips: f64,
}

/// The largest fall of closed-trade equity from a peak, and when it happened.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Drawdown {
    /// Pips from the peak to the trough (>= 0).
    pub max_pips: f64,
    /// When the peak was set: the close of the trade that made it, or the first trade's entry
    /// when the peak is the starting equity. `None` without a drawdown.
    pub peak_at: Option<UnixSeconds>,
    /// Close of the trade at the bottom.
    pub trough_at: Option<UnixSeconds>,
    /// Close of the first later trade that brought equity back to the peak; `None` if never.
    pub recovered_at: Option<UnixSeconds>,
}

/// Trade durations (close minus entry), seconds.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Durations {
    pub mean_seconds: Option<f64>,
    pub median_seconds: Option<f64>,
    pub min_seconds: Option<i64>,
    pub max_seconds: Option<i64>,
    pub winners_mean_seconds: Option<f64>,
    pub losers_mean_seconds: Option<f64>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TradeStats {
    pub trades: usize,
    pub wins: usize,
    pub draws: usize,
    pub losses: usize,
    /// wins / (wins + losses), percent (draws left out); 0 when there were neither.
    pub win_rate_percent: f64,
    pub gross_profit_pips: f64,
    pub gross_loss_pips: f64,
    pub net_pips: f64,
    /// gross profit / gross loss; `None` when nothing lost.
    pub profit_factor: Option<f64>,
    /// Mean net pips per trade (0 without trades).
    pub expectancy_pips: f64,
    pub avg_win_pips: Option<f64>,
    /// Mean of the losing trades, a negative number.
    pub avg_loss_pips: Option<f64>,
    pub best_trade: Option<TradeRef>,
    pub worst_trade: Option<TradeRef>,
    pub max_consecutive_wins: usize,
    pub max_consecutive_losses: usize,
    pub drawdown: Drawdown,
    /// Mean / sample standard deviation of per-trade pips; `None` under 2 trades or no spread.
    pub sharpe_per_trade: Option<f64>,
    /// Mean / downside deviation (root mean square of the losing part, over all trades, target
    /// 0); `None` without a loss.
    pub sortino_per_trade: Option<f64>,
    pub durations: Durations,
    /// One row per exit reason that occurred, in [`EXIT_REASONS`] order.
    pub by_exit: Vec<Tally>,
    /// By month of entry (UTC), "YYYY-MM", months with trades only.
    pub by_month: Vec<Tally>,
    /// By weekday of entry (UTC), Mon..Sun, days with trades only.
    pub by_weekday: Vec<Tally>,
    /// By hour of entry (UTC), "00".."23", hours with trades only.
    pub by_hour: Vec<Tally>,
}

/// Statistics of `trades` in the order they were closed.
pub fn trade_stats(trades: &[TradeRecord]) -> TradeStats {
    let mut s = TradeStats {
        trades: trades.len(),
        ..TradeStats::default()
    };
    let mut all = Tally::new(String::new());
    let mut by_exit: Vec<Tally> = EXIT_REASONS
        .iter()
        .map(|r| Tally::new((*r).to_string()))
        .collect();
    let mut by_weekday: Vec<Tally> = WEEKDAY_NAMES
        .iter()
        .map(|d| Tally::new((*d).to_string()))
        .collect();
    let mut by_hour: Vec<Tally> = (0..24).map(|h| Tally::new(format!("{h:02}"))).collect();
    let mut by_month: Vec<((i64, i64), Tally)> = Vec::new();

    let (mut run_w, mut run_l) = (0usize, 0usize);
    let (mut equity, mut peak, mut peak_at) = (0.0f64, 0.0f64, trades.first().map(|t| t.opened_at));
    let mut dd_peak_equity = 0.0f64;
    let mut sum_sq_down = 0.0f64;
    let (mut win_secs, mut loss_secs) = (0i64, 0i64);
    let mut durations: Vec<i64> = Vec::with_capacity(trades.len());

    for t in trades {
        let pips = t.pips;
        all.add(pips);
        let reason = exit_reason(t);
        if let Some(i) = EXIT_REASONS.iter().position(|r| *r == reason) {
            by_exit[i].add(pips);
        }
        by_weekday[weekday(t.opened_at) as usize].add(pips);
        by_hour[hour_of_day(t.opened_at) as usize].add(pips);
        let ym = year_month(t.opened_at);
        // Trades come in time order: the month is nearly always the last one seen.
        let found = match by_month.last_mut() {
            Some((k, row)) if *k == ym => Some(row),
            _ => by_month
                .iter_mut()
                .find(|(k, _)| *k == ym)
                .map(|(_, row)| row),
        };
        match found {
            Some(row) => row.add(pips),
            None => {
                let mut row = Tally::new(format!("{:04}-{:02}", ym.0, ym.1));
                row.add(pips);
                by_month.push((ym, row));
            }
        }
        let secs = t.closed_at - t.opened_at;
        durations.push(secs);
        match classify(pips) {
            TradeResult::Win => {
                run_w += 1;
                run_l = 0;
                win_secs += secs;
            }
            TradeResult::Loss => {
                run_l += 1;
                run_w = 0;
                loss_secs += secs;
            }
            TradeResult::Draw => {
                run_w = 0;
                run_l = 0;
            }
        }
        s.max_consecutive_wins = s.max_consecutive_wins.max(run_w);
        s.max_consecutive_losses = s.max_consecutive_losses.max(run_l);
        if pips < 0.0 {
            sum_sq_down += pips * pips;
        }
        if s.best_trade.as_ref().is_none_or(|b| pips > b.pips) {
            s.best_trade = Some(trade_ref(t));
        }
        if s.worst_trade.as_ref().is_none_or(|w| pips < w.pips) {
            s.worst_trade = Some(trade_ref(t));
        }

        equity += pips;
        if equity > peak {
            peak = equity;
            peak_at = Some(t.closed_at);
        }
        let fall = peak - equity;
        if fall > s.drawdown.max_pips {
            s.drawdown = Drawdown {
                max_pips: fall,
                peak_at,
                trough_at: Some(t.closed_at),
                recovered_at: None,
            };
            dd_peak_equity = peak;
        } else if s.drawdown.max_pips > 0.0
            && s.drawdown.recovered_at.is_none()
            && equity >= dd_peak_equity
            && s.drawdown.trough_at.is_some_and(|tr| t.closed_at >= tr)
        {
            s.drawdown.recovered_at = Some(t.closed_at);
        }
    }

    all.finish();
    s.wins = all.wins;
    s.draws = all.draws;
    s.losses = all.losses;
    s.win_rate_percent = all.win_rate_percent;
    s.gross_profit_pips = all.gross_profit_pips;
    s.gross_loss_pips = all.gross_loss_pips;
    s.net_pips = all.net_pips;
    s.profit_factor = all.profit_factor;
    let n = trades.len() as f64;
    if !trades.is_empty() {
        let mean = all.net_pips / n;
        s.expectancy_pips = mean;
        if trades.len() >= 2 {
            let var = trades.iter().map(|t| (t.pips - mean).powi(2)).sum::<f64>() / (n - 1.0);
            let sd = var.sqrt();
            s.sharpe_per_trade = (sd > 0.0).then(|| mean / sd);
        }
        let down = (sum_sq_down / n).sqrt();
        s.sortino_per_trade = (down > 0.0).then(|| mean / down);
    }
    s.avg_win_pips = (s.wins > 0).then(|| s.gross_profit_pips / s.wins as f64);
    s.avg_loss_pips = (s.losses > 0).then(|| -s.gross_loss_pips / s.losses as f64);

    if !durations.is_empty() {
        let total: i64 = durations.iter().sum();
        s.durations.mean_seconds = Some(total as f64 / n);
        s.durations.min_seconds = durations.iter().copied().min();
        s.durations.max_seconds = durations.iter().copied().max();
        durations.sort_unstable();
        let mid = durations.len() / 2;
        s.durations.median_seconds = Some(if durations.len().is_multiple_of(2) {
            (durations[mid - 1] + durations[mid]) as f64 / 2.0
        } else {
            durations[mid] as f64
        });
    }
    s.durations.winners_mean_seconds = (s.wins > 0).then(|| win_secs as f64 / s.wins as f64);
    s.durations.losers_mean_seconds = (s.losses > 0).then(|| loss_secs as f64 / s.losses as f64);

    let keep = |rows: Vec<Tally>| -> Vec<Tally> {
        rows.into_iter()
            .filter(|r| r.trades > 0)
            .map(|mut r| {
                r.finish();
                r
            })
            .collect()
    };
    s.by_exit = keep(by_exit);
    s.by_weekday = keep(by_weekday);
    s.by_hour = keep(by_hour);
    by_month.sort_by_key(|(k, _)| *k);
    s.by_month = keep(by_month.into_iter().map(|(_, r)| r).collect());
    s
}

fn trade_ref(t: &TradeRecord) -> TradeRef {
    TradeRef {
        id: t.id,
        opened_at: t.opened_at,
        pips: t.pips,
    }
}

/// "2h 05m", "45m", "3d 02h": a duration for tables.
pub fn format_duration(seconds: f64) -> String {
    if !seconds.is_finite() {
        return "-".into();
    }
    let total = seconds.round() as i64;
    let (d, h, m) = (total / 86_400, total % 86_400 / 3600, total % 3600 / 60);
    if d > 0 {
        format!("{d}d {h:02}h")
    } else if h > 0 {
        format!("{h}h {m:02}m")
    } else {
        format!("{m}m")
    }
}

fn opt_num(v: Option<f64>, decimals: usize) -> String {
    match v {
        Some(v) if v.is_infinite() => "inf".into(),
        Some(v) => format!("{v:.decimals$}"),
        None => "-".into(),
    }
}

fn opt_time(t: Option<UnixSeconds>) -> String {
    t.map_or("-".into(), crate::bars::format_time)
}

fn table(out: &mut String, title: &str, first: &str, rows: &[Tally]) {
    use std::fmt::Write as _;
    let _ = writeln!(out, "\n{title}:");
    let _ = writeln!(
        out,
        "{first:<14} {:>6} {:>5} {:>5} {:>6} {:>6} {:>9} {:>8} {:>6}",
        "trades", "wins", "draws", "losses", "win%", "net pips", "avg", "PF"
    );
    for r in rows {
        let _ = writeln!(
            out,
            "{:<14} {:>6} {:>5} {:>5} {:>6} {:>6.1} {:>+9.1} {:>+8.2} {:>6}",
            r.key,
            r.trades,
            r.wins,
            r.draws,
            r.losses,
            r.win_rate_percent,
            r.net_pips,
            r.net_pips / r.trades as f64,
            opt_num(r.profit_factor, 2)
        );
    }
}

/// The backtest report as text: the same numbers `--json` carries (the trade list and the
/// equity series aside). `gaps`: how many gaps the parser found in the data.
pub fn render_text(r: &crate::backtest::BacktestReport, gaps: usize) -> String {
    use std::fmt::Write as _;
    let s = &r.stats;
    let c = &r.counts;
    let mut out = String::new();
    let span = match (r.first_bar, r.last_bar) {
        (Some(a), Some(b)) => format!(
            "{} to {}",
            crate::bars::format_time(a),
            crate::bars::format_time(b)
        ),
        _ => "no bars".into(),
    };
    let warm = if r.warmup_bars > 0 {
        format!(" after {} warm-up bars", r.warmup_bars)
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "Backtest: {} on {} {} ({} bars, {span}{warm}; {gaps} gaps)",
        r.strategy,
        r.symbol,
        r.timeframe.label(),
        r.bars
    );
    let _ = writeln!(out, "Pip size:        {}", r.pip_size);
    let _ = writeln!(
        out,
        "Costs:           spread {} + 2 x slippage {} = {} pips per trade",
        r.costs.spread_pips,
        r.costs.slippage_pips,
        r.costs.per_trade_pips()
    );
    let _ = writeln!(out, "Signals:         {}", c.signals);
    let _ = writeln!(
        out,
        "TP1 / TP2 / TP3: {} / {} / {}",
        c.tp1_hits, c.tp2_hits, c.tp3_hits
    );
    let _ = writeln!(
        out,
        "Stop loss:       {} ({} at breakeven)",
        c.sl_hits, c.breakeven_stops
    );
    let _ = writeln!(out, "Timeout:         {}", c.timeouts);
    let _ = writeln!(out, "Thesis broken:   {}", c.thesis_broken);
    let _ = writeln!(out, "Open at end:     {}", c.end_of_data);
    let _ = writeln!(
        out,
        "Messages:        {} progress, {} breakeven, {} thesis weakening",
        c.progress_updates, c.breakeven_advisories, c.thesis_weakening
    );
    let _ = writeln!(
        out,
        "\nTrades:          {} ({} wins, {} draws, {} losses)",
        s.trades, s.wins, s.draws, s.losses
    );
    let _ = writeln!(
        out,
        "Win rate:        {:.1}% (wins / (wins + losses); draws left out)",
        s.win_rate_percent
    );
    let _ = writeln!(
        out,
        "Net pips:        {:+.1} (gross profit {:+.1}, gross loss {:+.1})",
        s.net_pips, s.gross_profit_pips, -s.gross_loss_pips
    );
    let _ = writeln!(out, "Profit factor:   {}", opt_num(s.profit_factor, 2));
    let _ = writeln!(
        out,
        "Expectancy:      {:+.2} pips per trade",
        s.expectancy_pips
    );
    let _ = writeln!(
        out,
        "Average win:     {} pips; average loss: {} pips",
        s.avg_win_pips.map_or("-".into(), |v| format!("{v:+.2}")),
        s.avg_loss_pips.map_or("-".into(), |v| format!("{v:+.2}"))
    );
    for (label, t) in [
        ("Best trade:", &s.best_trade),
        ("Worst trade:", &s.worst_trade),
    ] {
        let _ = writeln!(
            out,
            "{label:<16} {}",
            t.as_ref().map_or("-".into(), |t| format!(
                "{:+.1} pips (#{}, entered {})",
                t.pips,
                t.id,
                crate::bars::format_time(t.opened_at)
            ))
        );
    }
    let _ = writeln!(
        out,
        "Streaks:         at most {} wins and {} losses in a row",
        s.max_consecutive_wins, s.max_consecutive_losses
    );
    let d = &s.drawdown;
    let _ = writeln!(
        out,
        "Max drawdown:    {:.1} pips (peak {}, trough {}, recovered {})",
        d.max_pips,
        opt_time(d.peak_at),
        opt_time(d.trough_at),
        if d.max_pips > 0.0 && d.recovered_at.is_none() {
            "never".into()
        } else {
            opt_time(d.recovered_at)
        }
    );
    let _ = writeln!(
        out,
        "Sharpe / trade:  {}; Sortino / trade: {}",
        opt_num(s.sharpe_per_trade, 3),
        opt_num(s.sortino_per_trade, 3)
    );
    let dur = |v: Option<f64>| v.map_or("-".into(), format_duration);
    let du = &s.durations;
    let _ = writeln!(
        out,
        "Duration:        mean {}, median {}, min {}, max {}; winners {}, losers {}",
        dur(du.mean_seconds),
        dur(du.median_seconds),
        dur(du.min_seconds.map(|v| v as f64)),
        dur(du.max_seconds.map(|v| v as f64)),
        dur(du.winners_mean_seconds),
        dur(du.losers_mean_seconds)
    );
    table(&mut out, "By exit reason", "exit", &s.by_exit);
    table(&mut out, "By month of entry (UTC)", "month", &s.by_month);
    table(
        &mut out,
        "By weekday of entry (UTC)",
        "weekday",
        &s.by_weekday,
    );
    table(&mut out, "By hour of entry (UTC)", "hour", &s.by_hour);
    out
}

/// Several reports side by side (`--strategy-list`): one row per number, one column each.
pub fn render_comparison(reports: &[crate::backtest::BacktestReport]) -> String {
    use std::fmt::Write as _;
    type Row = (&'static str, fn(&crate::backtest::BacktestReport) -> String);
    let rows: [Row; 16] = [
        ("bars", |r| r.bars.to_string()),
        ("trades", |r| r.stats.trades.to_string()),
        ("wins / draws / losses", |r| {
            format!("{} / {} / {}", r.stats.wins, r.stats.draws, r.stats.losses)
        }),
        ("win rate %", |r| format!("{:.1}", r.stats.win_rate_percent)),
        ("net pips", |r| format!("{:+.1}", r.stats.net_pips)),
        ("profit factor", |r| opt_num(r.stats.profit_factor, 2)),
        ("expectancy pips", |r| {
            format!("{:+.2}", r.stats.expectancy_pips)
        }),
        ("avg win / loss", |r| {
            format!(
                "{} / {}",
                opt_num(r.stats.avg_win_pips, 1),
                opt_num(r.stats.avg_loss_pips, 1)
            )
        }),
        ("best / worst", |r| {
            format!(
                "{} / {}",
                opt_num(r.stats.best_trade.as_ref().map(|t| t.pips), 1),
                opt_num(r.stats.worst_trade.as_ref().map(|t| t.pips), 1)
            )
        }),
        ("max wins / losses in a row", |r| {
            format!(
                "{} / {}",
                r.stats.max_consecutive_wins, r.stats.max_consecutive_losses
            )
        }),
        ("max drawdown pips", |r| {
            format!("{:.1}", r.stats.drawdown.max_pips)
        }),
        ("Sharpe / trade", |r| opt_num(r.stats.sharpe_per_trade, 3)),
        ("Sortino / trade", |r| opt_num(r.stats.sortino_per_trade, 3)),
        ("TP1 / TP2 / TP3", |r| {
            format!(
                "{} / {} / {}",
                r.counts.tp1_hits, r.counts.tp2_hits, r.counts.tp3_hits
            )
        }),
        ("SL (at breakeven)", |r| {
            format!("{} ({})", r.counts.sl_hits, r.counts.breakeven_stops)
        }),
        ("timeout / thesis broken", |r| {
            format!("{} / {}", r.counts.timeouts, r.counts.thesis_broken)
        }),
    ];
    let cells: Vec<Vec<String>> = reports
        .iter()
        .map(|r| rows.iter().map(|(_, f)| f(r)).collect())
        .collect();
    let widths: Vec<usize> = reports
        .iter()
        .zip(&cells)
        .map(|(r, col)| {
            col.iter()
                .map(String::len)
                .chain([r.strategy.len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    let _ = write!(out, "{:<27}", "");
    for (r, w) in reports.iter().zip(&widths) {
        let _ = write!(out, "  {:>w$}", r.strategy);
    }
    out.push('\n');
    for (i, (label, _)) in rows.iter().enumerate() {
        let _ = write!(out, "{label:<27}");
        for (col, w) in cells.iter().zip(&widths) {
            let _ = write!(out, "  {:>w$}", col[i]);
        }
        out.push('\n');
    }
    out
}

/// The trade list as CSV (`--export-trades`), one row per trade, times in UTC.
pub fn trades_csv(r: &crate::backtest::BacktestReport) -> String {
    use std::fmt::Write as _;
    let mut out = String::from(
        "id,direction,opened_at,closed_at,duration_seconds,entry,stop_loss,tp1,tp2,tp3,exit_price,exit_reason,targets_hit,gross_pips,cost_pips,pips\n",
    );
    for t in &r.trades {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{:.4},{:.4},{:.4}",
            t.id,
            match t.direction {
                crate::direction::Direction::Buy => "buy",
                crate::direction::Direction::Sell => "sell",
            },
            crate::bars::format_time(t.opened_at),
            crate::bars::format_time(t.closed_at),
            t.closed_at - t.opened_at,
            t.entry,
            t.stop_loss,
            t.take_profits[0],
            t.take_profits[1],
            t.take_profits[2],
            t.exit_price,
            exit_reason(t),
            t.targets_hit,
            t.gross_pips,
            t.cost_pips,
            t.pips
        );
    }
    out
}

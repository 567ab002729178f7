//! The backtest report as one self-contained HTML page (`promostack backtest --html FILE`):
//! headline numbers, an equity and a drawdown chart drawn here as inline SVG, the monthly table
//! and the trade list. No script, no external file, no third-party code.
use std::fmt::Write as _;

use crate::backtest::BacktestReport;
use crate::bars::{UnixSeconds, format_time};
use crate::report::{Tally, exit_reason};

const W: f64 = 920.0;
const H: f64 = 240.0;
const PAD_L: f64 = 64.0;
const PAD_R: f64 = 12.0;
const PAD_T: f64 = 12.0;
const PAD_B: f64 = 28.0;

/// Escape text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn opt(v: Option<f64>, d: usize) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{v:.d$}"),
        Some(_) => "inf".into(),
        None => "–".into(),
    }
}

/// A line (or, with `fill`, an area down to zero) of `(time, value)` points.
fn chart(points: &[(UnixSeconds, f64)], fill: bool, title: &str, colour: &str) -> String {
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="{t}"><title>{t}</title>"#,
        t = escape(title)
    );
    if points.len() < 2 {
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="middle">not enough trades to draw</text></svg>"#,
            W / 2.0,
            H / 2.0
        );
        return svg;
    }
    let (t0, t1) = (points[0].0, points[points.len() - 1].0);
    let lo = points.iter().map(|p| p.1).fold(0.0f64, f64::min);
    let hi = points.iter().map(|p| p.1).fold(0.0f64, f64::max);
    let (lo, hi) = if hi - lo < 1e-9 {
        (lo - 1.0, hi + 1.0)
    } else {
        (lo, hi)
    };
    let span_t = (t1 - t0).max(1) as f64;
    let x = |t: UnixSeconds| PAD_L + (t - t0) as f64 / span_t * (W - PAD_L - PAD_R);
    let y = |v: f64| PAD_T + (hi - v) / (hi - lo) * (H - PAD_T - PAD_B);
    // Axes: zero line, min and max labels, first and last dates.
    let _ = write!(
        svg,
        r##"<line x1="{PAD_L}" x2="{}" y1="{z:.1}" y2="{z:.1}" stroke="#999" stroke-dasharray="4 3"/>"##,
        W - PAD_R,
        z = y(0.0)
    );
    for v in [hi, lo] {
        let _ = write!(
            svg,
            r#"<text x="{}" y="{:.1}" text-anchor="end" class="axis">{v:+.0}</text>"#,
            PAD_L - 6.0,
            y(v) + 4.0
        );
    }
    let _ = write!(
        svg,
        r#"<text x="{PAD_L}" y="{}" class="axis">{}</text><text x="{}" y="{}" text-anchor="end" class="axis">{}</text>"#,
        H - 8.0,
        &format_time(t0)[..10],
        W - PAD_R,
        H - 8.0,
        &format_time(t1)[..10]
    );
    let mut path = String::new();
    for (i, (t, v)) in points.iter().enumerate() {
        let _ = write!(
            path,
            "{}{:.1},{:.1}",
            if i == 0 { "M" } else { " L" },
            x(*t),
            y(*v)
        );
    }
    if fill {
        let _ = write!(
            path,
            " L{:.1},{:.1} L{:.1},{:.1} Z",
            x(t1),
            y(0.0),
            x(t0),
            y(0.0)
        );
        let _ = write!(
            svg,
            r#"<path d="{path}" fill="{colour}" fill-opacity="0.35" stroke="{colour}" stroke-width="1"/>"#
        );
    } else {
        let _ = write!(
            svg,
            r#"<path d="{path}" fill="none" stroke="{colour}" stroke-width="1.5"/>"#
        );
    }
    svg.push_str("</svg>");
    svg
}

fn tally_table(title: &str, first: &str, rows: &[Tally]) -> String {
    let mut out = format!(
        "<h2>{}</h2><table><thead><tr><th>{}</th><th>trades</th><th>wins</th><th>draws</th><th>losses</th><th>win %</th><th>net pips</th><th>profit factor</th></tr></thead><tbody>",
        escape(title),
        escape(first)
    );
    for r in rows {
        let _ = write!(
            out,
            r#"<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1}</td><td class="{}">{:+.1}</td><td>{}</td></tr>"#,
            escape(&r.key),
            r.trades,
            r.wins,
            r.draws,
            r.losses,
            r.win_rate_percent,
            if r.net_pips < 0.0 { "neg" } else { "pos" },
            r.net_pips,
            opt(r.profit_factor, 2)
        );
    }
    out.push_str("</tbody></table>");
    out
}

/// The whole page. `title` goes in the heading (e.g. the CSV's file name).
pub fn render_html(r: &BacktestReport, title: &str) -> String {
    let s = &r.stats;
    let start = r.trades.first().map(|t| t.opened_at);
    let mut equity: Vec<(UnixSeconds, f64)> = start.map(|t| (t, 0.0)).into_iter().collect();
    let mut underwater = equity.clone();
    let mut peak = 0.0f64;
    for p in &r.equity {
        equity.push((p.time, p.pips));
        peak = peak.max(p.pips);
        underwater.push((p.time, p.pips - peak));
    }
    let mut out = String::with_capacity(64 * 1024 + r.trades.len() * 300);
    let heading = format!(
        "{} on {} {} — {}",
        r.strategy,
        r.symbol,
        r.timeframe.label(),
        title
    );
    let _ = write!(
        out,
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Backtest: {h}</title><style>
body{{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:960px}}
h1{{font-size:20px}}h2{{font-size:16px;margin-top:28px}}
table{{border-collapse:collapse;font-variant-numeric:tabular-nums}}
td,th{{padding:2px 8px;border-bottom:1px solid #ddd;text-align:right}}
td:first-child,th:first-child{{text-align:left}}
.neg{{color:#b00020}}.pos{{color:#1b5e20}}
.chart{{width:100%;height:auto;background:#fafafa;border:1px solid #ddd}}
.axis{{font-size:11px;fill:#555}}
dl{{display:grid;grid-template-columns:max-content auto;gap:2px 16px}}dt{{color:#555}}dd{{margin:0}}
</style></head><body><h1>Backtest: {h}</h1>"#,
        h = escape(&heading)
    );
    let span = match (r.first_bar, r.last_bar) {
        (Some(a), Some(b)) => format!("{} to {}", format_time(a), format_time(b)),
        _ => "no bars".into(),
    };
    let facts: Vec<(&str, String)> = vec![
        ("bars", format!("{} ({span})", r.bars)),
        (
            "costs per trade",
            format!(
                "{} pips (spread {} + 2 × slippage {})",
                r.costs.per_trade_pips(),
                r.costs.spread_pips,
                r.costs.slippage_pips
            ),
        ),
        (
            "trades",
            format!(
                "{} ({} wins, {} draws, {} losses)",
                s.trades, s.wins, s.draws, s.losses
            ),
        ),
        (
            "win rate",
            format!("{:.1}% (draws left out)", s.win_rate_percent),
        ),
        ("net pips", format!("{:+.1}", s.net_pips)),
        ("profit factor", opt(s.profit_factor, 2)),
        (
            "expectancy",
            format!("{:+.2} pips per trade", s.expectancy_pips),
        ),
        (
            "average win / loss",
            format!(
                "{} / {} pips",
                opt(s.avg_win_pips, 2),
                opt(s.avg_loss_pips, 2)
            ),
        ),
        (
            "max drawdown",
            format!(
                "{:.1} pips (peak {}, trough {}, recovered {})",
                s.drawdown.max_pips,
                s.drawdown.peak_at.map_or("–".into(), format_time),
                s.drawdown.trough_at.map_or("–".into(), format_time),
                s.drawdown.recovered_at.map_or("never".into(), format_time)
            ),
        ),
        (
            "Sharpe / Sortino per trade",
            format!(
                "{} / {}",
                opt(s.sharpe_per_trade, 3),
                opt(s.sortino_per_trade, 3)
            ),
        ),
        (
            "streaks",
            format!(
                "at most {} wins, {} losses in a row",
                s.max_consecutive_wins, s.max_consecutive_losses
            ),
        ),
    ];
    out.push_str("<dl>");
    for (k, v) in facts {
        let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", escape(k), escape(&v));
    }
    out.push_str("</dl><h2>Equity (closed trades, pips)</h2>");
    out.push_str(&chart(&equity, false, "Equity in pips", "#1565c0"));
    out.push_str("<h2>Drawdown (pips below the running peak)</h2>");
    out.push_str(&chart(&underwater, true, "Drawdown in pips", "#b00020"));
    out.push_str(&tally_table(
        "By month of entry (UTC)",
        "month",
        &s.by_month,
    ));
    out.push_str(&tally_table("By exit reason", "exit", &s.by_exit));
    out.push_str("<h2>Trades</h2><table><thead><tr><th>#</th><th>direction</th><th>entered</th><th>closed</th><th>entry</th><th>exit</th><th>reason</th><th>pips</th></tr></thead><tbody>");
    for t in &r.trades {
        let _ = write!(
            out,
            r#"<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class="{}">{:+.1}</td></tr>"#,
            t.id,
            t.direction.label(),
            format_time(t.opened_at),
            format_time(t.closed_at),
            t.entry,
            t.exit_price,
            exit_reason(t),
            if t.pips < 0.0 { "neg" } else { "pos" },
            t.pips
        );
    }
    out.push_str("</tbody></table></body></html>\n");
    out
}

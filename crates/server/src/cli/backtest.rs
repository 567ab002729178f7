//! `promostack backtest --csv FILE --strategy NAME [--json]`: replay bars through a strategy and
//! the full signal lifecycle; the report (docs/backtests.md) on stdout, a progress bar on
//! stderr when it is a terminal. `--strategy-list a,b` prints the reports side by side.
use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use promostack_signals::backtest::{BacktestOptions, BacktestReport, Costs, run_backtest};
use promostack_signals::bars::{
    OhlcSeries, Timeframe, UnixSeconds, format_time, parse_ohlc_csv, parse_time, step_label,
};
use promostack_signals::report::{render_comparison, render_text, trades_csv};
use promostack_signals::report_html::render_html;
use promostack_signals::strategy::{Strategy, StrategyParams, strategy_by_name, strategy_names};

#[derive(Debug, clap::Args)]
pub struct BacktestArgs {
    /// OHLC CSV (same format as `promostack indicators`).
    #[arg(long, value_name = "FILE")]
    pub csv: PathBuf,
    /// Strategy name (aggressive, conservative, trend_pullback).
    #[arg(
        long,
        required_unless_present = "strategy_list",
        conflicts_with = "strategy_list"
    )]
    pub strategy: Option<String>,
    /// Several strategies, comma-separated: one side-by-side table (or a JSON array).
    #[arg(long, value_name = "A,B,C")]
    pub strategy_list: Option<String>,
    /// Print the full report (counts, statistics, equity series, trade list) as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub market: MarketArgs,
    /// Strategy parameter overrides as a JSON object, e.g. '{"rsi_oversold": 30}'.
    #[arg(long, value_name = "JSON")]
    pub params: Option<String>,
    /// Write the trade list as CSV to FILE.
    #[arg(long, value_name = "FILE.csv")]
    pub export_trades: Option<PathBuf>,
    /// Write a self-contained HTML page (equity and drawdown charts, monthly table, trades).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

/// Flags shared by `backtest` and `sweep`: what to trade and at what cost.
#[derive(Debug, clap::Args)]
pub struct MarketArgs {
    /// Symbol for pip size and messages; default: guessed from the file name (EURUSD_H1.csv ->
    /// EUR/USD), else XAU/USD.
    #[arg(long)]
    pub symbol: Option<String>,
    /// Pip size; default: the symbol's (XAU/USD 0.1, EUR/USD 0.0001).
    #[arg(long)]
    pub pip_size: Option<f64>,
    /// Timeframe to trade on: 15m or 1h; default: the file's own if it is one of those, else 1h
    /// built from finer bars.
    #[arg(long)]
    pub timeframe: Option<String>,
    /// Trade only bars opening in [FROM, TO) (UTC; either side may be empty, e.g.
    /// '2017-06-01..'); earlier bars still warm the indicators.
    #[arg(long, value_name = "FROM..TO")]
    pub timerange: Option<String>,
    /// Spread in pips, paid once per trade.
    #[arg(
        long,
        value_name = "PIPS",
        default_value_t = 0.0,
        allow_negative_numbers = true
    )]
    pub spread: f64,
    /// Slippage in pips, paid on every fill (entry and each exit).
    #[arg(
        long,
        value_name = "PIPS",
        default_value_t = 0.0,
        allow_negative_numbers = true
    )]
    pub slippage: f64,
}

/// The loaded CSV and what the flags resolved to.
pub struct Market {
    pub series: OhlcSeries,
    pub step: i64,
    pub timeframe: Timeframe,
    pub symbol: String,
    pub costs: Costs,
    pub from: Option<UnixSeconds>,
    pub to: Option<UnixSeconds>,
}

fn symbol_from_file_name(path: &Path) -> Option<String> {
    let stem = path.file_stem()?.to_str()?;
    let head: String = stem.chars().take_while(char::is_ascii_alphabetic).collect();
    (head.len() == 6).then(|| {
        format!(
            "{}/{}",
            head[..3].to_ascii_uppercase(),
            head[3..].to_ascii_uppercase()
        )
    })
}

pub fn lookup_strategy(name: &str) -> anyhow::Result<&'static dyn Strategy> {
    match strategy_by_name(name) {
        Some(s) => Ok(s),
        None => bail!(
            "unknown strategy `{}` (known: {})",
            name.trim(),
            strategy_names().join(", ")
        ),
    }
}

pub fn parse_params(
    strategy: &dyn Strategy,
    json: Option<&str>,
) -> anyhow::Result<Option<StrategyParams>> {
    match json {
        Some(json) => {
            let value: serde_json::Value =
                serde_json::from_str(json).context("--params is not valid JSON")?;
            Ok(Some(StrategyParams::with_overrides(
                &strategy.default_params(),
                &value,
            )?))
        }
        None => Ok(None),
    }
}

/// `FROM..TO` with optional sides; each side a time `parse_time` reads.
pub fn parse_timerange(text: &str) -> anyhow::Result<(Option<UnixSeconds>, Option<UnixSeconds>)> {
    let Some((from, to)) = text.split_once("..") else {
        bail!("--timerange `{text}`: expected FROM..TO, e.g. 2017-06-01..2017-12-01");
    };
    let side = |s: &str, which: &str| -> anyhow::Result<Option<UnixSeconds>> {
        let s = s.trim();
        if s.is_empty() {
            return Ok(None);
        }
        match parse_time(s) {
            Some(t) => Ok(Some(t)),
            None => bail!(
                "--timerange: {which} `{s}` is not a time (YYYY-MM-DD[ HH:MM[:SS]] UTC, ISO 8601, or unix seconds)"
            ),
        }
    };
    let (from, to) = (side(from, "FROM")?, side(to, "TO")?);
    if let (Some(a), Some(b)) = (from, to)
        && a >= b
    {
        bail!(
            "--timerange: FROM {} is not before TO {}",
            format_time(a),
            format_time(b)
        );
    }
    Ok((from, to))
}

impl MarketArgs {
    pub fn load(&self, csv: &Path) -> anyhow::Result<Market> {
        let costs = Costs {
            spread_pips: self.spread,
            slippage_pips: self.slippage,
        };
        for (flag, v) in [("--spread", self.spread), ("--slippage", self.slippage)] {
            if !v.is_finite() || v < 0.0 {
                bail!("{flag} {v}: must be a non-negative number of pips");
            }
        }
        let (from, to) = match &self.timerange {
            Some(t) => parse_timerange(t)?,
            None => (None, None),
        };
        let text =
            std::fs::read_to_string(csv).with_context(|| format!("reading {}", csv.display()))?;
        let series = parse_ohlc_csv(&text).with_context(|| format!("{}", csv.display()))?;
        let step = series.step_seconds.unwrap_or(3600);
        let timeframe = match &self.timeframe {
            Some(t) => {
                Timeframe::parse(t).with_context(|| format!("--timeframe `{t}`: use 15m or 1h"))?
            }
            None if step == Timeframe::M15.seconds() => Timeframe::M15,
            None => Timeframe::H1,
        };
        let tf = timeframe.seconds();
        if tf < step || tf % step != 0 {
            bail!(
                "--timeframe {}: {} has {} bars, and {} bars cannot be built from them (bars only combine into longer ones); use --timeframe 1h, or give {} or finer data",
                timeframe.label(),
                csv.display(),
                step_label(step),
                step_label(tf),
                step_label(tf)
            );
        }
        if let (Some(first), Some(last)) = (series.bars.first(), series.bars.last()) {
            let end = last.time + step;
            let outside = |t: UnixSeconds, which: &str| {
                anyhow::anyhow!(
                    "--timerange: {which} {} is outside the data ({} to {})",
                    format_time(t),
                    format_time(first.time),
                    format_time(end)
                )
            };
            if let Some(f) = from
                && (f < first.time || f >= end)
            {
                return Err(outside(f, "FROM"));
            }
            if let Some(t) = to
                && (t <= first.time || t > end)
            {
                return Err(outside(t, "TO"));
            }
        }
        let symbol = self
            .symbol
            .clone()
            .or_else(|| symbol_from_file_name(csv))
            .unwrap_or_else(|| "XAU/USD".into());
        Ok(Market {
            series,
            step,
            timeframe,
            symbol,
            costs,
            from,
            to,
        })
    }
}

/// A progress bar on stderr when it is a terminal.
pub fn progress_bar(len: u64, message: String, unit: &str) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(len),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(&format!(
        "{{msg}} [{{bar:40}}] {{pos}}/{{len}} {unit}"
    )) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(message);
    Some(bar)
}

/// Write `text` to stdout; a closed pipe (`| head`) is not an error.
pub fn print(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("writing to stdout"),
    }
}

fn run_one(
    market: &Market,
    strategy: &dyn Strategy,
    params: Option<StrategyParams>,
    pip_size: Option<f64>,
) -> anyhow::Result<BacktestReport> {
    let options = BacktestOptions {
        symbol: market.symbol.clone(),
        pip_size,
        strategy: strategy.name().to_string(),
        params,
        timeframe: market.timeframe,
        costs: market.costs,
        from: market.from,
        to: market.to,
    };
    let bar = progress_bar(
        market.series.bars.len() as u64,
        format!("backtest {}", strategy.name()),
        "bars",
    );
    let report = run_backtest(
        &market.series.bars,
        market.step,
        &options,
        &mut |done, total| {
            if let Some(bar) = &bar {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
            }
        },
    )?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(report)
}

fn with_gaps(report: &BacktestReport, gaps: usize) -> anyhow::Result<serde_json::Value> {
    let mut json = serde_json::to_value(report)?;
    if let Some(obj) = json.as_object_mut() {
        obj.insert("gaps".into(), serde_json::json!(gaps));
    }
    Ok(json)
}

pub fn run(args: BacktestArgs) -> anyhow::Result<()> {
    let names: Vec<String> = match (&args.strategy, &args.strategy_list) {
        (Some(s), _) => vec![s.clone()],
        (None, Some(list)) => list
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        (None, None) => bail!("give --strategy NAME or --strategy-list A,B,C"),
    };
    if names.is_empty() {
        bail!("--strategy-list is empty: name at least one strategy");
    }
    let strategies = names
        .iter()
        .map(|n| lookup_strategy(n))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let single = strategies.len() == 1;
    if !single && (args.export_trades.is_some() || args.html.is_some()) {
        bail!("--export-trades and --html take one --strategy, not a --strategy-list");
    }
    if !single && args.params.is_some() {
        bail!("--params applies to one --strategy, not a --strategy-list");
    }
    let params = match strategies.first() {
        Some(s) if single => parse_params(*s, args.params.as_deref())?,
        _ => None,
    };
    let market = args.market.load(&args.csv)?;
    let gaps = market.series.gaps.len();
    let mut reports = Vec::with_capacity(strategies.len());
    for s in &strategies {
        reports.push(run_one(&market, *s, params.clone(), args.market.pip_size)?);
    }

    if let (Some(path), Some(r)) = (&args.export_trades, reports.first()) {
        std::fs::write(path, trades_csv(r))
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("wrote {} trades to {}", r.trades.len(), path.display());
    }
    if let (Some(path), Some(r)) = (&args.html, reports.first()) {
        let title = args
            .csv
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        std::fs::write(path, render_html(r, &title))
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }

    let text = match (args.json, single) {
        (true, true) => serde_json::to_string_pretty(&with_gaps(&reports[0], gaps)?)? + "\n",
        (true, false) => {
            let all = reports
                .iter()
                .map(|r| with_gaps(r, gaps))
                .collect::<anyhow::Result<Vec<_>>>()?;
            serde_json::to_string_pretty(&all)? + "\n"
        }
        (false, true) => render_text(&reports[0], gaps),
        (false, false) => {
            let r = &reports[0];
            let span = match (r.first_bar, r.last_bar) {
                (Some(a), Some(b)) => format!("{} to {}", format_time(a), format_time(b)),
                _ => "no bars".into(),
            };
            format!(
                "Backtest on {} {} ({} bars, {span}; {gaps} gaps; costs {} pips per trade)\n\n{}",
                r.symbol,
                r.timeframe.label(),
                r.bars,
                r.costs.per_trade_pips(),
                render_comparison(&reports)
            )
        }
    };
    print(&text)
}

//! `promostack backtest --csv FILE --strategy NAME [--json]`: replay bars through a strategy and
//! the full signal lifecycle; a summary (or the whole report as JSON) on stdout, a progress bar
//! on stderr when it is a terminal.
use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;

use anyhow::{Context as _, bail};
use promostack_signals::backtest::{BacktestOptions, BacktestReport, run_backtest};
use promostack_signals::bars::{Timeframe, format_time, parse_ohlc_csv};
use promostack_signals::strategy::{StrategyParams, strategy_by_name, strategy_names};

#[derive(Debug, clap::Args)]
pub struct BacktestArgs {
    /// OHLC CSV (same format as `promostack indicators`).
    #[arg(long, value_name = "FILE")]
    pub csv: PathBuf,
    /// Strategy name (aggressive, conservative, trend_pullback).
    #[arg(long)]
    pub strategy: String,
    /// Print the full report (counts, equity series, trade list) as JSON.
    #[arg(long)]
    pub json: bool,
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
    /// Strategy parameter overrides as a JSON object, e.g. '{"rsi_oversold": 30}'.
    #[arg(long, value_name = "JSON")]
    pub params: Option<String>,
}

fn symbol_from_file_name(path: &std::path::Path) -> Option<String> {
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

pub fn run(args: BacktestArgs) -> anyhow::Result<()> {
    let Some(strategy) = strategy_by_name(&args.strategy) else {
        bail!(
            "unknown strategy `{}` (known: {})",
            args.strategy,
            strategy_names().join(", ")
        );
    };
    let params = match &args.params {
        Some(json) => {
            let value: serde_json::Value =
                serde_json::from_str(json).context("--params is not valid JSON")?;
            Some(StrategyParams::with_overrides(
                &strategy.default_params(),
                &value,
            )?)
        }
        None => None,
    };
    let text = std::fs::read_to_string(&args.csv)
        .with_context(|| format!("reading {}", args.csv.display()))?;
    let series = parse_ohlc_csv(&text).with_context(|| format!("{}", args.csv.display()))?;
    let step = series.step_seconds.unwrap_or(3600);
    let timeframe = match &args.timeframe {
        Some(t) => {
            Timeframe::parse(t).with_context(|| format!("--timeframe `{t}`: use 15m or 1h"))?
        }
        None if step == Timeframe::M15.seconds() => Timeframe::M15,
        None => Timeframe::H1,
    };
    let symbol = args
        .symbol
        .clone()
        .or_else(|| symbol_from_file_name(&args.csv))
        .unwrap_or_else(|| "XAU/USD".into());
    let options = BacktestOptions {
        symbol,
        pip_size: args.pip_size,
        strategy: strategy.name().to_string(),
        params,
        timeframe,
    };

    let bar = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(series.bars.len() as u64),
            indicatif::ProgressDrawTarget::stderr(),
        );
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} bars")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(format!("backtest {}", strategy.name()));
        Some(bar)
    } else {
        None
    };
    let report = run_backtest(&series.bars, step, &options, &mut |done, total| {
        if let Some(bar) = &bar {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        }
    })?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }

    let mut stdout = std::io::stdout().lock();
    let text = if args.json {
        let mut json = serde_json::to_value(&report)?;
        if let Some(obj) = json.as_object_mut() {
            obj.insert("gaps".into(), serde_json::json!(series.gaps.len()));
        }
        serde_json::to_string_pretty(&json)? + "\n"
    } else {
        summary(&report, series.gaps.len())
    };
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("writing to stdout"),
    }
}

fn summary(r: &BacktestReport, gaps: usize) -> String {
    let span = match (r.first_bar, r.last_bar) {
        (Some(a), Some(b)) => format!("{} to {}", format_time(a), format_time(b)),
        _ => "no bars".into(),
    };
    format!(
        "Backtest: {strategy} on {symbol} {tf} ({bars} bars, {span}; {gaps} gaps)\n\
         Pip size:        {pip}\n\
         Signals:         {signals}\n\
         TP1 / TP2 / TP3: {tp1} / {tp2} / {tp3}\n\
         Stop loss:       {sl} ({be} at breakeven)\n\
         Timeout:         {to}\n\
         Thesis broken:   {tb}\n\
         Open at end:     {eod}\n\
         Win rate:        {wr:.1}% ({wins} wins, {losses} losses)\n\
         Net pips:        {net:+.1}\n\
         Pips per trade:  {avg:+.2}\n\
         Max drawdown:    {dd:.1} pips\n",
        strategy = r.strategy,
        symbol = r.symbol,
        tf = r.timeframe.label(),
        bars = r.bars,
        pip = r.pip_size,
        signals = r.signals,
        tp1 = r.tp1_hits,
        tp2 = r.tp2_hits,
        tp3 = r.tp3_hits,
        sl = r.sl_hits,
        be = r.breakeven_stops,
        to = r.timeouts,
        tb = r.thesis_broken,
        eod = r.end_of_data,
        wr = r.win_rate_percent,
        wins = r.wins,
        losses = r.losses,
        net = r.net_pips,
        avg = r.avg_pips_per_trade,
        dd = r.max_drawdown_pips,
    )
}

//! `promostack indicators --csv FILE`: the standard indicators of every bar as CSV on stdout
//! (column contract in docs/design.md §7; empty cells during warm-up).
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use promostack_signals::bars::{format_time, parse_ohlc_csv, write_time};
use promostack_signals::indicators::{STANDARD_COLUMN_NAMES, standard_columns};

#[derive(Debug, clap::Args)]
pub struct IndicatorsArgs {
    /// OHLC CSV: header row, open/high/low/close columns (any case), time in a
    /// time/date/datetime/timestamp column or else the first column.
    #[arg(long, value_name = "FILE")]
    pub csv: PathBuf,
}

pub fn run(args: IndicatorsArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.csv)
        .with_context(|| format!("reading {}", args.csv.display()))?;
    let series = parse_ohlc_csv(&text).with_context(|| format!("{}", args.csv.display()))?;
    if let Some(widest) = series.gaps.iter().max_by_key(|g| g.to - g.from) {
        eprintln!(
            "note: {} gap(s) in the series (widest {} h, before line {} at {}); indicators treat bars as consecutive",
            series.gaps.len(),
            (widest.to - widest.from) / 3600,
            widest.line,
            format_time(widest.to)
        );
    }
    let cols = standard_columns(&series.bars);
    let columns = cols.columns();

    let mut out = String::with_capacity(series.bars.len() * 200 + 256);
    out.push_str("time");
    for name in STANDARD_COLUMN_NAMES {
        out.push(',');
        out.push_str(name);
    }
    out.push('\n');
    for (i, bar) in series.bars.iter().enumerate() {
        write_time(&mut out, bar.time);
        for col in &columns {
            out.push(',');
            let v = col[i];
            if v.is_finite() {
                // Shortest text that parses back to the same f64.
                let _ = write!(out, "{v}");
            }
        }
        out.push('\n');
    }
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush())
    {
        // A closed pipe (`| head`) is not an error for a CSV printer.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("writing to stdout"),
    }
}

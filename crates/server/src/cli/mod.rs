//! Command-line entry: `serve` (default), `render`, `indicators`, `backtest`, `sweep`,
//! `rebuild-rollups`.
use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub mod backtest;
pub mod indicators;
pub mod rebuild_rollups;
pub mod render;
pub mod sweep;

#[derive(Debug, Parser)]
#[command(
    name = "promostack",
    version,
    about = "PromoStack: branded coupons, broadcasts and signals for Telegram marketers"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server, dashboard and background workers (the default).
    Serve(crate::config::ServeArgs),
    /// Render coupon images from a template directory (one code or a codes file).
    Render(render::RenderArgs),
    /// Compute indicators over an OHLC CSV and print them as CSV.
    Indicators(indicators::IndicatorsArgs),
    /// Replay an OHLC CSV through a strategy and the full signal lifecycle.
    Backtest(backtest::BacktestArgs),
    /// Sweep a strategy's parameters over a grid with walk-forward validation, on all cores.
    Sweep(sweep::SweepArgs),
    /// Recompute the bot analytics rollups from the raw usage rows (one tenant or all).
    RebuildRollups(rebuild_rollups::RebuildRollupsArgs),
}

pub fn main() -> ExitCode {
    // `.env` first, so its values act as environment variables for every flag.
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    let command = match cli.command {
        Some(command) => command,
        None => Cli::parse_from(["promostack", "serve"])
            .command
            .expect("serve parses"),
    };
    let result = match command {
        Command::Serve(args) => crate::app::serve_main(args),
        Command::Render(args) => render::run(args),
        Command::Indicators(args) => indicators::run(args),
        Command::Backtest(args) => backtest::run(args),
        Command::Sweep(args) => sweep::run(args),
        Command::RebuildRollups(args) => rebuild_rollups::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

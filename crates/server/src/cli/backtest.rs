//! `promostack backtest`: being built (see the issue that owns it).
#[derive(Debug, clap::Args)]
pub struct BacktestArgs {}

pub fn run(_args: BacktestArgs) -> anyhow::Result<()> {
    anyhow::bail!("`promostack backtest` is not built yet")
}

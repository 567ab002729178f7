//! `promostack indicators`: being built (see the issue that owns it).
#[derive(Debug, clap::Args)]
pub struct IndicatorsArgs {}

pub fn run(_args: IndicatorsArgs) -> anyhow::Result<()> {
    anyhow::bail!("`promostack indicators` is not built yet")
}

//! `promostack render`: being built (see the issue that owns it).
#[derive(Debug, clap::Args)]
pub struct RenderArgs {}

pub fn run(_args: RenderArgs) -> anyhow::Result<()> {
    anyhow::bail!("`promostack render` is not built yet")
}

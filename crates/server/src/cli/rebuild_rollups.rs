//! `promostack rebuild-rollups [--tenant ID]`: recompute the bot analytics rollups from the raw
//! `bot_usage` rows, for one tenant or every tenant. For a rolling upgrade from a release older
//! than migration 8 (its instances insert raw rows without rollups) and for bulk loads; safe
//! while the server runs (docs/analytics.md). Takes the database settings of `serve`.
use anyhow::Context as _;

use crate::config::{DatabaseArgs, DatabaseConfig};
use crate::db::{self, Db};
use crate::domains::analytics::AnalyticsService;
use crate::domains::tenants::TenantService;
use crate::ids::TenantId;
use crate::time::Clock;

#[derive(Debug, clap::Args)]
pub struct RebuildRollupsArgs {
    /// Only this tenant (its id); every tenant when omitted.
    #[arg(long, value_name = "ID")]
    pub tenant: Option<String>,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

pub fn run(args: RebuildRollupsArgs) -> anyhow::Result<()> {
    let database = DatabaseConfig::try_from(args.database)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let db = Db::connect(&database)?;
        // The rollup tables are migration 8's: bring an older database up to date first.
        db::migrate(&db).await.context("migrating the database")?;
        let tenants = TenantService::new(db.clone(), Clock::system());
        let ids = match args.tenant {
            Some(id) => vec![TenantId::parse(&id)?],
            None => tenants
                .list_all()
                .await?
                .into_iter()
                .map(|tenant| tenant.id)
                .collect(),
        };
        let analytics = AnalyticsService::new(db.clone(), Clock::system(), tenants);
        if ids.is_empty() {
            println!("no tenants: nothing to rebuild");
        }
        for id in &ids {
            analytics
                .rebuild_rollups(id)
                .await
                .with_context(|| format!("tenant {id}"))?;
            println!("rebuilt the analytics rollups of tenant {id}");
        }
        db.close().await;
        anyhow::Ok(())
    })
}

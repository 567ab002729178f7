//! Leader-run housekeeping of the templates domain.
use std::time::Duration;

use crate::state::AppState;
use crate::workers::Worker;

/// Keeps the storage cache of rendered coupons (`tenants/{id}/renders/`) bounded: every step
/// deletes, per tenant, renders older than `RENDER_CACHE_DAYS` and all but the
/// `RENDER_CACHE_PER_TENANT` newest (`config.render_cache`). Without it the cache grows with
/// every distinct code ever rendered.
pub struct RenderCachePruner;

impl Worker for RenderCachePruner {
    fn name(&self) -> &'static str {
        "render-cache-pruner"
    }

    fn interval(&self) -> Duration {
        Duration::from_secs(3600)
    }

    async fn step(&self, state: &AppState) -> anyhow::Result<()> {
        let limits = state.ctx.config.render_cache;
        let now = state.clock.now();
        let tenants = state
            .tenants
            .list_all()
            .await
            .map_err(|e| anyhow::anyhow!("listing workspaces: {e}"))?;
        let mut failed = 0usize;
        for tenant in tenants {
            match state
                .templates
                .prune_render_cache(&tenant.id, now, limits.max_age_ms, limits.max_per_tenant)
                .await
            {
                Ok(0) => {}
                Ok(deleted) => {
                    metrics::counter!("render_cache_pruned_total").increment(deleted as u64);
                    tracing::info!(tenant = %tenant.id, deleted, "pruned cached renders");
                }
                // One tenant's failure must not stop the others; the next step retries.
                Err(err) => {
                    failed += 1;
                    tracing::warn!(tenant = %tenant.id, error = %err, "pruning cached renders failed");
                }
            }
        }
        if failed > 0 {
            anyhow::bail!("pruning cached renders failed for {failed} workspace(s)");
        }
        Ok(())
    }
}

//! Bot analytics over `bot_usage`: totals, top templates, the usage series in the tenant's time
//! zone, and popular codes (docs/analytics.md).
use crate::ids::TenantId;

pub mod range;
pub mod repo;
pub mod routes;
pub mod service;

pub use service::AnalyticsService;

/// One generation attempt, as the bot records it.
#[derive(Debug, Clone)]
pub struct NewUsage<'a> {
    pub tenant_id: &'a TenantId,
    /// Telegram user (None for anonymous channel posts).
    pub user_id: Option<i64>,
    pub chat_id: i64,
    pub chat_type: &'a str,
    pub template_slug: Option<&'a str>,
    pub variant: Option<&'a str>,
    pub code: Option<&'a str>,
    /// `None` on success, else the machine reason.
    pub failure: Option<&'a str>,
    pub latency_ms: i64,
    pub created_at: i64,
}

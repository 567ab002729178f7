//! Bot analytics over `bot_usage`: totals, top templates, the usage series in the tenant's time
//! zone, and popular codes (docs/analytics.md).
pub mod range;
pub mod repo;
pub mod routes;
pub mod service;

pub use service::AnalyticsService;

//! One folder per capability: `routes.rs` (HTTP), `service.rs` (rules), `repo.rs` (SQL).
//! A domain calls another domain's service, never its repo.
pub mod analytics;
pub mod backtests;
pub mod bot;
pub mod broadcast;
pub mod campaigns;
pub mod connections;
pub mod coupons;
pub mod error;
pub mod forex;
pub mod system;
pub mod templates;
pub mod tenants;

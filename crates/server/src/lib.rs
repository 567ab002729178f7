//! PromoStack server library. `main.rs` is a thin wrapper so tests drive exactly this code.
//!
//! Start-up is two phases: [`context::AppContext::from_config`] is pure (decides what is on and
//! off), then [`app::bootstrap`] opens the database, storage and workers. [`app::launch`] serves a
//! listener until the shutdown future resolves.

pub mod api;
pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod context;
pub mod csv;
pub mod db;
pub mod domains;
pub mod http;
pub mod ids;
pub mod integrations;
pub mod serde_int;
pub mod state;
pub mod storage;
pub mod time;
pub mod workers;

pub use app::launch;
pub use config::Config;

/// Install ring as the process's TLS crypto provider (we build rustls without a default so only
/// one provider is compiled). Idempotent; every HTTP client construction path calls it first.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

//! The forex signals service: market data, one engine cycle per workspace on the leader, the
//! signal lifecycle posted to the VIP channel through the Signal Bot (docs/forex.md).
pub mod commentary;
pub mod cycle;
pub mod operator;
pub mod poster;
pub mod repo;
pub mod routes;
pub mod schedule;
pub mod service;
pub mod settings;
pub mod workers;

pub use service::ForexService;
pub use settings::ForexSettings;

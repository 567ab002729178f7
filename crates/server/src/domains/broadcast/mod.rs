//! Broadcasts to a tenant's bot users: a job per broadcast, a per-recipient ledger, sending on
//! the leader through the job queue (docs/broadcasts.md).
pub mod markup;
pub mod repo;
pub mod routes;
pub mod sender;
pub mod service;

pub use sender::BroadcastSender;
pub use service::BroadcastService;

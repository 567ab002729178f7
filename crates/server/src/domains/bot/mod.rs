//! The Telegram coupon bot: webhook receipt, conversation, rendering and delivery, usage.
mod claims;
pub mod commands;
mod conversation;
mod delivery;
pub mod matching;
mod receipt;
mod replies;
pub mod repo;
pub mod routes;
pub mod service;
pub mod workers;
mod writer;

pub use service::{BotDeps, BotService};

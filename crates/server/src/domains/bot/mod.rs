//! The Telegram coupon bot: webhook receipt, conversation, rendering and delivery, usage.
pub mod commands;
pub mod matching;
pub mod repo;
pub mod routes;
pub mod service;
pub mod workers;
mod writer;

pub use service::BotService;

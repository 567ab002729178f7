//! Telegram Bot API: our own thin client and types (docs/telegram.md says why not teloxide),
//! a rate limiter after Telegram's limits, and [`TelegramService`], which hands any domain the
//! client of a tenant's bot.
pub mod client;
pub mod limiter;
mod repo;
mod service;
pub mod types;

pub use client::{BotClient, RetryPolicy, SendOptions, TelegramError, TgResult};
pub use limiter::{Destination, Limits, RateLimiter};
pub use service::{
    BotStatus, DEFAULT_BOT_ID, TelegramService, TenantBot, WebhookAuthError, fingerprint,
};

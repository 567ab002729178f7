//! Telegram Bot API: our own thin client and types (docs/telegram.md says why not teloxide),
//! a rate limiter after Telegram's limits, and [`TelegramService`], which hands any domain the
//! client of a tenant's bot.
pub mod client;
pub mod limiter;
mod repo;
mod service;
pub mod types;

/// The header Telegram signs webhook requests with (the secret given to `setWebhook`).
pub const WEBHOOK_SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";
/// Telegram's updates are small (text ≤ 4096 characters); anything near this is not from it.
pub const WEBHOOK_BODY_LIMIT: usize = 256 * 1024;

/// The webhook URL of a bot under `PUBLIC_URL`: the environment's bot keeps the original path.
pub fn webhook_url(public_url: &str, bot_id: &str) -> String {
    let base = public_url.trim_end_matches('/');
    if bot_id == DEFAULT_BOT_ID {
        format!("{base}/api/telegram-webhook")
    } else {
        format!("{base}/api/telegram-webhook/{bot_id}")
    }
}

pub use client::{BotClient, RetryPolicy, SendOptions, TelegramError, TgResult};
pub use limiter::{Destination, Limits, RateLimiter};
pub use service::{BotStatus, DEFAULT_BOT_ID, TelegramService, TenantBot, WebhookAuthError};

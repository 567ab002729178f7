//! Each workspace's bots, channels and Telegram user account, and the one credential resolver
//! every domain uses (docs/connections.md).
pub mod repo;
pub mod resolver;
pub mod routes;
pub mod service;
pub mod user_account;
pub mod workers;

pub use resolver::{BotCredentialResolver, BotCredentials};
pub use service::{BotRole, Connection, ConnectionService, SaveBot, TelegramAccess};

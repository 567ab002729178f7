//! [`BotCredentialResolver`]: the one way any domain gets a workspace's bot. `credentials(tenant,
//! role)` answers the client (one per token per process, so its rate limiter is shared), the
//! bot's identity and the role's channels — or an error that says what to do. Answers are cached
//! for 60 s; a change through this instance drops the entry at once, other instances see it
//! within the TTL. A Telegram 401 marks the connection `token_rejected`, after which callers fail
//! fast without calling Telegram.
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::repo;
use super::service::{BotRole, STATUS_TOKEN_REJECTED, TelegramAccess, key_of};
use crate::auth::crypto::EncryptionKey;
use crate::db::Db;
use crate::domains::error::{DomainError, DomainResult};
use crate::integrations::telegram::{BotClient, TelegramService};
use crate::time::Clock;

/// How long a resolved connection is trusted from memory.
pub const CACHE_TTL: Duration = Duration::from_secs(60);

/// A workspace's bot, ready to call. Holds the client (whose token never leaves it).
#[derive(Clone, Debug)]
pub struct BotCredentials {
    pub tenant_id: String,
    pub role: BotRole,
    pub bot_user_id: i64,
    pub bot_username: Option<String>,
    pub client: BotClient,
    pub vip_channel_id: Option<i64>,
    pub free_channel_id: Option<i64>,
}

/// Resolved connections by (workspace, role), with when they were read.
type Cache = HashMap<(String, BotRole), (Instant, Arc<BotCredentials>)>;

pub(super) struct ResolverCore {
    pub(super) db: Db,
    pub(super) clock: Clock,
    pub(super) key: OnceLock<EncryptionKey>,
    pub(super) telegram: TelegramAccess,
    /// The bot registry: makes the clients (one per token per process, shared with the coupon
    /// bot's replies) and runs the Coupon Bots.
    pub(super) runtime: Arc<TelegramService>,
    cache: Mutex<Cache>,
    ttl: Mutex<Duration>,
}

impl ResolverCore {
    pub(super) fn new(
        db: Db,
        clock: Clock,
        telegram: TelegramAccess,
        runtime: Arc<TelegramService>,
    ) -> Self {
        Self {
            db,
            clock,
            key: OnceLock::new(),
            telegram,
            runtime,
            cache: Mutex::new(HashMap::new()),
            ttl: Mutex::new(CACHE_TTL),
        }
    }

    /// The client of a token: one per token per process (its rate limiter is per token).
    pub(super) fn client(&self, token: &str) -> BotClient {
        self.runtime.client_for_token(token)
    }
}

#[derive(Clone)]
pub struct BotCredentialResolver {
    core: Arc<ResolverCore>,
}

impl BotCredentialResolver {
    pub(super) fn new(core: Arc<ResolverCore>) -> Self {
        Self { core }
    }

    /// The error a domain shows when the workspace has no such bot.
    pub fn missing_error(role: BotRole) -> DomainError {
        DomainError::conflict(format!(
            "no {} is connected: connect a {} under Settings → Connections",
            role.label(),
            role.label()
        ))
    }

    pub fn rejected_error(&self, role: BotRole) -> DomainError {
        DomainError::conflict(format!(
            "Telegram rejected the {}'s token (revoked or replaced): connect it again under Settings → Connections",
            role.label()
        ))
    }

    /// Shorten the TTL (tests of cross-instance expiry).
    pub fn set_ttl(&self, ttl: Duration) {
        *self.core.ttl.lock().expect("ttl lock") = ttl;
    }

    pub fn invalidate<T: AsRef<str> + ?Sized>(&self, tenant_id: &T, role: BotRole) {
        let tenant_id = tenant_id.as_ref();
        self.core
            .cache
            .lock()
            .expect("resolver cache lock")
            .remove(&(tenant_id.to_owned(), role));
    }

    /// Telegram answered 401 for this connection: mark it and stop using it everywhere.
    pub async fn token_rejected<T: AsRef<str> + ?Sized>(
        &self,
        tenant_id: &T,
        role: BotRole,
    ) -> DomainResult<()> {
        let tenant_id = tenant_id.as_ref();
        self.invalidate(tenant_id, role);
        repo::set_status(
            &self.core.db,
            tenant_id,
            role.as_str(),
            STATUS_TOKEN_REJECTED,
            Some("Telegram answered 401 Unauthorized: the token was revoked or replaced"),
            self.core.clock.now(),
        )
        .await?;
        tracing::warn!(
            tenant_id,
            role = role.as_str(),
            "bot token rejected by Telegram"
        );
        Ok(())
    }

    pub async fn credentials<T: AsRef<str> + ?Sized>(
        &self,
        tenant_id: &T,
        role: BotRole,
    ) -> DomainResult<Arc<BotCredentials>> {
        let tenant_id = tenant_id.as_ref();
        let key = (tenant_id.to_owned(), role);
        let ttl = *self.core.ttl.lock().expect("ttl lock");
        if let Some((at, creds)) = self
            .core
            .cache
            .lock()
            .expect("resolver cache lock")
            .get(&key)
            && at.elapsed() < ttl
        {
            return Ok(creds.clone());
        }
        let row = repo::get(&self.core.db, tenant_id, role.as_str())
            .await?
            .ok_or_else(|| Self::missing_error(role))?;
        if row.status == STATUS_TOKEN_REJECTED {
            return Err(self.rejected_error(role));
        }
        let token = key_of(&self.core.key)?
            .decrypt(&row.token_enc)
            .map_err(|e| DomainError::internal_from("stored bot token", e))?;
        let creds = Arc::new(BotCredentials {
            tenant_id: tenant_id.to_owned(),
            role,
            bot_user_id: row.bot_user_id,
            bot_username: row.bot_username.clone(),
            client: self.core.client(&token),
            vip_channel_id: row.vip_channel_id,
            free_channel_id: row.free_channel_id,
        });
        self.core
            .cache
            .lock()
            .expect("resolver cache lock")
            .insert(key, (Instant::now(), creds.clone()));
        Ok(creds)
    }
}

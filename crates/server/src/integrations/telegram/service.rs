//! [`TelegramService`]: the registry of bots and the one way any domain gets a tenant's bot
//! client. The bot of `TELEGRAM_BOT_TOKEN` (else `TELEGRAM_BOT_TOKEN_TEST`) is `default` and
//! belongs to the default tenant until per-tenant connections exist. Tokens and webhook secrets
//! are stored encrypted; clients (and so their rate limiters) live as long as the token does.
use crate::ids::TenantId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::client::{BotClient, RetryPolicy};
use super::limiter::Limits;
use super::repo::{self, BotRow};
use crate::auth::crypto::EncryptionKey;
use crate::config::Secret;
use crate::db::{Db, DbError, DbResult};
use crate::time::Clock;

/// Id of the bot configured through the environment.
pub const DEFAULT_BOT_ID: &str = "default";

/// How long a bot's row is trusted from memory before it is read again (other instances may
/// have changed it).
const ROW_TTL: Duration = Duration::from_secs(30);
/// `last_update_at` is written at most this often per bot (not once per update).
const TOUCH_EVERY_MS: i64 = 2_000;

/// A tenant's bot, ready to call.
#[derive(Clone, Debug)]
pub struct TenantBot {
    pub id: String,
    pub tenant_id: TenantId,
    pub client: BotClient,
    pub username: Option<String>,
    pub telegram_user_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookAuthError {
    #[error("unknown bot")]
    UnknownBot,
    #[error("missing or wrong secret token")]
    BadSecret,
}

struct Loaded {
    row: BotRow,
    secret: Secret,
    client: BotClient,
    at: Instant,
}

pub struct TelegramService {
    db: Db,
    clock: Clock,
    http: reqwest::Client,
    api_url: String,
    limits: Limits,
    retry: RetryPolicy,
    env_token: Option<Secret>,
    env_secret: Option<Secret>,
    key: OnceLock<EncryptionKey>,
    loaded: Mutex<HashMap<String, Arc<Loaded>>>,
    /// Clients by token fingerprint: one rate limiter per token for the process.
    clients: Mutex<HashMap<String, BotClient>>,
    touched: Mutex<HashMap<String, i64>>,
}

/// The in-memory key of a token's client (never stored: the stored fingerprint is keyed,
/// [`EncryptionKey::fingerprint`]).
fn client_key(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .take(12)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A fresh webhook secret in Telegram's alphabet (`A-Z a-z 0-9 _ -`, up to 256 characters).
pub fn generate_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl TelegramService {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        db: Db,
        clock: Clock,
        http: reqwest::Client,
        api_url: &str,
        limits: Limits,
        retry: RetryPolicy,
        env_token: Option<Secret>,
        env_secret: Option<Secret>,
    ) -> Self {
        Self {
            db,
            clock,
            http,
            api_url: api_url.trim_end_matches('/').to_owned(),
            limits,
            retry,
            env_token,
            env_secret,
            key: OnceLock::new(),
            loaded: Mutex::new(HashMap::new()),
            clients: Mutex::new(HashMap::new()),
            touched: Mutex::new(HashMap::new()),
        }
    }

    /// Whether a bot is configured through the environment.
    pub fn env_configured(&self) -> bool {
        self.env_token.is_some()
    }

    pub fn api_url(&self) -> &str {
        &self.api_url
    }

    /// Bootstrap: take the encryption key and store the environment's bot (encrypted) for the
    /// default tenant. Idempotent and safe on several instances at once.
    pub async fn bootstrap(
        &self,
        key: EncryptionKey,
        default_tenant_id: &TenantId,
    ) -> DbResult<()> {
        let _ = self.key.set(key);
        let Some(token) = &self.env_token else {
            return Ok(());
        };
        let key = self.key()?;
        let existing = repo::get(&self.db, DEFAULT_BOT_ID).await?;
        let fp = key.fingerprint(token.expose());
        let stored_secret = existing
            .as_ref()
            .and_then(|row| key.decrypt(&row.webhook_secret_enc).ok());
        // The environment's secret wins; else keep the stored one; else generate one.
        let (secret, replace) = match (&self.env_secret, stored_secret) {
            (Some(env), stored) => (
                env.expose().to_owned(),
                stored.as_deref() != Some(env.expose()),
            ),
            (None, Some(stored)) => (stored, false),
            (None, None) => (generate_secret(), true),
        };
        repo::upsert_token(
            &self.db,
            DEFAULT_BOT_ID,
            default_tenant_id,
            &key.encrypt(token.expose()),
            &fp,
            &key.encrypt(&secret),
            replace,
            self.clock.now(),
        )
        .await?;
        self.forget(DEFAULT_BOT_ID);
        Ok(())
    }

    fn key(&self) -> DbResult<&EncryptionKey> {
        self.key
            .get()
            .ok_or_else(|| DbError::Unavailable("starting up".into()))
    }

    /// Run a workspace's connected Coupon Bot (domains/connections): the bot registry is its
    /// runtime (durable receipt, set-up, polling), kept under the connection's id with the
    /// connection's token and secret. Idempotent; the leader calls it again to heal a save that
    /// stopped between the two writes. The environment's bot (`default`) is bootstrap's.
    pub async fn run_bot(
        &self,
        bot_id: &str,
        tenant_id: &TenantId,
        token: &str,
        secret: &str,
    ) -> DbResult<()> {
        if bot_id == DEFAULT_BOT_ID {
            return Ok(());
        }
        let key = self.key()?;
        let fp = key.fingerprint(token);
        let unchanged = repo::get(&self.db, bot_id).await?.is_some_and(|row| {
            row.token_fingerprint == fp
                && key.decrypt(&row.webhook_secret_enc).ok().as_deref() == Some(secret)
        });
        if unchanged {
            return Ok(());
        }
        repo::upsert_token(
            &self.db,
            bot_id,
            tenant_id,
            &key.encrypt(token),
            &fp,
            &key.encrypt(secret),
            true,
            self.clock.now(),
        )
        .await?;
        self.forget(bot_id);
        Ok(())
    }

    /// Stop a connected bot: its registry row goes, with its stored updates.
    pub async fn stop_bot(&self, bot_id: &str) -> DbResult<()> {
        if bot_id == DEFAULT_BOT_ID {
            return Ok(());
        }
        repo::delete(&self.db, bot_id).await?;
        self.forget(bot_id);
        Ok(())
    }

    /// Drop the cached row of a bot (its token or secret changed).
    pub fn forget(&self, bot_id: &str) {
        self.loaded.lock().expect("bots lock").remove(bot_id);
    }

    /// The client of a token, one per token per process: every caller of a bot (its replies,
    /// broadcasts, connections) shares its rate limiter.
    pub fn client_for_token(&self, token: &str) -> BotClient {
        self.client_for(&client_key(token), Secret::new(token))
    }

    fn client_for(&self, fingerprint: &str, token: Secret) -> BotClient {
        let mut clients = self.clients.lock().expect("clients lock");
        clients
            .entry(fingerprint.to_owned())
            .or_insert_with(|| {
                BotClient::new(
                    self.http.clone(),
                    &self.api_url,
                    token,
                    self.limits,
                    self.retry,
                )
            })
            .clone()
    }

    async fn load(&self, bot_id: &str) -> DbResult<Option<Arc<Loaded>>> {
        if let Some(loaded) = self.loaded.lock().expect("bots lock").get(bot_id)
            && loaded.at.elapsed() < ROW_TTL
        {
            return Ok(Some(loaded.clone()));
        }
        // The environment bot is off when the variable is gone, whatever the table says.
        if bot_id == DEFAULT_BOT_ID && self.env_token.is_none() {
            return Ok(None);
        }
        let Some(row) = repo::get(&self.db, bot_id).await? else {
            return Ok(None);
        };
        let loaded = Arc::new(self.open(row)?);
        self.loaded
            .lock()
            .expect("bots lock")
            .insert(bot_id.to_owned(), loaded.clone());
        Ok(Some(loaded))
    }

    fn open(&self, row: BotRow) -> DbResult<Loaded> {
        let key = self.key()?;
        let token = key
            .decrypt(&row.token_enc)
            .map_err(|e| DbError::other(format!("decrypting bot {}", row.id), e))?;
        let secret = key
            .decrypt(&row.webhook_secret_enc)
            .map_err(|e| DbError::other(format!("decrypting bot {}", row.id), e))?;
        let client = self.client_for(&row.token_fingerprint, Secret::new(token));
        Ok(Loaded {
            row,
            secret: Secret::new(secret),
            client,
            at: Instant::now(),
        })
    }

    fn tenant_bot(loaded: &Loaded) -> TenantBot {
        TenantBot {
            id: loaded.row.id.clone(),
            tenant_id: loaded.row.tenant_id.clone(),
            client: loaded.client.clone(),
            username: loaded.row.username.clone(),
            telegram_user_id: loaded.row.telegram_user_id,
        }
    }

    /// A bot by id, if it exists and is configured.
    pub async fn bot(&self, bot_id: &str) -> DbResult<Option<TenantBot>> {
        Ok(self.load(bot_id).await?.map(|l| Self::tenant_bot(&l)))
    }

    /// The bot a tenant sends with: its oldest configured bot (the default tenant's is the
    /// environment's). `None` when the tenant has no bot.
    pub async fn bot_for_tenant(&self, tenant_id: &TenantId) -> DbResult<Option<TenantBot>> {
        for row in repo::for_tenant(&self.db, tenant_id).await? {
            if let Some(bot) = self.bot(&row.id).await? {
                return Ok(Some(bot));
            }
        }
        Ok(None)
    }

    /// Every configured bot (the leader sets each one up).
    pub async fn all_bots(&self) -> DbResult<Vec<TenantBot>> {
        let mut bots = Vec::new();
        for row in repo::all(&self.db).await? {
            if let Some(bot) = self.bot(&row.id).await? {
                bots.push(bot);
            }
        }
        Ok(bots)
    }

    /// The webhook secret of a bot (for `setWebhook`); never logged.
    pub async fn webhook_secret(&self, bot_id: &str) -> DbResult<Option<Secret>> {
        Ok(self.load(bot_id).await?.map(|l| l.secret.clone()))
    }

    /// Check `X-Telegram-Bot-Api-Secret-Token` against the bot's secret in constant time.
    pub async fn verify_webhook(
        &self,
        bot_id: &str,
        presented: Option<&[u8]>,
    ) -> DbResult<Result<TenantBot, WebhookAuthError>> {
        let Some(loaded) = self.load(bot_id).await? else {
            return Ok(Err(WebhookAuthError::UnknownBot));
        };
        let expected = loaded.secret.expose().as_bytes();
        let matches = presented.is_some_and(|p| bool::from(p.ct_eq(expected)));
        Ok(if matches {
            Ok(Self::tenant_bot(&loaded))
        } else {
            Err(WebhookAuthError::BadSecret)
        })
    }

    /// Status row of a bot, for the dashboard (no token, no secret).
    pub async fn status_row(&self, bot_id: &str) -> DbResult<Option<BotStatus>> {
        if bot_id == DEFAULT_BOT_ID && self.env_token.is_none() {
            return Ok(None);
        }
        Ok(repo::get(&self.db, bot_id).await?.map(|row| BotStatus {
            id: row.id,
            username: row.username,
            mode: row.mode,
            webhook_url: row.webhook_url,
            setup_at: row.setup_at,
            setup_error: row.setup_error,
            last_update_at: row.last_update_at,
        }))
    }

    /// The tenant's bot status rows.
    pub async fn status_for_tenant(&self, tenant_id: &TenantId) -> DbResult<Vec<BotStatus>> {
        let mut out = Vec::new();
        for row in repo::for_tenant(&self.db, tenant_id).await? {
            if let Some(status) = self.status_row(&row.id).await? {
                out.push(status);
            }
        }
        Ok(out)
    }

    pub async fn record_identity(
        &self,
        bot_id: &str,
        telegram_user_id: i64,
        username: Option<&str>,
    ) -> DbResult<()> {
        repo::record_identity(
            &self.db,
            bot_id,
            telegram_user_id,
            username,
            self.clock.now(),
        )
        .await?;
        self.forget(bot_id);
        Ok(())
    }

    pub async fn record_setup(
        &self,
        bot_id: &str,
        mode: &str,
        webhook_url: Option<&str>,
        error: Option<&str>,
    ) -> DbResult<()> {
        repo::record_setup(&self.db, bot_id, mode, webhook_url, error, self.clock.now()).await
    }

    /// Note that an update arrived (throttled: one write per bot every couple of seconds).
    pub async fn touch_last_update(&self, bot_id: &str) -> DbResult<()> {
        let now = self.clock.now();
        {
            let mut touched = self.touched.lock().expect("touch lock");
            let last = touched.entry(bot_id.to_owned()).or_insert(i64::MIN);
            if now.saturating_sub(*last) < TOUCH_EVERY_MS {
                return Ok(());
            }
            *last = now;
        }
        repo::touch_last_update(&self.db, bot_id, now).await
    }
}

/// What the dashboard may know about a bot.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BotStatus {
    pub id: String,
    pub username: Option<String>,
    pub mode: Option<String>,
    pub webhook_url: Option<String>,
    pub setup_at: Option<i64>,
    pub setup_error: Option<String>,
    pub last_update_at: Option<i64>,
}

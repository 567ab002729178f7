//! Rules of connections: the live checks on save (getMe, getChat, getChatMember rights), tokens
//! and webhook secrets encrypted before they are stored, one workspace per bot, and the
//! [`BotCredentialResolver`](super::resolver::BotCredentialResolver) that hands every domain the
//! client of a workspace's bot. Nothing here knows HTTP.
use std::sync::{Arc, OnceLock};

use base64::Engine;
use serde::Serialize;

use super::repo::{self, ConnectionRow};
use super::resolver::{BotCredentialResolver, ResolverCore};
use crate::auth::crypto::EncryptionKey;
use crate::db::new_id;
use crate::domains::error::{DomainError, DomainResult};
use crate::integrations::telegram::types::{ChatMember, ChatRef};
use crate::integrations::telegram::{SendOptions, TelegramError};
use crate::time::Clock;

/// What a bot is for in its workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BotRole {
    CouponBot,
    SignalBot,
}

impl BotRole {
    pub fn as_str(self) -> &'static str {
        match self {
            BotRole::CouponBot => "coupon_bot",
            BotRole::SignalBot => "signal_bot",
        }
    }

    /// The role as it appears in paths: `coupon-bot`, `signal-bot`.
    pub fn from_path(path: &str) -> Option<BotRole> {
        match path {
            "coupon-bot" => Some(BotRole::CouponBot),
            "signal-bot" => Some(BotRole::SignalBot),
            _ => None,
        }
    }

    fn parse(stored: &str) -> Option<BotRole> {
        match stored {
            "coupon_bot" => Some(BotRole::CouponBot),
            "signal_bot" => Some(BotRole::SignalBot),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            BotRole::CouponBot => "Coupon Bot",
            BotRole::SignalBot => "Signal Bot",
        }
    }
}

/// A connection's health: `ok`, `degraded` (a right was lost), `token_rejected` (Telegram 401).
pub const STATUS_OK: &str = "ok";
pub const STATUS_DEGRADED: &str = "degraded";
pub const STATUS_TOKEN_REJECTED: &str = "token_rejected";
/// The id of the Coupon Bot seeded by `TELEGRAM_BOT_TOKEN`: the bot registry's environment bot.
pub const ENV_COUPON_BOT_ID: &str = crate::integrations::telegram::DEFAULT_BOT_ID;

/// How a degraded reason caused by a failed `setWebhook` starts (a later success clears it).
const WEBHOOK_FAILED: &str = "the webhook could not be registered";

#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    /// `token`, `vip_channel.can_post_messages`, …
    pub check: String,
    pub ok: bool,
    /// What to do when it failed.
    pub message: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Channel {
    pub id: i64,
    pub title: Option<String>,
}

/// A connection as the dashboard sees it: never the token, never the secret.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Connection {
    pub role: BotRole,
    pub bot_id: i64,
    pub bot_username: Option<String>,
    pub vip_channel: Option<Channel>,
    pub free_channel: Option<Channel>,
    pub checks: Vec<Check>,
    pub status: String,
    pub status_reason: Option<String>,
    pub updated_at: i64,
}

impl Connection {
    fn from_row(row: &ConnectionRow) -> DomainResult<Connection> {
        let role = BotRole::parse(&row.role)
            .ok_or_else(|| DomainError::internal(format!("unknown role {}", row.role)))?;
        let channel = |id: Option<i64>, title: &Option<String>| {
            id.map(|id| Channel {
                id,
                title: title.clone(),
            })
        };
        Ok(Connection {
            role,
            bot_id: row.bot_user_id,
            bot_username: row.bot_username.clone(),
            vip_channel: channel(row.vip_channel_id, &row.vip_channel_title),
            free_channel: channel(row.free_channel_id, &row.free_channel_title),
            checks: serde_json::from_str(&row.checks_json).unwrap_or_default(),
            status: row.status.clone(),
            status_reason: row.status_reason.clone(),
            updated_at: row.updated_at,
        })
    }
}

/// What a save asks for; `token: None` keeps the stored token (changing only the channels).
#[derive(Debug, Clone, Default)]
pub struct SaveBot {
    pub token: Option<String>,
    pub vip_channel: Option<String>,
    pub free_channel: Option<String>,
}

/// How the service's bots receive updates.
#[derive(Clone)]
pub struct TelegramAccess {
    /// `PUBLIC_URL`: webhooks are registered at `{public_url}/api/telegram-webhook/{id}`.
    pub public_url: Option<String>,
    /// `TELEGRAM_MODE=polling`: no webhooks; the leader long-polls every bot.
    pub polling: bool,
}

/// A connection's bot as the leader sets it up and polls it.
#[derive(Clone)]
pub struct ConnectedBot {
    pub id: String,
    pub tenant_id: String,
    pub role: BotRole,
    /// Of the token: a new token is a new bot to set up.
    pub fingerprint: String,
    /// Telegram answered 401 for its token: nothing to set up or poll until it is saved again.
    pub token_rejected: bool,
    pub client: crate::integrations::telegram::BotClient,
}

/// The updates each role's webhook asks Telegram for.
pub fn allowed_updates(role: BotRole) -> &'static [&'static str] {
    match role {
        // What the coupon bot's registry asks for (it runs the Coupon Bot); no channels, so no
        // my_chat_member.
        BotRole::CouponBot => crate::integrations::telegram::types::ALLOWED_UPDATES,
        BotRole::SignalBot => &[
            "message",
            "callback_query",
            "my_chat_member",
            "chat_member",
            "chat_join_request",
        ],
    }
}

/// How long the secret a rotation replaced is still accepted: updates Telegram signed with it
/// before it switched (or is redelivering) are not refused.
pub const SECRET_GRACE_MS: i64 = 10 * 60_000;

/// What the webhook of a connection's bot made of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookOutcome {
    UnknownBot,
    BadSecret,
    Handled,
    /// A command sent to a Signal Bot in a private chat: the forex service answers it
    /// (operator commands); the caller hands it over.
    SignalBotCommand(BotCommandMessage),
}

/// A `/command` someone sent a workspace's Signal Bot in a private chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotCommandMessage {
    pub tenant_id: String,
    pub chat_id: i64,
    pub from_id: i64,
    pub text: String,
}

#[derive(Clone)]
pub struct ConnectionService {
    core: Arc<ResolverCore>,
    resolver: BotCredentialResolver,
    user_accounts: Arc<super::user_account::UserAccounts>,
}

/// A fresh webhook secret in Telegram's alphabet (`A-Z a-z 0-9 _ -`).
fn generate_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// `123456789:AA…`: digits, a colon, then Telegram's alphabet.
fn token_shape_ok(token: &str) -> bool {
    token.split_once(':').is_some_and(|(id, secret)| {
        !id.is_empty()
            && id.len() <= 20
            && id.bytes().all(|b| b.is_ascii_digit())
            && secret.len() >= 20
            && secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    })
}

fn telegram_down(error: &TelegramError) -> DomainError {
    DomainError::unavailable(
        "telegram",
        format!(
            "Telegram cannot be reached to check the connection ({}); try again shortly",
            error.kind()
        ),
    )
}

/// The rights a channel of `field` needs, as (check name, has it, what to allow).
fn needed_rights(
    field: &'static str,
    member: &ChatMember,
) -> Vec<(&'static str, bool, &'static str)> {
    let mut rights = vec![("can_post_messages", member.can_post(), "post messages")];
    if field == "vipChannel" {
        rights.push((
            "can_invite_users",
            member.can_invite(),
            "invite users via link (add members)",
        ));
        rights.push((
            "can_restrict_members",
            member.can_restrict(),
            "ban users (to remove lapsed VIP members)",
        ));
    }
    rights
}

impl ConnectionService {
    pub fn new(
        db: crate::db::Db,
        clock: Clock,
        telegram: TelegramAccess,
        runtime: Arc<crate::integrations::telegram::TelegramService>,
        user_connector: Option<super::user_account::ConnectorFactory>,
    ) -> Self {
        let user_accounts = Arc::new(super::user_account::UserAccounts::new(
            db.clone(),
            clock.clone(),
            user_connector,
        ));
        let core = Arc::new(ResolverCore::new(db, clock, telegram, runtime));
        Self {
            resolver: BotCredentialResolver::new(core.clone()),
            core,
            user_accounts,
        }
    }

    /// Bootstrap hands over the encryption key (derived from the secret at start).
    pub fn set_key(&self, key: EncryptionKey) {
        self.user_accounts.set_key(key.clone());
        let _ = self.core.key.set(key);
    }

    /// The workspace's Telegram user account (login, status, sending).
    pub fn user_accounts(&self) -> &super::user_account::UserAccounts {
        &self.user_accounts
    }

    pub fn resolver(&self) -> &BotCredentialResolver {
        &self.resolver
    }

    /// `TELEGRAM_MODE=polling`.
    pub fn polling(&self) -> bool {
        self.core.telegram.polling
    }

    fn key(&self) -> DomainResult<&EncryptionKey> {
        key_of(&self.core.key)
    }

    pub async fn list<T: AsRef<str> + ?Sized>(
        &self,
        tenant_id: &T,
    ) -> DomainResult<Vec<Connection>> {
        let tenant_id = tenant_id.as_ref();
        repo::list(&self.core.db, tenant_id)
            .await?
            .iter()
            .map(Connection::from_row)
            .collect()
    }

    /// Check everything live, then store in one statement; nothing is written when a check fails.
    pub async fn save<T: AsRef<str> + ?Sized>(
        &self,
        tenant_id: &T,
        role: BotRole,
        input: SaveBot,
    ) -> DomainResult<Connection> {
        self.save_as(tenant_id.as_ref(), role, input, None).await
    }

    /// `TELEGRAM_BOT_TOKEN` seeds the default workspace's Coupon Bot as the bot registry's
    /// `default` bot: the connection takes that id (its webhook stays `/api/telegram-webhook`)
    /// and the registry's secret (`TELEGRAM_WEBHOOK_SECRET` when set). Written at once without
    /// calling Telegram, so the bot works from the first request; [`Self::check_env_coupon_bot`]
    /// then runs the live checks in the background. An earlier Coupon Bot of the workspace
    /// connected from the page gives way (the environment wins while it is set).
    pub async fn seed_env_coupon_bot(
        &self,
        tenant_id: &str,
        token: &str,
        secret: &str,
    ) -> DomainResult<()> {
        let key = self.key()?.clone();
        let db = &self.core.db;
        let role = BotRole::CouponBot;
        let existing = repo::get(db, tenant_id, role.as_str()).await?;
        if let Some(row) = &existing
            && row.id != ENV_COUPON_BOT_ID
        {
            repo::delete(db, tenant_id, role.as_str()).await?;
            self.core.runtime.stop_bot(&row.id).await?;
            tracing::info!(
                tenant_id,
                "TELEGRAM_BOT_TOKEN replaces the Coupon Bot connected from the page"
            );
        }
        let existing = existing.filter(|row| row.id == ENV_COUPON_BOT_ID);
        let fingerprint = self.key()?.fingerprint(token);
        if existing
            .as_ref()
            .is_some_and(|row| row.token_fingerprint == fingerprint)
        {
            // Same token: keep what the last check found; only the secret may have changed.
            if let Some(row) = &existing
                && key.decrypt(&row.webhook_secret_enc).ok().as_deref() != Some(secret)
            {
                repo::set_secret(
                    db,
                    tenant_id,
                    role.as_str(),
                    &key.encrypt(secret),
                    self.core.clock.now(),
                )
                .await?;
            }
            self.resolver.invalidate(tenant_id, role);
            return Ok(());
        }
        // The digits before the colon are the bot's user id; getMe confirms it later.
        let bot_user_id = token
            .split_once(':')
            .and_then(|(id, _)| id.parse::<i64>().ok())
            .ok_or_else(|| {
                DomainError::invalid_field(
                    "TELEGRAM_BOT_TOKEN",
                    "a bot token looks like 123456789:AAE…; copy it from @BotFather",
                )
            })?;
        let now = self.core.clock.now();
        let row = ConnectionRow {
            id: ENV_COUPON_BOT_ID.into(),
            tenant_id: tenant_id.to_owned(),
            role: role.as_str().into(),
            bot_user_id,
            bot_username: None,
            token_enc: key.encrypt(token),
            token_fingerprint: fingerprint,
            webhook_secret_enc: key.encrypt(secret),
            vip_channel_id: None,
            vip_channel_title: None,
            free_channel_id: None,
            free_channel_title: None,
            checks_json: "[]".into(),
            status: STATUS_OK.into(),
            status_reason: None,
            created_at: now,
            updated_at: now,
            previous_secret_enc: None,
            secret_rotated_at: None,
        };
        repo::upsert(db, &row).await.map_err(|e| match DomainError::from(e) {
            DomainError::Conflict { .. } => DomainError::duplicate(
                "the bot of TELEGRAM_BOT_TOKEN is connected to another workspace: disconnect it there",
            ),
            other => other,
        })?;
        self.resolver.invalidate(tenant_id, role);
        Ok(())
    }

    /// The live checks of the environment's Coupon Bot (getMe), stored as a save would.
    pub async fn check_env_coupon_bot(&self, tenant_id: &str) -> DomainResult<Connection> {
        let row = repo::get(&self.core.db, tenant_id, BotRole::CouponBot.as_str())
            .await?
            .filter(|row| row.id == ENV_COUPON_BOT_ID)
            .ok_or(DomainError::NotFound("connection"))?;
        let secret = self
            .key()?
            .decrypt(&row.webhook_secret_enc)
            .map_err(|e| DomainError::internal_from("stored webhook secret", e))?;
        self.save_as(
            tenant_id,
            BotRole::CouponBot,
            SaveBot::default(),
            Some(secret),
        )
        .await
    }

    /// `TELEGRAM_BOT_TOKEN` was removed: the bot it seeded is off, as before connections existed.
    pub async fn forget_env_coupon_bot(&self, tenant_id: &str) -> DomainResult<()> {
        let role = BotRole::CouponBot;
        if repo::get(&self.core.db, tenant_id, role.as_str())
            .await?
            .is_some_and(|row| row.id == ENV_COUPON_BOT_ID)
        {
            repo::delete(&self.core.db, tenant_id, role.as_str()).await?;
            self.resolver.invalidate(tenant_id, role);
        }
        Ok(())
    }

    /// `secret`: the webhook secret to keep (the environment's bot); else the stored one, else
    /// a new one.
    async fn save_as(
        &self,
        tenant_id: &str,
        role: BotRole,
        input: SaveBot,
        secret: Option<String>,
    ) -> DomainResult<Connection> {
        let key = self.key()?.clone();
        let db = &self.core.db;
        let existing = repo::get(db, tenant_id, role.as_str()).await?;
        let token = match (input.token.as_deref().map(str::trim), &existing) {
            (Some(token), _) if !token.is_empty() => {
                if !token_shape_ok(token) {
                    return Err(DomainError::invalid_field(
                        "token",
                        "a bot token looks like 123456789:AAE…; copy it from @BotFather",
                    ));
                }
                token.to_owned()
            }
            (_, Some(row)) => key
                .decrypt(&row.token_enc)
                .map_err(|e| DomainError::internal_from("stored bot token", e))?,
            _ => {
                return Err(DomainError::invalid_field(
                    "token",
                    format!("a bot token is required to connect the {}", role.label()),
                ));
            }
        };
        let client = self.core.client(&token);
        let me = match client.get_me().await {
            Ok(me) => me,
            Err(e) if e.rejects_token() => {
                return Err(DomainError::invalid_field(
                    "token",
                    "Telegram rejected this token (revoked or mistyped): copy it again from @BotFather, or issue a new one with /token",
                ));
            }
            Err(
                e @ (TelegramError::Network(_)
                | TelegramError::Server { .. }
                | TelegramError::RetryAfter { .. }),
            ) => {
                return Err(telegram_down(&e));
            }
            Err(e) => return Err(DomainError::invalid_field("token", e.to_string())),
        };
        let bot = me
            .username
            .as_deref()
            .map_or_else(|| "the bot".to_owned(), |u| format!("@{u}"));
        let mut checks = vec![Check {
            check: "token".into(),
            ok: true,
            message: None,
        }];
        let mut channels: [Option<(i64, Option<String>)>; 2] = [None, None];
        for (slot, field, input) in [
            (0, "vipChannel", &input.vip_channel),
            (1, "freeChannel", &input.free_channel),
        ] {
            let input = input.as_deref().map(str::trim).filter(|s| !s.is_empty());
            let input = match (role, input) {
                (BotRole::CouponBot, None) => continue,
                (BotRole::CouponBot, Some(_)) => {
                    return Err(DomainError::invalid_field(
                        field,
                        "the Coupon Bot has no channels; set channels on the Signal Bot",
                    ));
                }
                (BotRole::SignalBot, None) if field == "freeChannel" => continue,
                (BotRole::SignalBot, None) => {
                    return Err(DomainError::invalid_field(
                        field,
                        "the Signal Bot needs its VIP channel: its numeric id (-100…) or @username",
                    ));
                }
                (BotRole::SignalBot, Some(input)) => input,
            };
            let chat_ref = ChatRef::parse(input)
                .map_err(|e| DomainError::invalid_field(field, e.to_string()))?;
            let chat = match client.get_chat(&chat_ref).await {
                Ok(chat) => chat,
                Err(TelegramError::Blocked { .. }) => {
                    return Err(DomainError::invalid_field(
                        field,
                        format!(
                            "{bot} was removed or banned from {input}: add it back as an administrator, then save again"
                        ),
                    ));
                }
                Err(TelegramError::BadRequest { .. }) => {
                    return Err(DomainError::invalid_field(
                        field,
                        format!(
                            "{bot} cannot see {input}: add {bot} to the channel as an administrator, then save again"
                        ),
                    ));
                }
                Err(e) => return Err(telegram_down(&e)),
            };
            let title = chat.title.clone().unwrap_or_else(|| input.to_owned());
            let member = client
                .get_chat_member(&ChatRef::Id(chat.id), me.id)
                .await
                .map_err(|e| match e {
                    TelegramError::Network(_) | TelegramError::Server { .. } => telegram_down(&e),
                    other => DomainError::invalid_field(
                        field,
                        format!("cannot read {bot}'s rights in {title}: {other}"),
                    ),
                })?;
            if !member.is_admin() {
                return Err(DomainError::invalid_field(
                    field,
                    format!("make {bot} an administrator of {title}, then save again"),
                ));
            }
            let rights = needed_rights(field, &member);
            let missing: Vec<&str> = rights.iter().filter(|r| !r.1).map(|r| r.2).collect();
            if !missing.is_empty() {
                return Err(DomainError::invalid_field(
                    field,
                    format!("in {title}, allow {bot} to: {}", missing.join(", ")),
                ));
            }
            let prefix = if slot == 0 {
                "vip_channel"
            } else {
                "free_channel"
            };
            checks.extend(rights.iter().map(|(name, ok, _)| Check {
                check: format!("{prefix}.{name}"),
                ok: *ok,
                message: None,
            }));
            channels[slot] = Some((chat.id, Some(title)));
        }
        if repo::owner_elsewhere(db, tenant_id, me.id).await?.is_some() {
            return Err(DomainError::duplicate(format!(
                "{bot} is connected to another workspace: disconnect it there, or create a separate bot with @BotFather"
            )));
        }
        let now = self.core.clock.now();
        let secret_enc = match (&secret, &existing) {
            (Some(secret), _) => key.encrypt(secret),
            (None, Some(row)) => row.webhook_secret_enc.clone(),
            (None, None) => key.encrypt(&generate_secret()),
        };
        let [vip, free] = channels;
        let row = ConnectionRow {
            id: existing.as_ref().map_or_else(new_id, |r| r.id.clone()),
            tenant_id: tenant_id.to_owned(),
            role: role.as_str().to_owned(),
            bot_user_id: me.id,
            bot_username: me.username.clone(),
            token_enc: key.encrypt(&token),
            token_fingerprint: key.fingerprint(&token),
            webhook_secret_enc: secret_enc,
            vip_channel_id: vip.as_ref().map(|c| c.0),
            vip_channel_title: vip.and_then(|c| c.1),
            free_channel_id: free.as_ref().map(|c| c.0),
            free_channel_title: free.and_then(|c| c.1),
            checks_json: serde_json::to_string(&checks).expect("checks serialise"),
            status: STATUS_OK.into(),
            status_reason: None,
            created_at: existing.as_ref().map_or(now, |r| r.created_at),
            updated_at: now,
            previous_secret_enc: existing
                .as_ref()
                .and_then(|r| r.previous_secret_enc.clone()),
            secret_rotated_at: existing.as_ref().and_then(|r| r.secret_rotated_at),
        };
        repo::upsert(db, &row)
            .await
            .map_err(|e| match DomainError::from(e) {
                DomainError::Conflict { .. } => DomainError::duplicate(format!(
                    "{bot} is already connected (to another workspace or another role)"
                )),
                other => other,
            })?;
        self.resolver.invalidate(tenant_id, role);
        if role == BotRole::CouponBot {
            self.run_coupon_bot(&row, &token, &key).await?;
        }
        tracing::info!(
            tenant_id,
            role = role.as_str(),
            bot_id = me.id,
            "connection saved"
        );
        let row = self.register_webhook(&client, row, &key).await?;
        Connection::from_row(&row)
    }

    /// Hand a Coupon Bot connection to the bot registry, which runs it (docs/connections.md).
    async fn run_coupon_bot(
        &self,
        row: &ConnectionRow,
        token: &str,
        key: &EncryptionKey,
    ) -> DomainResult<()> {
        let secret = key
            .decrypt(&row.webhook_secret_enc)
            .map_err(|e| DomainError::internal_from("stored webhook secret", e))?;
        let tenant = crate::ids::TenantId::parse(&row.tenant_id)
            .map_err(|e| DomainError::internal_from("stored tenant id", e))?;
        self.core
            .runtime
            .run_bot(&row.id, &tenant, token, &secret)
            .await?;
        Ok(())
    }

    /// The leader's reconciliation of a Coupon Bot with the registry (heals a save that
    /// stopped between its two writes).
    pub async fn run_connected_coupon_bot(&self, bot: &ConnectedBot) -> DomainResult<()> {
        let key = self.key()?.clone();
        let Some(row) = repo::get(&self.core.db, &bot.tenant_id, bot.role.as_str()).await? else {
            return Ok(());
        };
        let token = key
            .decrypt(&row.token_enc)
            .map_err(|e| DomainError::internal_from("stored bot token", e))?;
        self.run_coupon_bot(&row, &token, &key).await
    }

    /// Every workspace's connected bots (the leader sets each up and, when polling, polls it).
    pub async fn connected_bots(&self) -> DomainResult<Vec<ConnectedBot>> {
        let key = self.key()?;
        let mut bots = Vec::new();
        for row in repo::all(&self.core.db).await? {
            let Some(role) = BotRole::parse(&row.role) else {
                continue;
            };
            let token = key
                .decrypt(&row.token_enc)
                .map_err(|e| DomainError::internal_from("stored bot token", e))?;
            bots.push(ConnectedBot {
                client: self.core.client(&token),
                fingerprint: row.token_fingerprint,
                token_rejected: row.status == STATUS_TOKEN_REJECTED,
                id: row.id,
                tenant_id: row.tenant_id,
                role,
            });
        }
        Ok(bots)
    }

    /// The leader's set-up of one bot at the start of its leadership: with `TELEGRAM_MODE=polling`
    /// the webhook is removed (Telegram refuses `getUpdates` while one is set); else the webhook
    /// is registered again with the current secret and the role's updates, so a webhook lost or
    /// changed while no instance led (or set by another deployment) is put right.
    pub async fn set_up(&self, bot: &ConnectedBot) -> DomainResult<()> {
        if self.core.telegram.polling {
            return bot.client.delete_webhook().await.map(|_| ()).map_err(|e| {
                if e.rejects_token() {
                    DomainError::invalid_field("token", "Telegram rejected the token")
                } else {
                    telegram_down(&e)
                }
            });
        }
        let key = self.key()?.clone();
        let Some(row) = repo::get(&self.core.db, &bot.tenant_id, bot.role.as_str()).await? else {
            return Ok(());
        };
        let row = self.register_webhook(&bot.client, row, &key).await?;
        if row.status == STATUS_DEGRADED
            && row
                .status_reason
                .as_deref()
                .is_some_and(|r| r.starts_with(WEBHOOK_FAILED))
        {
            return Err(DomainError::unavailable(
                "telegram",
                row.status_reason.unwrap_or_default(),
            ));
        }
        Ok(())
    }

    /// `setWebhook` for the connection's bot with its secret and its role's updates (when
    /// `PUBLIC_URL` is set). A failure marks the connection degraded with Telegram's answer.
    async fn register_webhook(
        &self,
        client: &crate::integrations::telegram::BotClient,
        mut row: ConnectionRow,
        key: &EncryptionKey,
    ) -> DomainResult<ConnectionRow> {
        let Some(base) = self.core.telegram.public_url.as_deref() else {
            return Ok(row);
        };
        if self.core.telegram.polling {
            return Ok(row);
        }
        let role = BotRole::parse(&row.role).unwrap_or(BotRole::CouponBot);
        let url = crate::integrations::telegram::webhook_url(base, &row.id);
        let secret = key
            .decrypt(&row.webhook_secret_enc)
            .map_err(|e| DomainError::internal_from("stored webhook secret", e))?;
        if let Err(e) = client
            .set_webhook(&url, &secret, allowed_updates(role))
            .await
        {
            let reason = format!("{WEBHOOK_FAILED}: {e}");
            repo::set_status(
                &self.core.db,
                &row.tenant_id,
                &row.role,
                STATUS_DEGRADED,
                Some(&reason),
                self.core.clock.now(),
            )
            .await?;
            row.status = STATUS_DEGRADED.into();
            row.status_reason = Some(reason);
        } else if row.status == STATUS_DEGRADED
            && row
                .status_reason
                .as_deref()
                .is_some_and(|r| r.starts_with(WEBHOOK_FAILED))
        {
            // Registered now: the only thing wrong is put right.
            repo::set_status(
                &self.core.db,
                &row.tenant_id,
                &row.role,
                STATUS_OK,
                None,
                self.core.clock.now(),
            )
            .await?;
            row.status = STATUS_OK.into();
            row.status_reason = None;
        }
        Ok(row)
    }

    /// An update posted to `/api/telegram-webhook/{id}` for a connection's bot: the secret is
    /// checked in constant time; `my_chat_member` about one of its channels re-runs the rights
    /// check and marks the connection degraded (or healthy again).
    pub async fn receive_update(
        &self,
        connection_id: &str,
        presented: Option<&[u8]>,
        body: &[u8],
    ) -> DomainResult<WebhookOutcome> {
        use subtle::ConstantTimeEq;
        let Some(row) = repo::by_id_for_webhook(&self.core.db, connection_id).await? else {
            return Ok(WebhookOutcome::UnknownBot);
        };
        let key = self.key()?;
        let matches = |sealed: &str| -> DomainResult<bool> {
            let secret = key
                .decrypt(sealed)
                .map_err(|e| DomainError::internal_from("stored webhook secret", e))?;
            Ok(presented.is_some_and(|p| bool::from(p.ct_eq(secret.as_bytes()))))
        };
        let in_grace = row
            .secret_rotated_at
            .is_some_and(|at| self.core.clock.now() - at <= SECRET_GRACE_MS);
        let accepted = matches(&row.webhook_secret_enc)?
            || match (&row.previous_secret_enc, in_grace) {
                (Some(previous), true) => matches(previous)?,
                _ => false,
            };
        if !accepted {
            return Ok(WebhookOutcome::BadSecret);
        }
        self.handle_update(&row, body).await
    }

    /// An update for the workspace's bot of `role` (the original's `/api/forex-telegram-webhook`).
    pub async fn receive_update_of_role<T: AsRef<str> + ?Sized>(
        &self,
        tenant_id: &T,
        role: BotRole,
        presented: Option<&[u8]>,
        body: &[u8],
    ) -> DomainResult<WebhookOutcome> {
        match repo::get(&self.core.db, tenant_id.as_ref(), role.as_str()).await? {
            Some(row) => self.receive_update(&row.id, presented, body).await,
            None => Ok(WebhookOutcome::UnknownBot),
        }
    }

    /// `TELEGRAM_MODE=polling`: an update fetched with `getUpdates` by the leader (no secret:
    /// it came from Telegram over the bot's own token).
    pub async fn receive_polled_update(
        &self,
        connection_id: &str,
        body: &[u8],
    ) -> DomainResult<WebhookOutcome> {
        let Some(row) = repo::by_id_for_webhook(&self.core.db, connection_id).await? else {
            return Ok(WebhookOutcome::UnknownBot);
        };
        self.handle_update(&row, body).await
    }

    async fn handle_update(
        &self,
        row: &ConnectionRow,
        body: &[u8],
    ) -> DomainResult<WebhookOutcome> {
        let Ok(update) =
            serde_json::from_slice::<crate::integrations::telegram::types::Update>(body)
        else {
            return Ok(WebhookOutcome::Handled);
        };
        if row.role == BotRole::SignalBot.as_str()
            && let Some(message) = &update.message
            && message.chat.kind == "private"
            && let (Some(from), Some(text)) = (&message.from, &message.text)
            && text.starts_with('/')
        {
            return Ok(WebhookOutcome::SignalBotCommand(BotCommandMessage {
                tenant_id: row.tenant_id.clone(),
                chat_id: message.chat.id,
                from_id: from.id,
                text: text.chars().take(200).collect(),
            }));
        }
        let Some(change) = update.my_chat_member else {
            return Ok(WebhookOutcome::Handled);
        };
        let channel = if Some(change.chat.id) == row.vip_channel_id {
            Some(("vipChannel", row.vip_channel_title.clone()))
        } else if Some(change.chat.id) == row.free_channel_id {
            Some(("freeChannel", row.free_channel_title.clone()))
        } else {
            None
        };
        let Some((field, title)) = channel else {
            return Ok(WebhookOutcome::Handled);
        };
        let title = title.unwrap_or_else(|| change.chat.id.to_string());
        let bot = row
            .bot_username
            .as_deref()
            .map_or_else(|| "the bot".to_owned(), |u| format!("@{u}"));
        let member = &change.new_chat_member;
        let reason = if !member.is_present() {
            Some(format!(
                "{bot} was removed from {title}: add it back as an administrator"
            ))
        } else if !member.is_admin() {
            Some(format!("{bot} is no longer an administrator of {title}"))
        } else {
            let missing: Vec<&str> = needed_rights(field, member)
                .iter()
                .filter(|r| !r.1)
                .map(|r| r.2)
                .collect();
            (!missing.is_empty()).then(|| {
                format!(
                    "in {title}, {bot} lost the right to: {}",
                    missing.join(", ")
                )
            })
        };
        let status = if reason.is_some() {
            STATUS_DEGRADED
        } else {
            STATUS_OK
        };
        if row.status != STATUS_TOKEN_REJECTED {
            repo::set_status(
                &self.core.db,
                &row.tenant_id,
                &row.role,
                status,
                reason.as_deref(),
                self.core.clock.now(),
            )
            .await?;
            if let Some(role) = BotRole::parse(&row.role) {
                self.resolver.invalidate(&row.tenant_id, role);
            }
            tracing::info!(tenant_id = %row.tenant_id, role = %row.role, status, "bot membership changed");
        }
        Ok(WebhookOutcome::Handled)
    }

    pub async fn disconnect<T: AsRef<str> + ?Sized>(
        &self,
        tenant_id: &T,
        role: BotRole,
    ) -> DomainResult<()> {
        let tenant_id = tenant_id.as_ref();
        let existing = repo::get(&self.core.db, tenant_id, role.as_str()).await?;
        let removed = repo::delete(&self.core.db, tenant_id, role.as_str()).await?;
        self.resolver.invalidate(tenant_id, role);
        let Some(row) = existing.filter(|_| removed > 0) else {
            return Err(DomainError::NotFound("connection"));
        };
        if role == BotRole::CouponBot {
            self.core.runtime.stop_bot(&row.id).await?;
        }
        Ok(())
    }

    /// A new webhook secret (the leader registers it with the bot's webhook).
    pub async fn rotate_secret<T: AsRef<str> + ?Sized>(
        &self,
        tenant_id: &T,
        role: BotRole,
    ) -> DomainResult<Connection> {
        let tenant_id = tenant_id.as_ref();
        let key = self.key()?;
        let now = self.core.clock.now();
        let changed = repo::set_secret(
            &self.core.db,
            tenant_id,
            role.as_str(),
            &key.encrypt(&generate_secret()),
            now,
        )
        .await?;
        if changed == 0 {
            return Err(DomainError::NotFound("connection"));
        }
        self.resolver.invalidate(tenant_id, role);
        let row = repo::get(&self.core.db, tenant_id, role.as_str())
            .await?
            .ok_or(DomainError::NotFound("connection"))?;
        // The new secret is registered at once; Telegram switches to it with the next update.
        let token = key
            .decrypt(&row.token_enc)
            .map_err(|e| DomainError::internal_from("stored bot token", e))?;
        let client = self.core.client(&token);
        if role == BotRole::CouponBot {
            self.run_coupon_bot(&row, &token, key).await?;
        }
        let row = self.register_webhook(&client, row, key).await?;
        Connection::from_row(&row)
    }

    /// "Send a test message" from the page: to `chat_id`, else the role's VIP channel.
    pub async fn send_test<T: AsRef<str> + ?Sized>(
        &self,
        tenant_id: &T,
        role: BotRole,
        chat_id: Option<i64>,
    ) -> DomainResult<i64> {
        let tenant_id = tenant_id.as_ref();
        let creds = self.resolver.credentials(tenant_id, role).await?;
        let target = chat_id.or(creds.vip_channel_id).ok_or_else(|| {
            DomainError::invalid_field("chatId", "give the chat id to send the test message to")
        })?;
        let text = format!("✅ PromoStack test message from the {}", role.label());
        match creds
            .client
            .send_message(target, &text, &SendOptions::default())
            .await
        {
            Ok(message) => Ok(message.message_id),
            Err(e) if e.rejects_token() => {
                self.resolver.token_rejected(tenant_id, role).await?;
                Err(self.resolver.rejected_error(role))
            }
            Err(e @ (TelegramError::Blocked { .. } | TelegramError::BadRequest { .. })) => {
                Err(DomainError::invalid_field("chatId", e.to_string()))
            }
            Err(e) => Err(telegram_down(&e)),
        }
    }
}

pub(super) fn key_of(key: &OnceLock<EncryptionKey>) -> DomainResult<&EncryptionKey> {
    key.get()
        .ok_or_else(|| DomainError::unavailable("database", "starting up; try again shortly"))
}

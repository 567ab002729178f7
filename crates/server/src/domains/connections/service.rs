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
use crate::config::Secret;
use crate::db::new_id;
use crate::domains::error::{DomainError, DomainResult};
use crate::integrations::telegram::types::{ChatMember, ChatRef};
use crate::integrations::telegram::{Limits, RetryPolicy, SendOptions, TelegramError};
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

/// How the service reaches Telegram.
#[derive(Clone)]
pub struct TelegramAccess {
    pub http: reqwest::Client,
    pub api_url: String,
    pub limits: Limits,
    pub retry: RetryPolicy,
    /// `PUBLIC_URL`: webhooks are registered at `{public_url}/api/telegram-webhook/{id}`.
    pub public_url: Option<String>,
}

/// The updates each role's webhook asks Telegram for.
pub fn allowed_updates(role: BotRole) -> &'static [&'static str] {
    match role {
        BotRole::CouponBot => &[
            "message",
            "channel_post",
            "callback_query",
            "my_chat_member",
        ],
        BotRole::SignalBot => &[
            "message",
            "callback_query",
            "my_chat_member",
            "chat_member",
            "chat_join_request",
        ],
    }
}

/// What the webhook of a connection's bot made of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookOutcome {
    UnknownBot,
    BadSecret,
    Handled,
}

#[derive(Clone)]
pub struct ConnectionService {
    core: Arc<ResolverCore>,
    resolver: BotCredentialResolver,
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
    pub fn new(db: crate::db::Db, clock: Clock, telegram: TelegramAccess) -> Self {
        let core = Arc::new(ResolverCore::new(db, clock, telegram));
        Self {
            resolver: BotCredentialResolver::new(core.clone()),
            core,
        }
    }

    /// Bootstrap hands over the encryption key (derived from the secret at start).
    pub fn set_key(&self, key: EncryptionKey) {
        let _ = self.core.key.set(key);
    }

    pub fn resolver(&self) -> &BotCredentialResolver {
        &self.resolver
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
        let tenant_id = tenant_id.as_ref();
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
        let secret_enc = match &existing {
            Some(row) => row.webhook_secret_enc.clone(),
            None => key.encrypt(&generate_secret()),
        };
        let [vip, free] = channels;
        let row = ConnectionRow {
            id: existing.as_ref().map_or_else(new_id, |r| r.id.clone()),
            tenant_id: tenant_id.to_owned(),
            role: role.as_str().to_owned(),
            bot_user_id: me.id,
            bot_username: me.username.clone(),
            token_enc: key.encrypt(&token),
            token_fingerprint: crate::integrations::telegram::fingerprint(&token),
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
        tracing::info!(
            tenant_id,
            role = role.as_str(),
            bot_id = me.id,
            "connection saved"
        );
        let row = self.register_webhook(&client, row, &key).await?;
        Connection::from_row(&row)
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
        let role = BotRole::parse(&row.role).unwrap_or(BotRole::CouponBot);
        let url = format!(
            "{}/api/telegram-webhook/{}",
            base.trim_end_matches('/'),
            row.id
        );
        let secret = key
            .decrypt(&row.webhook_secret_enc)
            .map_err(|e| DomainError::internal_from("stored webhook secret", e))?;
        if let Err(e) = client
            .set_webhook(&url, &secret, allowed_updates(role))
            .await
        {
            let reason = format!("the webhook could not be registered: {e}");
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
        let secret = self
            .key()?
            .decrypt(&row.webhook_secret_enc)
            .map_err(|e| DomainError::internal_from("stored webhook secret", e))?;
        if !presented.is_some_and(|p| bool::from(p.ct_eq(secret.as_bytes()))) {
            return Ok(WebhookOutcome::BadSecret);
        }
        let Ok(update) =
            serde_json::from_slice::<crate::integrations::telegram::types::Update>(body)
        else {
            return Ok(WebhookOutcome::Handled);
        };
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
        let removed = repo::delete(&self.core.db, tenant_id, role.as_str()).await?;
        self.resolver.invalidate(tenant_id, role);
        if removed == 0 {
            return Err(DomainError::NotFound("connection"));
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

pub(super) fn secret(token: &str) -> Secret {
    Secret::new(token)
}

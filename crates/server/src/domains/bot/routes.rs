//! Telegram's webhook (durable receipt, then 200) and the bot's status for the dashboard.
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method};
use axum::routing::{get, post};
use serde::Serialize;

use super::service::Receipt;
use crate::auth::Role;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::{Access, ApiJson, RequestCtx, Route};
use crate::integrations::telegram::{DEFAULT_BOT_ID, WebhookAuthError};
use crate::state::AppState;

use crate::integrations::telegram::{WEBHOOK_BODY_LIMIT, WEBHOOK_SECRET_HEADER as SECRET_HEADER};

pub fn routes() -> Vec<Route> {
    vec![
        Route::new(
            Method::POST,
            "/api/telegram-webhook",
            Access::Public,
            post(webhook_default),
        )
        .with_db()
        .with_body_limit(WEBHOOK_BODY_LIMIT),
        Route::new(
            Method::POST,
            "/api/telegram-webhook/{bot_id}",
            Access::Public,
            post(webhook_bot),
        )
        .with_db()
        .with_body_limit(WEBHOOK_BODY_LIMIT),
        Route::new(
            Method::GET,
            "/api/bot/status",
            Access::Tenant(Role::Member),
            get(status),
        ),
    ]
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct WebhookAck {
    ok: bool,
    /// Set when this update_id was already received (a redelivery); it is not processed again.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    duplicate: bool,
}

/// Updates of the bot configured by `TELEGRAM_BOT_TOKEN`.
#[utoipa::path(post, path = "/api/telegram-webhook", tag = "bot",
    params(("X-Telegram-Bot-Api-Secret-Token" = String, Header, description = "the bot's webhook secret")),
    responses((status = 200, body = WebhookAck, description = "stored (or a duplicate)"),
        (status = 400, body = ErrorBody, description = "not JSON, or no update_id"),
        (status = 401, body = ErrorBody, description = "missing or wrong secret token"),
        (status = 404, body = ErrorBody, description = "no such bot configured")))]
pub async fn webhook_default(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<ApiJson<WebhookAck>> {
    receive(&state, DEFAULT_BOT_ID, &headers, &body).await
}

/// Updates of one bot by id (tenants' own bots).
#[utoipa::path(post, path = "/api/telegram-webhook/{bot_id}", tag = "bot",
    params(("bot_id" = String, Path), ("X-Telegram-Bot-Api-Secret-Token" = String, Header, description = "the bot's webhook secret")),
    responses((status = 200, body = WebhookAck), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn webhook_bot(
    State(state): State<AppState>,
    Path(bot_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<ApiJson<WebhookAck>> {
    receive(&state, &bot_id, &headers, &body).await
}

async fn receive(
    state: &AppState,
    bot_id: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> ApiResult<ApiJson<WebhookAck>> {
    let presented = headers.get(SECRET_HEADER).map(|v| v.as_bytes());
    if presented.is_none() {
        // Telegram always sends the secret we registered: without one it is not Telegram.
        metrics::counter!("telegram_updates_rejected_total", "reason" => "bad_secret").increment(1);
        return Err(ApiError::Unauthorized("webhook_secret_invalid"));
    }
    let bot = match state.telegram.verify_webhook(bot_id, presented).await? {
        Ok(bot) => bot,
        Err(WebhookAuthError::UnknownBot) => {
            // Not a registry bot: perhaps a workspace connection's (domains/connections).
            use crate::domains::connections::service::WebhookOutcome;
            match state
                .connections
                .receive_update(bot_id, presented, body)
                .await?
            {
                WebhookOutcome::Handled => {
                    return Ok(ApiJson(WebhookAck {
                        ok: true,
                        duplicate: false,
                    }));
                }
                WebhookOutcome::BadSecret => {
                    metrics::counter!("telegram_updates_rejected_total", "reason" => "bad_secret")
                        .increment(1);
                    return Err(ApiError::Unauthorized("webhook_secret_invalid"));
                }
                WebhookOutcome::SignalBotCommand(message) => {
                    state.forex.operator_command(&message).await?;
                    return Ok(ApiJson(WebhookAck {
                        ok: true,
                        duplicate: false,
                    }));
                }
                WebhookOutcome::UnknownBot => {}
            }
            metrics::counter!("telegram_updates_rejected_total", "reason" => "unknown_bot")
                .increment(1);
            tracing::warn!(bot_id = %bot_id.chars().take(64).collect::<String>(), "webhook for an unknown bot");
            return Err(ApiError::NotFound("bot"));
        }
        Err(WebhookAuthError::BadSecret) => {
            metrics::counter!("telegram_updates_rejected_total", "reason" => "bad_secret")
                .increment(1);
            tracing::warn!(bot_id, "webhook with a missing or wrong secret token");
            return Err(ApiError::Unauthorized("webhook_secret_invalid"));
        }
    };
    // Stored (committed) and handed to processing before the 200.
    let receipt = state.bot.receive(&bot, body).await?;
    if let Err(err) = state.telegram.touch_last_update(&bot.id).await {
        tracing::debug!(error = %err, "cannot note the last update time");
    }
    Ok(ApiJson(match receipt {
        Receipt::Stored { .. } => WebhookAck {
            ok: true,
            duplicate: false,
        },
        Receipt::Duplicate { .. } => WebhookAck {
            ok: true,
            duplicate: true,
        },
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BotStatusView {
    /// A bot is configured for this workspace.
    configured: bool,
    /// `webhook` or `polling`, as the leader set it up (null before the first setup).
    mode: Option<String>,
    /// The bot's @username from getMe.
    username: Option<String>,
    webhook_url: Option<String>,
    setup_error: Option<String>,
    /// When the last update arrived (unix ms).
    last_update_at: Option<i64>,
    pending_updates: i64,
    processed_updates: i64,
    failed_updates: i64,
    /// The mode this server is configured for.
    configured_mode: &'static str,
}

/// The workspace's bot: configured or not, how it receives updates, its username, the last
/// update. Never a token or secret.
#[utoipa::path(get, path = "/api/bot/status", tag = "bot", responses((status = 200, body = BotStatusView)))]
pub async fn status(
    State(state): State<AppState>,
    ctx: RequestCtx,
) -> ApiResult<ApiJson<BotStatusView>> {
    let bots = state.telegram.status_for_tenant(&ctx.tenant_id).await?;
    let configured_mode = match state.ctx.config.integrations.telegram_mode {
        Some(crate::config::TelegramMode::Polling) => "polling",
        _ => "webhook",
    };
    let Some(bot) = bots.into_iter().next() else {
        return Ok(ApiJson(BotStatusView {
            configured: false,
            mode: None,
            username: None,
            webhook_url: None,
            setup_error: None,
            last_update_at: None,
            pending_updates: 0,
            processed_updates: 0,
            failed_updates: 0,
            configured_mode,
        }));
    };
    let counts = state.bot.update_counts(&bot.id).await?;
    Ok(ApiJson(BotStatusView {
        configured: true,
        pending_updates: counts.pending,
        processed_updates: counts.done,
        failed_updates: counts.failed,
        mode: bot.mode,
        username: bot.username,
        webhook_url: bot.webhook_url,
        setup_error: bot.setup_error,
        last_update_at: bot.last_update_at,
        configured_mode,
    }))
}

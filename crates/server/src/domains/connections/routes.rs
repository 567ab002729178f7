//! `/api/connections…`: list, connect (with the live checks), disconnect, rotate the webhook
//! secret, send a test message. Tokens go in, never out.
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::routing::{delete, get, post, put};
use serde::{Deserialize, Serialize};

use super::service::{BotRole, Connection, SaveBot, WebhookOutcome};
use super::user_account::UserAccountStatus;
use crate::auth::Role;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::{Access, ApiJson, RequestCtx, Route};
use crate::state::AppState;

pub fn routes() -> Vec<Route> {
    use Access::Tenant as T;
    vec![
        Route::new(Method::GET, "/api/connections", T(Role::Member), get(list)),
        Route::new(
            Method::PUT,
            "/api/connections/{role}",
            T(Role::Admin),
            put(save),
        ),
        Route::new(
            Method::DELETE,
            "/api/connections/{role}",
            T(Role::Admin),
            delete(disconnect),
        ),
        Route::new(
            Method::POST,
            "/api/connections/{role}/rotate-secret",
            T(Role::Admin),
            post(rotate_secret),
        ),
        Route::new(
            Method::POST,
            "/api/connections/{role}/test",
            T(Role::Admin),
            post(send_test),
        ),
        Route::new(
            Method::GET,
            "/api/connections/user-account",
            T(Role::Member),
            get(user_account),
        ),
        Route::new(
            Method::POST,
            "/api/connections/user-account/code",
            T(Role::Admin),
            post(user_account_code),
        ),
        Route::new(
            Method::POST,
            "/api/connections/user-account/sign-in",
            T(Role::Admin),
            post(user_account_sign_in),
        ),
        Route::new(
            Method::POST,
            "/api/connections/user-account/password",
            T(Role::Admin),
            post(user_account_password),
        ),
        Route::new(
            Method::POST,
            "/api/connections/user-account/test",
            T(Role::Admin),
            post(user_account_test),
        ),
        Route::new(
            Method::DELETE,
            "/api/connections/user-account",
            T(Role::Admin),
            delete(user_account_sign_out),
        ),
        Route::new(
            Method::POST,
            "/api/forex-telegram-webhook",
            Access::Public,
            post(forex_webhook),
        )
        .with_db()
        .with_body_limit(crate::integrations::telegram::WEBHOOK_BODY_LIMIT),
    ]
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ForexWebhookAck {
    ok: bool,
}

/// The original system's webhook path, kept for the default workspace's Signal Bot (a webhook
/// set there before the move keeps working). Same secret check as
/// `/api/telegram-webhook/{id}`, where the leader registers every bot.
#[utoipa::path(post, path = "/api/forex-telegram-webhook", tag = "connections",
    params(("X-Telegram-Bot-Api-Secret-Token" = String, Header, description = "the Signal Bot's webhook secret")),
    responses((status = 200, body = ForexWebhookAck),
        (status = 401, body = ErrorBody, description = "missing or wrong secret token"),
        (status = 404, body = ErrorBody, description = "the default workspace has no Signal Bot")))]
pub async fn forex_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<ApiJson<ForexWebhookAck>> {
    let presented = headers
        .get(crate::integrations::telegram::WEBHOOK_SECRET_HEADER)
        .map(|v| v.as_bytes());
    if presented.is_none() {
        return Err(ApiError::Unauthorized("webhook_secret_invalid"));
    }
    let Some(tenant) = state.tenants.default_tenant().await? else {
        return Err(ApiError::NotFound("bot"));
    };
    match state
        .connections
        .receive_update_of_role(&tenant.id, BotRole::SignalBot, presented, &body)
        .await?
    {
        WebhookOutcome::Handled => Ok(ApiJson(ForexWebhookAck { ok: true })),
        WebhookOutcome::SignalBotCommand(message) => {
            state.forex.operator_command(&message).await?;
            Ok(ApiJson(ForexWebhookAck { ok: true }))
        }
        WebhookOutcome::BadSecret => {
            metrics::counter!("telegram_updates_rejected_total", "reason" => "bad_secret")
                .increment(1);
            Err(ApiError::Unauthorized("webhook_secret_invalid"))
        }
        WebhookOutcome::UnknownBot => Err(ApiError::NotFound("bot")),
    }
}

fn role_of(path: &str) -> ApiResult<BotRole> {
    BotRole::from_path(path).ok_or(ApiError::NotFound("connection role"))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ConnectionList {
    connections: Vec<Connection>,
    /// Connections this workspace gets from the environment (default workspace only): while
    /// the variable is set it wins over edits from the page.
    environment: Vec<EnvSeed>,
}

/// A connection seeded from environment variables.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EnvSeed {
    role: BotRole,
    /// The variables that are set, e.g. `FOREX_BOT_TOKEN`, `FOREX_CHANNEL_ID`.
    variables: Vec<&'static str>,
}

/// What the environment seeds into the default workspace: `TELEGRAM_BOT_TOKEN` the Coupon Bot,
/// `FOREX_*` the Signal Bot.
async fn environment(state: &AppState, ctx: &RequestCtx) -> ApiResult<Vec<EnvSeed>> {
    let i = &state.ctx.config.integrations;
    if i.forex_bot_token.is_none() && i.telegram_bot_token.is_none() {
        return Ok(Vec::new());
    }
    let is_default = state
        .tenants
        .default_tenant()
        .await?
        .is_some_and(|t| t.id == ctx.tenant_id);
    if !is_default {
        return Ok(Vec::new());
    }
    let mut seeds = Vec::new();
    if i.telegram_bot_token.is_some() {
        seeds.push(EnvSeed {
            role: BotRole::CouponBot,
            variables: vec!["TELEGRAM_BOT_TOKEN"],
        });
    }
    if i.forex_bot_token.is_some() {
        let mut variables = vec!["FOREX_BOT_TOKEN"];
        if i.forex_channel_id.is_some() {
            variables.push("FOREX_CHANNEL_ID");
        }
        if i.forex_free_channel_id.is_some() {
            variables.push("FOREX_FREE_CHANNEL_ID");
        }
        seeds.push(EnvSeed {
            role: BotRole::SignalBot,
            variables,
        });
    }
    Ok(seeds)
}

/// The workspace's connections (no tokens, no secrets).
#[utoipa::path(get, path = "/api/connections", tag = "connections", responses((status = 200, body = ConnectionList)))]
pub async fn list(
    State(state): State<AppState>,
    ctx: RequestCtx,
) -> ApiResult<ApiJson<ConnectionList>> {
    Ok(ApiJson(ConnectionList {
        connections: state.connections.list(&ctx.tenant_id).await?,
        environment: environment(&state, &ctx).await?,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SaveConnection {
    /// The bot token from @BotFather; omit to keep the stored one.
    token: Option<String>,
    /// Signal Bot: the VIP channel (numeric id or @username).
    vip_channel: Option<String>,
    /// Signal Bot: the FREE channel.
    free_channel: Option<String>,
}

/// Connect or update a bot (`coupon-bot`, `signal-bot`) after checking it live with Telegram.
#[utoipa::path(put, path = "/api/connections/{role}", tag = "connections", request_body = SaveConnection,
    params(("role" = String, Path, description = "coupon-bot | signal-bot")),
    responses((status = 200, body = Connection), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn save(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(role): Path<String>,
    ApiJson(body): ApiJson<SaveConnection>,
) -> ApiResult<ApiJson<Connection>> {
    let role = role_of(&role)?;
    let input = SaveBot {
        token: body.token,
        vip_channel: body.vip_channel,
        free_channel: body.free_channel,
    };
    Ok(ApiJson(
        state.connections.save(&ctx.tenant_id, role, input).await?,
    ))
}

/// Disconnect a bot (its token and secret are deleted).
#[utoipa::path(delete, path = "/api/connections/{role}", tag = "connections",
    params(("role" = String, Path, description = "coupon-bot | signal-bot")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn disconnect(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(role): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .connections
        .disconnect(&ctx.tenant_id, role_of(&role)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Generate a new webhook secret for the bot.
#[utoipa::path(post, path = "/api/connections/{role}/rotate-secret", tag = "connections",
    params(("role" = String, Path, description = "coupon-bot | signal-bot")),
    responses((status = 200, body = Connection), (status = 404, body = ErrorBody)))]
pub async fn rotate_secret(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(role): Path<String>,
) -> ApiResult<ApiJson<Connection>> {
    Ok(ApiJson(
        state
            .connections
            .rotate_secret(&ctx.tenant_id, role_of(&role)?)
            .await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TestMessage {
    /// Where to send it; the VIP channel when omitted.
    #[serde(default, deserialize_with = "crate::serde_int::option_i64")]
    chat_id: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TestSent {
    message_id: i64,
}

/// Send a test message through the bot (the resolver's client).
#[utoipa::path(post, path = "/api/connections/{role}/test", tag = "connections", request_body = TestMessage,
    params(("role" = String, Path, description = "coupon-bot | signal-bot")),
    responses((status = 200, body = TestSent), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn send_test(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(role): Path<String>,
    ApiJson(body): ApiJson<TestMessage>,
) -> ApiResult<ApiJson<TestSent>> {
    let message_id = state
        .connections
        .send_test(ctx.tenant_id.as_ref(), role_of(&role)?, body.chat_id)
        .await?;
    Ok(ApiJson(TestSent { message_id }))
}

/// The workspace's Telegram user account: signed in or not, the login step, send health.
#[utoipa::path(get, path = "/api/connections/user-account", tag = "connections",
    responses((status = 200, body = UserAccountStatus)))]
pub async fn user_account(
    State(state): State<AppState>,
    ctx: RequestCtx,
) -> ApiResult<ApiJson<UserAccountStatus>> {
    Ok(ApiJson(
        state
            .connections
            .user_accounts()
            .status(ctx.tenant_id.as_ref())
            .await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginPhone {
    /// The account's phone number in international format, e.g. `+447700900123`.
    phone: String,
}

/// Login step 1: Telegram sends a code to the account.
#[utoipa::path(post, path = "/api/connections/user-account/code", tag = "connections", request_body = LoginPhone,
    responses((status = 200, body = UserAccountStatus), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn user_account_code(
    State(state): State<AppState>,
    ctx: RequestCtx,
    ApiJson(body): ApiJson<LoginPhone>,
) -> ApiResult<ApiJson<UserAccountStatus>> {
    Ok(ApiJson(
        state
            .connections
            .user_accounts()
            .send_code(ctx.tenant_id.as_ref(), &body.phone)
            .await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginCode {
    /// The code Telegram sent.
    code: String,
}

/// Login step 2: the code. Signed in, or `login.step = "password"` for two-step verification.
#[utoipa::path(post, path = "/api/connections/user-account/sign-in", tag = "connections", request_body = LoginCode,
    responses((status = 200, body = UserAccountStatus), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn user_account_sign_in(
    State(state): State<AppState>,
    ctx: RequestCtx,
    ApiJson(body): ApiJson<LoginCode>,
) -> ApiResult<ApiJson<UserAccountStatus>> {
    Ok(ApiJson(
        state
            .connections
            .user_accounts()
            .sign_in(ctx.tenant_id.as_ref(), &body.code)
            .await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginPassword {
    /// The account's two-step verification password.
    password: String,
}

/// Login step 3 (two-step verification only): the password.
#[utoipa::path(post, path = "/api/connections/user-account/password", tag = "connections", request_body = LoginPassword,
    responses((status = 200, body = UserAccountStatus), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn user_account_password(
    State(state): State<AppState>,
    ctx: RequestCtx,
    ApiJson(body): ApiJson<LoginPassword>,
) -> ApiResult<ApiJson<UserAccountStatus>> {
    Ok(ApiJson(
        state
            .connections
            .user_accounts()
            .check_password(ctx.tenant_id.as_ref(), &body.password)
            .await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserTestMessage {
    /// A Telegram `@username` to send the test message to.
    to: String,
}

/// Send a test message from the user account.
#[utoipa::path(post, path = "/api/connections/user-account/test", tag = "connections", request_body = UserTestMessage,
    responses((status = 200, body = TestSent), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn user_account_test(
    State(state): State<AppState>,
    ctx: RequestCtx,
    ApiJson(body): ApiJson<UserTestMessage>,
) -> ApiResult<ApiJson<TestSent>> {
    let message_id = state
        .connections
        .user_accounts()
        .send_test(ctx.tenant_id.as_ref(), &body.to)
        .await?;
    Ok(ApiJson(TestSent { message_id }))
}

/// Sign the user account out (its session is deleted), or cancel a login in progress.
#[utoipa::path(delete, path = "/api/connections/user-account", tag = "connections",
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn user_account_sign_out(
    State(state): State<AppState>,
    ctx: RequestCtx,
) -> ApiResult<StatusCode> {
    state
        .connections
        .user_accounts()
        .sign_out(ctx.tenant_id.as_ref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

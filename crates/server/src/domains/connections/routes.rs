//! `/api/connections…`: list, connect (with the live checks), disconnect, rotate the webhook
//! secret, send a test message. Tokens go in, never out.
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::routing::{delete, get, post, put};
use serde::{Deserialize, Serialize};

use super::service::{BotRole, Connection, SaveBot};
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
    ]
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

/// What the environment seeds into the default workspace (today: the Signal Bot).
async fn environment(state: &AppState, ctx: &RequestCtx) -> ApiResult<Vec<EnvSeed>> {
    let i = &state.ctx.config.integrations;
    if i.forex_bot_token.is_none() {
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
    let mut variables = vec!["FOREX_BOT_TOKEN"];
    if i.forex_channel_id.is_some() {
        variables.push("FOREX_CHANNEL_ID");
    }
    if i.forex_free_channel_id.is_some() {
        variables.push("FOREX_FREE_CHANNEL_ID");
    }
    Ok(vec![EnvSeed {
        role: BotRole::SignalBot,
        variables,
    }])
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
        .send_test(&ctx.tenant_id, role_of(&role)?, body.chat_id)
        .await?;
    Ok(ApiJson(TestSent { message_id }))
}

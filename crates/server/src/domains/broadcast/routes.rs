//! Broadcast endpoints: the original's paths (`/api/broadcast`, `/api/broadcast-status/{id}`,
//! `/api/broadcast-jobs`) plus controls, the audience count and the delivery report.
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Serialize;

use super::service::{BroadcastStatus, Created, NewBroadcast};
use crate::auth::Role;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::{Access, ApiJson, RequestCtx, Route};
use crate::state::AppState;

pub fn routes() -> Vec<Route> {
    let admin = Access::Tenant(Role::Admin);
    vec![
        Route::new(Method::POST, "/api/broadcast", admin, post(create)),
        Route::new(Method::GET, "/api/broadcast-audience", admin, get(audience)),
        Route::new(
            Method::GET,
            "/api/broadcast-status/{id}",
            admin,
            get(status),
        ),
        Route::new(Method::GET, "/api/broadcast-jobs", admin, get(history)),
        Route::new(
            Method::POST,
            "/api/broadcast/{id}/pause",
            admin,
            post(pause),
        ),
        Route::new(
            Method::POST,
            "/api/broadcast/{id}/resume",
            admin,
            post(resume),
        ),
        Route::new(
            Method::POST,
            "/api/broadcast/{id}/cancel",
            admin,
            post(cancel),
        ),
        Route::new(
            Method::GET,
            "/api/broadcast-report/{id}",
            admin,
            get(report),
        ),
    ]
}

/// Queue a broadcast to every bot user who has not blocked the bot (or, with `dry_run`,
/// validate it and count them). An `Idempotency-Key` header makes retries safe.
#[utoipa::path(post, path = "/api/broadcast", tag = "broadcasts", request_body = NewBroadcast,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Created), (status = 200, body = Created, description = "dry run, or a repeated idempotency key"),
        (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ctx: RequestCtx,
    headers: HeaderMap,
    ApiJson(body): ApiJson<NewBroadcast>,
) -> ApiResult<(StatusCode, ApiJson<Created>)> {
    let key = match headers.get("idempotency-key") {
        Some(value) => Some(
            value
                .to_str()
                .map_err(|_| ApiError::BadRequest("Idempotency-Key must be ASCII".into()))?
                .trim()
                .to_owned(),
        ),
        None => None,
    };
    let created_by = ctx.principal.email().map(str::to_owned);
    let created = state
        .broadcasts
        .create(&ctx.tenant_id, created_by.as_deref(), &body, key.as_deref())
        .await?;
    let status = if created.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, ApiJson(created)))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Audience {
    /// Bot users who have not blocked the bot.
    recipients: i64,
}

/// How many bot users a broadcast would reach now.
#[utoipa::path(get, path = "/api/broadcast-audience", tag = "broadcasts", responses((status = 200, body = Audience)))]
pub async fn audience(
    State(state): State<AppState>,
    ctx: RequestCtx,
) -> ApiResult<ApiJson<Audience>> {
    Ok(ApiJson(Audience {
        recipients: state.broadcasts.audience(&ctx.tenant_id).await?,
    }))
}

/// Progress of one broadcast: totals per outcome, rate, ETA.
#[utoipa::path(get, path = "/api/broadcast-status/{id}", tag = "broadcasts", params(("id" = String, Path)),
    responses((status = 200, body = BroadcastStatus), (status = 404, body = ErrorBody)))]
pub async fn status(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<String>,
) -> ApiResult<ApiJson<BroadcastStatus>> {
    Ok(ApiJson(state.broadcasts.status(&ctx.tenant_id, &id).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct History {
    jobs: Vec<BroadcastStatus>,
}

/// The latest 50 broadcasts, newest first.
#[utoipa::path(get, path = "/api/broadcast-jobs", tag = "broadcasts", responses((status = 200, body = History)))]
pub async fn history(
    State(state): State<AppState>,
    ctx: RequestCtx,
) -> ApiResult<ApiJson<History>> {
    Ok(ApiJson(History {
        jobs: state.broadcasts.history(&ctx.tenant_id).await?,
    }))
}

/// Pause a queued or running broadcast (messages in flight still finish).
#[utoipa::path(post, path = "/api/broadcast/{id}/pause", tag = "broadcasts", params(("id" = String, Path)),
    responses((status = 200, body = BroadcastStatus), (status = 409, body = ErrorBody)))]
pub async fn pause(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<String>,
) -> ApiResult<ApiJson<BroadcastStatus>> {
    Ok(ApiJson(state.broadcasts.pause(&ctx.tenant_id, &id).await?))
}

/// Resume a paused broadcast where it stopped.
#[utoipa::path(post, path = "/api/broadcast/{id}/resume", tag = "broadcasts", params(("id" = String, Path)),
    responses((status = 200, body = BroadcastStatus), (status = 409, body = ErrorBody)))]
pub async fn resume(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<String>,
) -> ApiResult<ApiJson<BroadcastStatus>> {
    Ok(ApiJson(state.broadcasts.resume(&ctx.tenant_id, &id).await?))
}

/// Cancel a broadcast; recipients not yet sent to are marked cancelled.
#[utoipa::path(post, path = "/api/broadcast/{id}/cancel", tag = "broadcasts", params(("id" = String, Path)),
    responses((status = 200, body = BroadcastStatus), (status = 409, body = ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<String>,
) -> ApiResult<ApiJson<BroadcastStatus>> {
    Ok(ApiJson(state.broadcasts.cancel(&ctx.tenant_id, &id).await?))
}

/// The delivery report as CSV: user id, username, status, error, time.
#[utoipa::path(get, path = "/api/broadcast-report/{id}", tag = "broadcasts", params(("id" = String, Path)),
    responses((status = 200, content_type = "text/csv"), (status = 404, body = ErrorBody)))]
pub async fn report(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    state.broadcasts.exists(&ctx.tenant_id, &id).await?;
    let (tx, response) = crate::csv::streamed(&format!("broadcast-{id}.csv"));
    let broadcasts = state.broadcasts.clone();
    let tenant_id = ctx.tenant_id.clone();
    tokio::spawn(async move {
        if let Err(err) = broadcasts.report_csv(&tenant_id, &id, tx).await {
            tracing::warn!(error = %err, "broadcast report stopped early");
        }
    });
    Ok(response)
}

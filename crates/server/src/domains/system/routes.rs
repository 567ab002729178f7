use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;

use crate::auth::Role;
use crate::context::FeatureStatus;
use crate::http::error::ApiResult;
use crate::http::{Access, ApiJson, RequestCtx, Route};
use crate::state::AppState;
use crate::state::DbState;

pub fn routes() -> Vec<Route> {
    vec![
        Route::new(Method::GET, "/healthz", Access::Public, get(healthz)),
        Route::new(Method::GET, "/readyz", Access::Public, get(readyz)),
        Route::new(Method::GET, "/metrics", Access::Public, get(metrics_text)),
        Route::new(
            Method::GET,
            "/api/openapi.json",
            Access::Public,
            get(openapi),
        ),
        Route::new(
            Method::GET,
            "/api/system/status",
            Access::Tenant(Role::Member),
            get(status),
        ),
    ]
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "system", responses((status = 200, description = "alive")))]
pub async fn healthz() -> ApiJson<serde_json::Value> {
    ApiJson(serde_json::json!({"status": "ok"}))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Readiness {
    ready: bool,
    database: &'static str,
    storage: String,
}

/// Readiness: the database and object storage both answer.
#[utoipa::path(get, path = "/readyz", tag = "system", responses((status = 200, body = Readiness), (status = 503, body = Readiness)))]
pub async fn readyz(State(state): State<AppState>) -> Response {
    // Reachable is not enough: an empty database (schema gone) fails every route.
    let database = match (state.readiness.get(), state.db.schema_is_current().await) {
        (DbState::Starting, _) => "starting",
        (_, Ok(true)) => "ok",
        (_, Ok(false)) => "schema_missing",
        (_, Err(_)) => "unavailable",
    };
    let storage = match state.storage.check().await {
        Ok(()) => "ok".to_owned(),
        Err(err) => {
            tracing::warn!(error = %err, "storage readiness check failed");
            "unavailable".to_owned()
        }
    };
    let ready = database == "ok" && storage == "ok";
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        ApiJson(Readiness {
            ready,
            database,
            storage,
        }),
    )
        .into_response()
}

/// Prometheus text exposition. On the public port only with `Authorization: Bearer
/// METRICS_TOKEN` (404 when no token is configured: serve it on `METRICS_ADDR` instead).
#[utoipa::path(get, path = "/metrics", tag = "system",
    params(("Authorization" = Option<String>, Header, description = "Bearer METRICS_TOKEN (required when METRICS_TOKEN is set; without it /metrics is not on this port)")),
    responses((status = 200, content_type = "text/plain"), (status = 401, body = crate::http::error::ErrorBody),
        (status = 404, body = crate::http::error::ErrorBody, description = "no METRICS_TOKEN: /metrics is not on this port")))]
pub async fn metrics_text(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> ApiResult<Response> {
    use subtle::ConstantTimeEq;
    let Some(token) = &state.ctx.config.metrics_token else {
        return Err(crate::http::error::ApiError::NotFound("route"));
    };
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    if !presented.is_some_and(|p| bool::from(p.as_bytes().ct_eq(token.expose().as_bytes()))) {
        return Err(crate::http::error::ApiError::Unauthorized(
            "metrics_token_invalid",
        ));
    }
    Ok(metrics_response(&state))
}

/// The exposition itself, for the public route and the `METRICS_ADDR` listener.
pub fn metrics_response(state: &AppState) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

/// This OpenAPI document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "system", responses((status = 200, content_type = "application/json")))]
pub async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        crate::api::openapi::document_json(),
    )
        .into_response()
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SystemStatus {
    version: &'static str,
    database: &'static str,
    storage: &'static str,
    instance_id: String,
    leader: bool,
    leader_epoch: i64,
    workers: Vec<&'static str>,
    features: BTreeMap<&'static str, FeatureStatus>,
    /// The workspace's connections (Settings → Connections reads the same rows).
    connections: Vec<crate::domains::connections::Connection>,
    /// The workspace's Telegram user account (the same answer as Settings → Connections).
    user_account: crate::domains::connections::user_account::UserAccountStatus,
}

/// What this deployment runs on and which features are configured.
#[utoipa::path(get, path = "/api/system/status", tag = "system", responses((status = 200, body = SystemStatus)))]
pub async fn status(
    State(state): State<AppState>,
    ctx: RequestCtx,
) -> ApiResult<ApiJson<SystemStatus>> {
    let connections = state.connections.list(&ctx.tenant_id).await?;
    let user_account = state
        .connections
        .user_accounts()
        .status(ctx.tenant_id.as_ref())
        .await?;
    Ok(ApiJson(SystemStatus {
        connections,
        user_account,
        version: env!("CARGO_PKG_VERSION"),
        database: state.db.backend(),
        storage: state.storage.kind(),
        instance_id: state.instance_id.clone(),
        leader: state.leadership.is_leader(),
        leader_epoch: state.leadership.epoch(),
        workers: state.leadership.running(),
        features: state.ctx.features.clone(),
    }))
}

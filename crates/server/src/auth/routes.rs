//! `POST /api/login` and `POST /api/logout`.
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::{Deserialize, Serialize};

use super::password;
use super::session::{COOKIE_NAME, SESSION_TTL_MS};
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::{Access, ApiJson, Route};
use crate::state::AppState;

pub fn routes() -> Vec<Route> {
    vec![
        Route::new(Method::POST, "/api/login", Access::Public, post(login)).with_db(),
        Route::new(Method::POST, "/api/logout", Access::Public, post(logout)).with_db(),
        Route::new(
            Method::POST,
            "/api/logout/everywhere",
            Access::Public,
            post(logout_everywhere),
        )
        .with_db(),
    ]
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    password: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LoginResponse {
    ok: bool,
    #[serde(rename = "expiresAt")]
    expires_at: i64,
}

/// Log in with the admin password; sets the `admin_session` cookie for 24 hours.
#[utoipa::path(post, path = "/api/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    let client = client_ip(&state, &headers, peer);
    let now = state.clock.now();
    if body.password.len() > 1024 {
        return Err(ApiError::Validation("password is too long".into()));
    }
    let hash = state
        .admin_password_hash
        .get()
        .ok_or_else(|| ApiError::Unavailable("starting up".into()))?
        .clone();
    // Counted before the check (atomically), so a burst cannot outrun the limit.
    state
        .login_limiter
        .reserve(client, now)
        .map_err(|retry_after_secs| ApiError::TooManyRequests { retry_after_secs })?;
    let candidate = body.password;
    // argon2 is deliberately slow: keep it off the async workers.
    let valid = tokio::task::spawn_blocking(move || password::verify(&candidate, &hash))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    if !valid {
        metrics::counter!("login_failures_total").increment(1);
        return Err(ApiError::Unauthorized("wrong_password"));
    }
    state.login_limiter.record_success(client);
    let keys = state
        .keys
        .get()
        .ok_or_else(|| ApiError::Unavailable("starting up".into()))?;
    let expires_at = now + SESSION_TTL_MS;
    let session_id = state.login_sessions.start("admin", expires_at).await?;
    let value = keys.session.sign("admin", &session_id, expires_at);
    let cookie = session_cookie(&value, SESSION_TTL_MS / 1000, is_https(&headers));
    let mut response = (
        StatusCode::OK,
        ApiJson(LoginResponse {
            ok: true,
            expires_at,
        }),
    )
        .into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

/// End this session: the cookie is revoked on the server (refused from now on, also if kept)
/// and cleared in the browser.
#[utoipa::path(post, path = "/api/logout", tag = "auth", responses((status = 204)))]
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    if let Some(session) = presented_session(&state, &headers) {
        state.login_sessions.revoke(&session.session_id).await?;
    }
    Ok(cleared(&headers))
}

/// End every session of the caller (all browsers, all instances): "log out everywhere".
#[utoipa::path(post, path = "/api/logout/everywhere", tag = "auth",
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout_everywhere(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let Some(session) = presented_session(&state, &headers) else {
        return Err(ApiError::Unauthorized("unauthenticated"));
    };
    if !state.login_sessions.is_live(&session.session_id).await? {
        return Err(ApiError::Unauthorized("session_invalid"));
    }
    let revoked = state.login_sessions.revoke_all(&session.subject).await?;
    tracing::info!(revoked, "logged out everywhere");
    Ok(cleared(&headers))
}

/// The authentic, unexpired session cookie of the request, if any.
fn presented_session(state: &AppState, headers: &HeaderMap) -> Option<super::session::Session> {
    let value = crate::http::guard::cookie(headers, COOKIE_NAME)?;
    state.keys.get()?.session.verify(value, state.clock.now())
}

fn cleared(headers: &HeaderMap) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session_cookie("", 0, is_https(headers)));
    response
}

fn session_cookie(value: &str, max_age_secs: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE_NAME}={value}; Path=/; Max-Age={max_age_secs}; HttpOnly; SameSite=Lax{secure}"
    ))
    .expect("cookie value is ASCII")
}

/// Whether the browser reached us over https (directly, or through a TLS-terminating proxy).
fn is_https(headers: &HeaderMap) -> bool {
    let forwarded = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok());
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    forwarded == Some("https") || origin.is_some_and(|o| o.starts_with("https://"))
}

/// The client address for rate limiting: the peer, or the last proxy-added address when
/// `TRUST_FORWARDED_FOR` says a load balancer sits in front.
pub fn client_ip(state: &AppState, headers: &HeaderMap, peer: SocketAddr) -> IpAddr {
    if state.ctx.config.trust_forwarded_for
        && let Some(ip) = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse().ok())
    {
        return ip;
    }
    peer.ip()
}

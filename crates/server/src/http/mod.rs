//! HTTP infrastructure: the router builder, guard, CSRF, errors, extractors, static assets. It
//! knows no domain: the route table is assembled in `crate::api` and handed in.
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

pub mod assets;
pub mod error;
pub mod guard;

use error::ApiError;
pub use guard::{Access, RequestCtx, Route};

use crate::state::AppState;

/// JSON body extractor whose rejections are our JSON errors (400/413/415/422).
#[derive(Debug, Clone, Copy, Default, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// Multipart body extractor whose rejections are our JSON 415s.
pub struct ApiMultipart(pub axum::extract::Multipart);

impl<S: Send + Sync> FromRequest<S> for ApiMultipart {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Multipart::from_request(req, state)
            .await
            .map(ApiMultipart)
            .map_err(ApiError::from)
    }
}

/// Query-string extractor whose rejections are our JSON 400s.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

impl<T: serde::Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// The whole HTTP surface: `routes` (the table from crate::api) behind the guard, the assets, and
/// the global middleware.
pub fn router(state: AppState, routes: Vec<Route>) -> Router {
    let max_body = state.ctx.config.max_body_bytes;
    let mut api = Router::new();
    for route in routes {
        let layer = middleware::from_fn_with_state((state.clone(), route.spec), guard::guard);
        let handler = match route.body_limit {
            Some(limit) => route.handler.layer(DefaultBodyLimit::max(limit)),
            None => route.handler,
        };
        api = api.route(route.path, handler.route_layer(layer));
    }
    let request_id = HeaderName::from_static("x-request-id");
    api.merge(assets::router())
        .fallback(not_found)
        .with_state(state)
        .layer(middleware::from_fn(guard::csrf))
        .layer(middleware::from_fn(track_metrics))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(middleware::from_fn(json_body_limit_error))
        .layer(middleware::from_fn(security_headers))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(
            TraceLayer::new_for_http()
                // 503 while starting or during an outage is expected: warn, not error.
                .on_failure(tower_http::trace::DefaultOnFailure::new().level(tracing::Level::WARN))
                .make_span_with(|req: &Request| {
                let id = req
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
            }),
        )
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
            ApiError::Internal("handler panicked".into()).into_response()
        }))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(60),
        ))
}

async fn not_found(req: Request) -> Response {
    if req.uri().path().starts_with("/api/") {
        ApiError::NotFound("route").into_response()
    } else {
        assets::not_found_page()
    }
}

/// tower-http's body limit answers 413 with a plain body; make it our JSON error.
async fn json_body_limit_error(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE
        && response
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .is_none_or(|v| v != "application/json")
    {
        return ApiError::PayloadTooLarge.into_response();
    }
    response
}

async fn security_headers(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    response
}

async fn track_metrics(req: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let path = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("path", path), ("status", status)];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}

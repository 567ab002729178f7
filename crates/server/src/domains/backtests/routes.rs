//! `/api/backtests`: run a backtest on the bundled EUR/USD hourly bars, list the strategies.
use axum::extract::State;
use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use super::service::{BUSY_RETRY_AFTER_SECS, BacktestRequest, BacktestRun, StrategyList};
use crate::auth::Role;
use crate::domains::error::DomainError;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::{Access, ApiJson, Route};
use crate::state::AppState;

pub fn routes() -> Vec<Route> {
    let member = Access::Tenant(Role::Member);
    vec![
        Route::new(Method::POST, "/api/backtests", member, post(run)),
        Route::new(
            Method::GET,
            "/api/backtests/strategies",
            member,
            get(strategies),
        ),
    ]
}

/// The strategies a backtest can run, each parameter with its default, and the bundled data.
#[utoipa::path(get, path = "/api/backtests/strategies", tag = "backtests",
    responses((status = 200, body = StrategyList)))]
pub async fn strategies(State(state): State<AppState>) -> ApiResult<ApiJson<StrategyList>> {
    Ok(ApiJson(state.backtests.strategies()?))
}

/// Replay the bundled EUR/USD hourly bars through a strategy: the report of `promostack
/// backtest --json` plus the drawdown series. One run at a time per process (503 + Retry-After).
#[utoipa::path(post, path = "/api/backtests", tag = "backtests", request_body = BacktestRequest,
    responses((status = 200, description = "The backtest report (as `promostack backtest --json`) with `data` and `drawdown`"),
        (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn run(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Response {
    let result = match BacktestRequest::from_json(body) {
        Ok(request) => state.backtests.run(request).await,
        Err(err) => Err(err),
    };
    match result {
        Ok(run) => ApiJson::<BacktestRun>(run).into_response(),
        Err(err @ DomainError::Unavailable { .. }) => {
            let mut response = ApiError::from(err).into_response();
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(BUSY_RETRY_AFTER_SECS),
            );
            response
        }
        Err(err) => ApiError::from(err).into_response(),
    }
}

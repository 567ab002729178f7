//! The forex API: the original's `/api/forex-signals` and `/api/forex-config`, and the
//! Signal Bot's status, strategy switch and price sparkline.
use axum::extract::{Path, State};
use axum::http::Method;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use super::repo::SignalFilter;
use super::service::{
    ForexConfigView, ForexSignal, Performance, SignalBotStatus, SignalPage, Sparkline,
};
use crate::auth::Role;
use crate::domains::backtests::service::BacktestRun;
use crate::domains::error::DomainError;
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::{Access, ApiJson, ApiQuery, RequestCtx, Route};
use crate::state::AppState;

pub fn routes() -> Vec<Route> {
    use Access::Tenant as T;
    let (member, admin) = (T(Role::Member), T(Role::Admin));
    vec![
        Route::new(Method::GET, "/api/forex-signals", member, get(list)),
        Route::new(
            Method::GET,
            "/api/forex-signals/performance",
            member,
            get(performance),
        ),
        Route::new(Method::GET, "/api/forex-signals/{id}", member, get(get_one)),
        Route::new(Method::GET, "/api/forex-config", member, get(config)),
        Route::new(
            Method::POST,
            "/api/forex-config",
            admin,
            post(update_config),
        ),
        Route::new(
            Method::POST,
            "/api/forex-config/backtest",
            member,
            post(backtest_settings),
        ),
        Route::new(Method::GET, "/api/signal-bot/status", member, get(status)),
        Route::new(
            Method::POST,
            "/api/signal-bot/set-active",
            admin,
            post(set_active),
        ),
        Route::new(Method::GET, "/api/xauusd-sparkline", member, get(sparkline)),
    ]
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SignalQuery {
    /// `open`, `tp1`, `tp2`, `tp3`, `sl`, `timeout`, `thesis_broken` (empty: any).
    #[param(
        pattern = "^\\s*([Oo][Pp][Ee][Nn]|[Tt][Pp][123]|[Ss][Ll]|[Tt][Ii][Mm][Ee][Oo][Uu][Tt]|[Tt][Hh][Ee][Ss][Ii][Ss]_[Bb][Rr][Oo][Kk][Ee][Nn])?\\s*$"
    )]
    status: Option<String>,
    /// `BUY` or `SELL` (any case; empty: any).
    #[param(pattern = "^\\s*([Bb][Uu][Yy]|[Ss][Ee][Ll][Ll])?\\s*$")]
    direction: Option<String>,
    strategy: Option<String>,
    /// Opened at or after (unix ms).
    from: Option<i64>,
    /// Opened before (unix ms).
    to: Option<i64>,
    /// 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    #[param(minimum = 0, maximum = 1000000)]
    offset: Option<i64>,
}

const STATUSES: &[&str] = &[
    "open",
    "tp1",
    "tp2",
    "tp3",
    "sl",
    "timeout",
    "thesis_broken",
];

fn parse_filter(q: &SignalQuery) -> Result<(SignalFilter, i64, i64), DomainError> {
    fn non_empty(v: &Option<String>) -> Option<&str> {
        v.as_deref().map(str::trim).filter(|s| !s.is_empty())
    }
    let status = non_empty(&q.status).map(str::to_ascii_lowercase);
    if let Some(s) = &status
        && !STATUSES.contains(&s.as_str())
    {
        return Err(DomainError::invalid_field(
            "status",
            format!("status must be one of {}", STATUSES.join(", ")),
        ));
    }
    let direction = non_empty(&q.direction).map(str::to_ascii_uppercase);
    if let Some(d) = &direction
        && d != "BUY"
        && d != "SELL"
    {
        return Err(DomainError::invalid_field(
            "direction",
            "direction must be BUY or SELL",
        ));
    }
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(DomainError::invalid_field(
            "limit",
            "limit must be 1 to 200",
        ));
    }
    let offset = q.offset.unwrap_or(0);
    if !(0..=1_000_000).contains(&offset) {
        return Err(DomainError::invalid_field(
            "offset",
            "offset must be 0 to 1000000",
        ));
    }
    Ok((
        SignalFilter {
            status,
            direction,
            strategy: non_empty(&q.strategy).map(str::to_string),
            from: q.from,
            to: q.to,
        },
        limit,
        offset,
    ))
}

/// The workspace's signals, newest first, with filters and paging.
#[utoipa::path(get, path = "/api/forex-signals", tag = "forex", params(SignalQuery),
    responses((status = 200, body = SignalPage), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    ctx: RequestCtx,
    ApiQuery(query): ApiQuery<SignalQuery>,
) -> ApiResult<ApiJson<SignalPage>> {
    let (filter, limit, offset) = parse_filter(&query)?;
    Ok(ApiJson(
        state
            .forex
            .signals(&ctx.tenant_id, &filter, limit, offset)
            .await?,
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignalDetail {
    #[serde(flatten)]
    pub signal: ForexSignal,
    pub events: Vec<SignalEventView>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignalEventView {
    /// `opened`, `progress`, `breakeven`, `tp1`…`tp3`, `stop_loss`, `timeout`,
    /// `thesis_weakening`, `thesis_broken`.
    pub kind: String,
    /// Unix ms (market time).
    pub at: i64,
    pub price: f64,
    pub move_pips: f64,
    pub realized_pips: f64,
    pub progress_percent: f64,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

/// One signal with its events.
#[utoipa::path(get, path = "/api/forex-signals/{id}", tag = "forex", params(("id" = String, Path)),
    responses((status = 200, body = SignalDetail), (status = 404, body = ErrorBody)))]
pub async fn get_one(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<String>,
) -> ApiResult<ApiJson<SignalDetail>> {
    let signal = state.forex.signal(&ctx.tenant_id, &id).await?;
    let events = state
        .forex
        .events(&ctx.tenant_id, &signal.id)
        .await?
        .into_iter()
        .map(|e| SignalEventView {
            kind: e.kind,
            at: e.at,
            price: e.price,
            move_pips: e.move_pips,
            realized_pips: e.realized_pips,
            progress_percent: e.progress_percent,
            detail: serde_json::from_str(&e.detail_json).unwrap_or(serde_json::Value::Null),
        })
        .collect();
    Ok(ApiJson(SignalDetail { signal, events }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DaysQuery {
    /// 1 to 366 (default 30).
    #[param(minimum = 1, maximum = 366)]
    days: Option<i64>,
}

/// Net pips per day and per week of the signals closed in the last `days` days.
#[utoipa::path(get, path = "/api/forex-signals/performance", tag = "forex", params(DaysQuery),
    responses((status = 200, body = Performance), (status = 422, body = ErrorBody)))]
pub async fn performance(
    State(state): State<AppState>,
    ctx: RequestCtx,
    ApiQuery(query): ApiQuery<DaysQuery>,
) -> ApiResult<ApiJson<Performance>> {
    let days = query.days.unwrap_or(30);
    if !(1..=366).contains(&days) {
        return Err(DomainError::invalid_field("days", "days must be 1 to 366").into());
    }
    Ok(ApiJson(
        state.forex.performance(&ctx.tenant_id, days).await?,
    ))
}

/// The workspace's forex settings (defaults until saved).
#[utoipa::path(get, path = "/api/forex-config", tag = "forex",
    responses((status = 200, body = ForexConfigView)))]
pub async fn config(
    State(state): State<AppState>,
    ctx: RequestCtx,
) -> ApiResult<ApiJson<ForexConfigView>> {
    Ok(ApiJson(state.forex.config(&ctx.tenant_id).await?))
}

/// Change settings (any subset of fields; `params` merges field by field). Validated as a
/// whole: a wrong field is a 422 naming it and nothing is stored. Picked up by the next cycle,
/// without a restart.
#[utoipa::path(post, path = "/api/forex-config", tag = "forex", request_body(content = Object, description = "any ForexSettings fields"),
    responses((status = 200, body = ForexConfigView), (status = 422, body = ErrorBody)))]
pub async fn update_config(
    State(state): State<AppState>,
    ctx: RequestCtx,
    ApiJson(patch): ApiJson<serde_json::Value>,
) -> ApiResult<ApiJson<ForexConfigView>> {
    Ok(ApiJson(
        state.forex.update_config(&ctx.tenant_id, &patch).await?,
    ))
}

/// Backtest the workspace's settings (with optional changes, not saved) on its stored bars:
/// the same report as `promostack backtest`.
#[utoipa::path(post, path = "/api/forex-config/backtest", tag = "forex", request_body(content = Object, description = "settings changes to try (optional)"),
    responses((status = 200, description = "The backtest report with `data` and `drawdown`"),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn backtest_settings(
    State(state): State<AppState>,
    ctx: RequestCtx,
    ApiJson(patch): ApiJson<serde_json::Value>,
) -> ApiResult<ApiJson<BacktestRun>> {
    let (settings, bars) = state.forex.stored_bars(&ctx.tenant_id).await?;
    let settings = settings.merged(&patch)?;
    let mut options = promostack_signals::BacktestOptions::new(
        &settings.symbol,
        &settings.bot_active_bot_type,
        settings.timeframe,
    );
    options.params = Some(settings.params.clone());
    Ok(ApiJson(state.backtests.run_on_bars(bars, options).await?))
}

/// Active and queued strategy, the open signal with its live pips, and where posts go.
#[utoipa::path(get, path = "/api/signal-bot/status", tag = "forex",
    responses((status = 200, body = SignalBotStatus)))]
pub async fn status(
    State(state): State<AppState>,
    ctx: RequestCtx,
) -> ApiResult<ApiJson<SignalBotStatus>> {
    Ok(ApiJson(state.forex.status(&ctx.tenant_id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetActive {
    /// A strategy name (`aggressive`, `conservative`, `trend_pullback`).
    strategy: String,
}

/// Switch the active strategy; while a signal is open the switch is queued until it closes.
#[utoipa::path(post, path = "/api/signal-bot/set-active", tag = "forex", request_body = SetActive,
    responses((status = 200, body = SignalBotStatus), (status = 422, body = ErrorBody)))]
pub async fn set_active(
    State(state): State<AppState>,
    ctx: RequestCtx,
    ApiJson(body): ApiJson<SetActive>,
) -> ApiResult<ApiJson<SignalBotStatus>> {
    Ok(ApiJson(
        state
            .forex
            .set_active(&ctx.tenant_id, &body.strategy)
            .await?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SparkQuery {
    /// 2 to 1000 (default 96).
    #[param(minimum = 2, maximum = 1000)]
    points: Option<i64>,
}

/// The configured symbol's recent closes (named after the original; any symbol).
#[utoipa::path(get, path = "/api/xauusd-sparkline", tag = "forex", params(SparkQuery),
    responses((status = 200, body = Sparkline), (status = 422, body = ErrorBody)))]
pub async fn sparkline(
    State(state): State<AppState>,
    ctx: RequestCtx,
    ApiQuery(query): ApiQuery<SparkQuery>,
) -> ApiResult<ApiJson<Sparkline>> {
    let points = query.points.unwrap_or(96);
    if !(2..=1000).contains(&points) {
        return Err(DomainError::invalid_field("points", "points must be 2 to 1000").into());
    }
    Ok(ApiJson(
        state
            .forex
            .sparkline(&ctx.tenant_id, points as usize)
            .await?,
    ))
}

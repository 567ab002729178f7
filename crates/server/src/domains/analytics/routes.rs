//! `/api/bot-stats` (the original's path and payload) and the popular-codes table and export.
use axum::extract::{Query, State};
use axum::http::Method;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use super::service::{BotStats, CodePage, parse_range};
use crate::auth::Role;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::{Access, ApiJson, RequestCtx, Route};
use crate::state::AppState;

pub fn routes() -> Vec<Route> {
    let member = Access::Tenant(Role::Member);
    vec![
        Route::new(Method::GET, "/api/bot-stats", member, get(bot_stats)),
        Route::new(Method::GET, "/api/bot-stats/codes", member, get(codes)),
        Route::new(
            Method::GET,
            "/api/bot-stats/codes.csv",
            member,
            get(codes_csv),
        ),
    ]
}

#[derive(Debug, Deserialize)]
pub struct StatsQuery {
    days: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct CodesQuery {
    days: Option<String>,
    q: Option<String>,
    page: Option<String>,
}

/// Generations, unique users, success rate, top templates and the usage series of the bot.
#[utoipa::path(get, path = "/api/bot-stats", tag = "analytics",
    params(("days" = Option<String>, Query, description = "today | yesterday | 7 | 30 | 90 (default 7)", pattern = "^\\s*(today|yesterday|7|30|90)\\s*$")),
    responses((status = 200, body = BotStats), (status = 400, body = ErrorBody)))]
pub async fn bot_stats(
    State(state): State<AppState>,
    ctx: RequestCtx,
    query: Result<Query<StatsQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<ApiJson<BotStats>> {
    let Query(query) = query?;
    let range = parse_range(query.days.as_deref())?;
    Ok(ApiJson(
        state.analytics.bot_stats(&ctx.tenant_id, range).await?,
    ))
}

fn parse_page(raw: Option<&str>) -> ApiResult<i64> {
    match raw {
        None | Some("") => Ok(1),
        Some(raw) => raw.parse::<i64>().map_err(|_| {
            ApiError::BadRequest(format!(
                "page must be a whole number (got '{}')",
                raw.chars().take(20).collect::<String>()
            ))
        }),
    }
}

/// Popular coupon codes, 50 per page, optionally filtered by a search text.
#[utoipa::path(get, path = "/api/bot-stats/codes", tag = "analytics",
    params(("days" = Option<String>, Query, pattern = "^\\s*(today|yesterday|7|30|90)\\s*$"), ("q" = Option<String>, Query), ("page" = Option<i64>, Query)),
    responses((status = 200, body = CodePage), (status = 400, body = ErrorBody)))]
pub async fn codes(
    State(state): State<AppState>,
    ctx: RequestCtx,
    query: Result<Query<CodesQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<ApiJson<CodePage>> {
    let Query(query) = query?;
    let range = parse_range(query.days.as_deref())?;
    let page = parse_page(query.page.as_deref())?;
    let search = query.q.unwrap_or_default();
    Ok(ApiJson(
        state
            .analytics
            .codes(&ctx.tenant_id, range, &search, page)
            .await?,
    ))
}

/// Every matching code as CSV (streamed).
#[utoipa::path(get, path = "/api/bot-stats/codes.csv", tag = "analytics",
    params(("days" = Option<String>, Query, pattern = "^\\s*(today|yesterday|7|30|90)\\s*$"), ("q" = Option<String>, Query)),
    responses((status = 200, content_type = "text/csv"), (status = 400, body = ErrorBody)))]
pub async fn codes_csv(
    State(state): State<AppState>,
    ctx: RequestCtx,
    query: Result<Query<CodesQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let Query(query) = query?;
    let range = parse_range(query.days.as_deref())?;
    let search = query.q.unwrap_or_default();
    // Check the input and the tenant before the 200 goes out; errors after that end the stream.
    state.analytics.window(&ctx.tenant_id, range).await?;
    if search.trim().chars().count() > 64 {
        return Err(ApiError::BadRequest(
            "search text is limited to 64 characters".into(),
        ));
    }
    let (tx, response) = crate::csv::streamed(&format!("coupon-codes-{}.csv", range.as_str()));
    let analytics = state.analytics.clone();
    let tenant_id = ctx.tenant_id.clone();
    tokio::spawn(async move {
        if let Err(err) = analytics.codes_csv(&tenant_id, range, &search, tx).await {
            tracing::warn!(error = %err, "code export stopped early");
        }
    });
    Ok(response)
}

//! `/api/validate-coupon` (the original's path) and the admin API of the coupon list and provider.
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use serde::{Deserialize, Serialize};

use super::service::{
    Coupon, CouponCheck, CouponInput, CouponPage, CouponSettings, ImportResult, SettingsInput,
    reason,
};
use crate::auth::Role;
use crate::domains::coupons::CouponCode;
use crate::domains::error::DomainError;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::{Access, ApiJson, ApiQuery, RequestCtx, Route};
use crate::state::AppState;

/// A pasted list or CSV of up to 10,000 codes fits easily.
const IMPORT_LIMIT: usize = 2 * 1024 * 1024;

pub fn routes() -> Vec<Route> {
    use Access::Tenant as T;
    let (member, admin) = (T(Role::Member), T(Role::Admin));
    vec![
        Route::new(Method::POST, "/api/validate-coupon", member, post(validate)),
        Route::new(
            Method::GET,
            "/api/coupon-code-rules",
            member,
            get(code_rules),
        ),
        Route::new(Method::GET, "/api/coupons", member, get(list)),
        Route::new(Method::POST, "/api/coupons", admin, post(create)),
        Route::new(Method::GET, "/api/coupons/export", member, get(export)),
        Route::new(Method::POST, "/api/coupons/import", admin, post(import))
            .with_body_limit(IMPORT_LIMIT),
        Route::new(Method::GET, "/api/coupons/{id}", member, get(get_one)),
        Route::new(Method::PUT, "/api/coupons/{id}", admin, put(update)),
        Route::new(
            Method::DELETE,
            "/api/coupons/{id}",
            admin,
            delete(delete_one),
        ),
        Route::new(
            Method::GET,
            "/api/coupon-settings",
            member,
            get(get_settings),
        ),
        Route::new(
            Method::PUT,
            "/api/coupon-settings",
            admin,
            put(update_settings),
        ),
    ]
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ValidateBody {
    code: String,
}

/// Is this code live for the workspace? `{valid, reason, code?, discount?}`; malformed codes are 422.
#[utoipa::path(post, path = "/api/validate-coupon", tag = "coupons", request_body = ValidateBody,
    responses((status = 200, body = CouponCheck), (status = 422, body = ErrorBody)))]
pub async fn validate(
    State(state): State<AppState>,
    ctx: RequestCtx,
    ApiJson(body): ApiJson<ValidateBody>,
) -> ApiResult<ApiJson<CouponCheck>> {
    Ok(ApiJson(
        state
            .coupons
            .validate(
                &ctx.tenant_id,
                &CouponCode::parse(&body.code).map_err(DomainError::from)?,
            )
            .await?,
    ))
}

/// What a coupon code may be, for forms to apply before a round trip.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CodeRules {
    max_chars: usize,
    allowed: &'static str,
}

/// The coupon-code rules (`maxChars`, `allowed`) every code check applies: those of
/// `CouponCode::parse`, which the API, the bot and the renderer share.
#[utoipa::path(get, path = "/api/coupon-code-rules", tag = "coupons",
    responses((status = 200, body = CodeRules)))]
pub async fn code_rules() -> ApiJson<CodeRules> {
    ApiJson(CodeRules {
        max_chars: CouponCode::MAX_CHARS,
        allowed: CouponCode::ALLOWED,
    })
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Part of a code or note.
    search: Option<String>,
    /// 1 to 500 (the default).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
    #[param(minimum = 0, maximum = 1000000)]
    offset: Option<i64>,
}

/// The workspace's listed codes, by code.
#[utoipa::path(get, path = "/api/coupons", tag = "coupons", params(ListQuery),
    responses((status = 200, body = CouponPage)))]
pub async fn list(
    State(state): State<AppState>,
    ctx: RequestCtx,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<ApiJson<CouponPage>> {
    if query.limit.is_some_and(|l| !(1..=500).contains(&l)) {
        return Err(DomainError::invalid_field("limit", "limit must be 1 to 500").into());
    }
    if query.offset.is_some_and(|o| !(0..=1_000_000).contains(&o)) {
        return Err(DomainError::invalid_field("offset", "offset must be 0 to 1000000").into());
    }
    Ok(ApiJson(
        state
            .coupons
            .list(
                &ctx.tenant_id,
                query.search.as_deref(),
                query.limit,
                query.offset,
            )
            .await?,
    ))
}

/// List a code.
#[utoipa::path(post, path = "/api/coupons", tag = "coupons", request_body = CouponInput,
    responses((status = 201, body = Coupon), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ctx: RequestCtx,
    ApiJson(body): ApiJson<CouponInput>,
) -> ApiResult<(StatusCode, ApiJson<Coupon>)> {
    Ok((
        StatusCode::CREATED,
        ApiJson(state.coupons.create(&ctx.tenant_id, body).await?),
    ))
}

/// One listed code.
#[utoipa::path(get, path = "/api/coupons/{id}", tag = "coupons", params(("id" = String, Path)),
    responses((status = 200, body = Coupon), (status = 404, body = ErrorBody)))]
pub async fn get_one(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<String>,
) -> ApiResult<ApiJson<Coupon>> {
    Ok(ApiJson(state.coupons.get(&ctx.tenant_id, &id).await?))
}

/// Replace a listed code (code, discount, active, expiry, note).
#[utoipa::path(put, path = "/api/coupons/{id}", tag = "coupons", params(("id" = String, Path)), request_body = CouponInput,
    responses((status = 200, body = Coupon), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CouponInput>,
) -> ApiResult<ApiJson<Coupon>> {
    Ok(ApiJson(
        state.coupons.update(&ctx.tenant_id, &id, body).await?,
    ))
}

/// Remove a code from the list.
#[utoipa::path(delete, path = "/api/coupons/{id}", tag = "coupons", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_one(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.coupons.delete(&ctx.tenant_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportBody {
    /// CSV (`code,discount_type,discount_value,currency,active,expires_at,note`, header
    /// optional) or one code per line.
    text: String,
}

/// Add or update codes from CSV or a pasted list, all or nothing. Body: `{"text": "..."}`, or the
/// CSV itself as `text/csv` / `text/plain`.
#[utoipa::path(post, path = "/api/coupons/import", tag = "coupons", request_body = ImportBody,
    responses((status = 200, body = ImportResult), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn import(
    State(state): State<AppState>,
    ctx: RequestCtx,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<ApiJson<ImportResult>> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let text = if content_type.starts_with("application/json") {
        serde_json::from_slice::<ImportBody>(&body)
            .map_err(|e| ApiError::Validation(format!("expected {{\"text\": \"...\"}}: {e}")))?
            .text
    } else if content_type.starts_with("text/csv") || content_type.starts_with("text/plain") {
        String::from_utf8(body.to_vec())
            .map_err(|_| ApiError::Validation("the CSV is not UTF-8 text".into()))?
    } else {
        return Err(ApiError::UnsupportedMediaType(
            "send JSON {\"text\": ...} or text/csv".into(),
        ));
    };
    Ok(ApiJson(state.coupons.import(&ctx.tenant_id, &text).await?))
}

/// Every listed code as CSV (the import format).
#[utoipa::path(get, path = "/api/coupons/export", tag = "coupons",
    responses((status = 200, content_type = "text/csv")))]
pub async fn export(State(state): State<AppState>, ctx: RequestCtx) -> ApiResult<Response> {
    let csv = state.coupons.export(&ctx.tenant_id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"coupons.csv\"",
            ),
        ],
        csv,
    )
        .into_response())
}

/// Which provider checks this workspace's codes, and what it could use.
#[utoipa::path(get, path = "/api/coupon-settings", tag = "coupons",
    responses((status = 200, body = CouponSettings)))]
pub async fn get_settings(
    State(state): State<AppState>,
    ctx: RequestCtx,
) -> ApiResult<ApiJson<CouponSettings>> {
    Ok(ApiJson(state.coupons.settings(&ctx.tenant_id).await?))
}

/// Choose the provider (`list`, `funderpro`, `any`) and the outage policy (`failOpen`).
#[utoipa::path(put, path = "/api/coupon-settings", tag = "coupons", request_body = SettingsInput,
    responses((status = 200, body = CouponSettings), (status = 422, body = ErrorBody)))]
pub async fn update_settings(
    State(state): State<AppState>,
    ctx: RequestCtx,
    ApiJson(body): ApiJson<SettingsInput>,
) -> ApiResult<ApiJson<CouponSettings>> {
    Ok(ApiJson(
        state.coupons.update_settings(&ctx.tenant_id, body).await?,
    ))
}

/// The error answer for a code that failed its check, for routes that need a valid code
/// (`/api/render`): 422 `invalid_coupon`, or 503 `crm_unavailable`; `reason` is the machine reason.
pub fn refused(check: &CouponCheck) -> Response {
    let unavailable = check.code.as_deref() == Some(reason::CRM_UNAVAILABLE);
    let (status, code) = if unavailable {
        (StatusCode::SERVICE_UNAVAILABLE, "crm_unavailable")
    } else {
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_coupon")
    };
    let body = serde_json::json!({"error": check.reason, "code": code, "reason": check.code});
    (status, axum::Json(body)).into_response()
}

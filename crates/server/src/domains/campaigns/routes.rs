//! Campaigns over HTTP: the tenant's admin API and the public participation API.
use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post, put};
use serde::{Deserialize, Serialize};

use super::composite;
use super::service::{Campaign, CampaignInput, PublicCampaign, Submission, SubmissionInput};
use crate::auth::Role;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::{Access, ApiJson, RequestCtx, Route};
use crate::state::AppState;

/// An overlay upload (≤ 10 MB, checked again after decoding) with room for the request.
const OVERLAY_LIMIT: usize = 10 * 1024 * 1024 + 64 * 1024;

pub fn routes() -> Vec<Route> {
    use Access::Tenant as T;
    let (member, admin) = (T(Role::Member), T(Role::Admin));
    vec![
        Route::new(Method::GET, "/api/campaigns", member, get(list)),
        Route::new(Method::POST, "/api/campaigns", admin, post(create)),
        Route::new(Method::GET, "/api/campaigns/{id}", member, get(get_one)),
        Route::new(Method::PUT, "/api/campaigns/{id}", admin, put(update)),
        Route::new(
            Method::PATCH,
            "/api/campaigns/{id}",
            admin,
            patch(set_paused),
        ),
        Route::new(
            Method::DELETE,
            "/api/campaigns/{id}",
            admin,
            delete(delete_one),
        ),
        Route::new(
            Method::PUT,
            "/api/campaigns/{id}/overlay",
            admin,
            put(upload_overlay),
        )
        .with_body_limit(OVERLAY_LIMIT),
        Route::new(
            Method::GET,
            "/api/campaigns/{id}/overlay",
            member,
            get(overlay),
        ),
        Route::new(
            Method::DELETE,
            "/api/campaigns/{id}/overlay",
            admin,
            delete(remove_overlay),
        ),
        Route::new(
            Method::GET,
            "/api/campaigns/{id}/submissions",
            member,
            get(list_submissions),
        ),
        Route::new(
            Method::GET,
            "/api/campaigns/{id}/submissions/export",
            member,
            get(export_submissions),
        ),
        Route::new(
            Method::PATCH,
            "/api/campaigns/{id}/submissions/{submission_id}",
            admin,
            patch(review),
        ),
        // Public: the participation page's API, keyed by the unguessable campaign id.
        Route::new(
            Method::GET,
            "/api/campaigns/{id}/public",
            Access::Public,
            get(public),
        )
        .with_db(),
        Route::new(
            Method::GET,
            "/api/campaigns/{id}/public/overlay",
            Access::Public,
            get(public_overlay),
        )
        .with_db(),
        Route::new(
            Method::POST,
            "/api/campaigns/{id}/submissions",
            Access::Public,
            post(submit),
        )
        .with_db(),
        Route::new(
            Method::POST,
            "/api/campaigns/{id}/composite",
            Access::Public,
            post(composite_image),
        )
        .with_db()
        .with_body_limit(composite::PHOTO_LIMIT),
    ]
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CampaignList {
    campaigns: Vec<Campaign>,
}

/// The workspace's campaigns with status and entry counts.
#[utoipa::path(get, path = "/api/campaigns", tag = "campaigns", responses((status = 200, body = CampaignList)))]
pub async fn list(
    State(state): State<AppState>,
    ctx: RequestCtx,
) -> ApiResult<ApiJson<CampaignList>> {
    Ok(ApiJson(CampaignList {
        campaigns: state.campaigns.list(&ctx.tenant_id).await?,
    }))
}

/// Create a campaign.
#[utoipa::path(post, path = "/api/campaigns", tag = "campaigns", request_body = CampaignInput,
    responses((status = 201, body = Campaign), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ctx: RequestCtx,
    ApiJson(body): ApiJson<CampaignInput>,
) -> ApiResult<(StatusCode, ApiJson<Campaign>)> {
    Ok((
        StatusCode::CREATED,
        ApiJson(state.campaigns.create(&ctx.tenant_id, body).await?),
    ))
}

/// One campaign.
#[utoipa::path(get, path = "/api/campaigns/{id}", tag = "campaigns", params(("id" = String, Path)),
    responses((status = 200, body = Campaign), (status = 404, body = ErrorBody)))]
pub async fn get_one(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<String>,
) -> ApiResult<ApiJson<Campaign>> {
    Ok(ApiJson(state.campaigns.get(&ctx.tenant_id, &id).await?))
}

/// Replace a campaign's details (title, description, window, platforms, pause).
#[utoipa::path(put, path = "/api/campaigns/{id}", tag = "campaigns", params(("id" = String, Path)), request_body = CampaignInput,
    responses((status = 200, body = Campaign), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CampaignInput>,
) -> ApiResult<ApiJson<Campaign>> {
    Ok(ApiJson(
        state.campaigns.update(&ctx.tenant_id, &id, body).await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PauseBody {
    paused: bool,
}

/// Pause or resume a campaign.
#[utoipa::path(patch, path = "/api/campaigns/{id}", tag = "campaigns", params(("id" = String, Path)), request_body = PauseBody,
    responses((status = 200, body = Campaign), (status = 404, body = ErrorBody)))]
pub async fn set_paused(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PauseBody>,
) -> ApiResult<ApiJson<Campaign>> {
    Ok(ApiJson(
        state
            .campaigns
            .set_paused(&ctx.tenant_id, &id, body.paused)
            .await?,
    ))
}

/// Delete a campaign with its entries and overlay.
#[utoipa::path(delete, path = "/api/campaigns/{id}", tag = "campaigns", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_one(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.campaigns.delete(&ctx.tenant_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Upload the overlay (body: the PNG, JPEG or WebP image; transparent PNG recommended).
#[utoipa::path(put, path = "/api/campaigns/{id}/overlay", tag = "campaigns", params(("id" = String, Path)),
    request_body(content_type = "image/png"),
    responses((status = 200, body = Campaign), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn upload_overlay(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<ApiJson<Campaign>> {
    if body.is_empty() {
        return Err(ApiError::Validation(
            "send the overlay image as the request body".into(),
        ));
    }
    Ok(ApiJson(
        state
            .campaigns
            .set_overlay(&ctx.tenant_id, &id, body)
            .await?,
    ))
}

/// The overlay image (editor preview).
#[utoipa::path(get, path = "/api/campaigns/{id}/overlay", tag = "campaigns", params(("id" = String, Path)),
    responses((status = 200, content_type = "image/png"), (status = 404, body = ErrorBody)))]
pub async fn overlay(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let bytes = state.campaigns.overlay(&ctx.tenant_id, &id).await?;
    Ok(image_response(bytes, "private, no-cache"))
}

/// Remove the overlay (the public page falls back to a red tint).
#[utoipa::path(delete, path = "/api/campaigns/{id}/overlay", tag = "campaigns", params(("id" = String, Path)),
    responses((status = 200, body = Campaign), (status = 404, body = ErrorBody)))]
pub async fn remove_overlay(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<String>,
) -> ApiResult<ApiJson<Campaign>> {
    Ok(ApiJson(
        state.campaigns.remove_overlay(&ctx.tenant_id, &id).await?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct SubmissionFilter {
    /// instagram, tiktok, x, facebook, telegram or youtube.
    platform: Option<String>,
    /// pending, approved or rejected.
    status: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SubmissionList {
    submissions: Vec<Submission>,
}

/// A campaign's entries, newest first.
#[utoipa::path(get, path = "/api/campaigns/{id}/submissions", tag = "campaigns", params(("id" = String, Path), SubmissionFilter),
    responses((status = 200, body = SubmissionList), (status = 404, body = ErrorBody)))]
pub async fn list_submissions(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<String>,
    filter: Result<Query<SubmissionFilter>, QueryRejection>,
) -> ApiResult<ApiJson<SubmissionList>> {
    let Query(filter) = filter?;
    Ok(ApiJson(SubmissionList {
        submissions: state
            .campaigns
            .submissions(
                &ctx.tenant_id,
                &id,
                filter.platform.as_deref(),
                filter.status.as_deref(),
            )
            .await?,
    }))
}

/// The entries as CSV (same filters as the list).
#[utoipa::path(get, path = "/api/campaigns/{id}/submissions/export", tag = "campaigns", params(("id" = String, Path), SubmissionFilter),
    responses((status = 200, content_type = "text/csv"), (status = 404, body = ErrorBody)))]
pub async fn export_submissions(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<String>,
    filter: Result<Query<SubmissionFilter>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(filter) = filter?;
    let csv = state
        .campaigns
        .submissions_csv(
            &ctx.tenant_id,
            &id,
            filter.platform.as_deref(),
            filter.status.as_deref(),
        )
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"campaign-{id}-entries.csv\""),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        csv,
    )
        .into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    /// pending, approved or rejected.
    status: String,
}

/// Approve or reject an entry.
#[utoipa::path(patch, path = "/api/campaigns/{id}/submissions/{submission_id}", tag = "campaigns",
    params(("id" = String, Path), ("submission_id" = String, Path)), request_body = ReviewBody,
    responses((status = 200, body = Submission), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn review(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path((id, submission_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<ReviewBody>,
) -> ApiResult<ApiJson<Submission>> {
    Ok(ApiJson(
        state
            .campaigns
            .review(&ctx.tenant_id, &id, &submission_id, body.status.trim())
            .await?,
    ))
}

/// The public fields of one campaign (no sign-in).
#[utoipa::path(get, path = "/api/campaigns/{id}/public", tag = "campaigns", params(("id" = String, Path)),
    responses((status = 200, body = PublicCampaign), (status = 404, body = ErrorBody)))]
pub async fn public(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<ApiJson<PublicCampaign>> {
    Ok(ApiJson(state.campaigns.public(&id).await?))
}

/// The overlay image of one campaign (no sign-in).
#[utoipa::path(get, path = "/api/campaigns/{id}/public/overlay", tag = "campaigns", params(("id" = String, Path)),
    responses((status = 200, content_type = "image/png"), (status = 404, body = ErrorBody)))]
pub async fn public_overlay(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let bytes = state.campaigns.public_overlay(&id).await?;
    Ok(image_response(bytes, "public, max-age=60"))
}

/// Enter the campaign with the link to a social post (no sign-in; rate-limited per address).
#[utoipa::path(post, path = "/api/campaigns/{id}/submissions", tag = "campaigns", params(("id" = String, Path)),
    request_body = SubmissionInput,
    responses((status = 201, body = Submission), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SubmissionInput>,
) -> ApiResult<(StatusCode, ApiJson<PublicSubmission>)> {
    let client = crate::auth::routes::client_ip(&state, &headers, peer);
    let submission = state.campaigns.submit(&id, body, client).await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(PublicSubmission {
            id: submission.id,
            platform: submission.platform,
            status: submission.status,
        }),
    ))
}

/// What the participant gets back: enough to confirm, nothing about other entries.
#[derive(Serialize, utoipa::ToSchema)]
pub struct PublicSubmission {
    id: String,
    platform: String,
    status: String,
}

/// Render the composite server-side at the overlay's full resolution (no sign-in). Body: the
/// photo (PNG/JPEG/WebP); query: the placement the page shows.
#[utoipa::path(post, path = "/api/campaigns/{id}/composite", tag = "campaigns", params(("id" = String, Path), composite::Placement),
    request_body(content_type = "image/jpeg"),
    responses((status = 200, content_type = "image/png"), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn composite_image(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
    placement: Result<Query<composite::Placement>, QueryRejection>,
    body: Bytes,
) -> ApiResult<Response> {
    let client = crate::auth::routes::client_ip(&state, &headers, peer);
    let overlay = state.campaigns.composite_overlay(&id, client).await?;
    let Query(placement) = placement?;
    let (bytes, mime) = composite::render(body, overlay, placement).await?;
    let mut response = (StatusCode::OK, bytes).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"campaign-photo.png\""),
    );
    Ok(response)
}

fn image_response(bytes: Bytes, cache: &'static str) -> Response {
    let mime = match promostack_render::sniff_format(&bytes) {
        Some(promostack_render::ImageFormat::Png) => "image/png",
        Some(promostack_render::ImageFormat::Jpeg) => "image/jpeg",
        Some(promostack_render::ImageFormat::WebP) => "image/webp",
        None => "application/octet-stream",
    };
    let mut response = (StatusCode::OK, bytes).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

//! Template management and rendering over HTTP.
use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use base64::Engine;
use promostack_render::{OutputFormat, TemplateSpec};
use serde::{Deserialize, Serialize};

use super::render::{RenderRequest, Rendered};
use super::service::{Template, render_error};
use crate::auth::Role;
use crate::domains::coupons::CouponCode;
use crate::domains::error::DomainError;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::{Access, ApiJson, ApiMultipart, RequestCtx, Route};
use crate::state::AppState;

/// Uploads carry images (each ≤ 25 MB, decoded ≤ 16 MP).
const UPLOAD_LIMIT: usize = 60 * 1024 * 1024;
/// A render request may carry a base64 logo.
const RENDER_LIMIT: usize = 12 * 1024 * 1024;

pub fn routes() -> Vec<Route> {
    use Access::Tenant as T;
    let (member, admin) = (T(Role::Member), T(Role::Admin));
    vec![
        Route::new(Method::GET, "/api/templates", member, get(list)),
        Route::new(Method::POST, "/api/templates", admin, post(create))
            .with_body_limit(UPLOAD_LIMIT),
        Route::new(Method::GET, "/api/templates/{id}", member, get(get_one)),
        Route::new(Method::PUT, "/api/templates/{id}", admin, put(update)),
        Route::new(
            Method::DELETE,
            "/api/templates/{id}",
            admin,
            delete(delete_one),
        ),
        Route::new(
            Method::POST,
            "/api/templates/{id}/assets",
            admin,
            post(replace_assets),
        )
        .with_body_limit(UPLOAD_LIMIT),
        Route::new(
            Method::DELETE,
            "/api/templates/{id}/logo",
            admin,
            delete(remove_logo),
        ),
        Route::new(
            Method::GET,
            "/api/templates/{id}/images/{variant}",
            member,
            get(image),
        ),
        Route::new(Method::GET, "/api/templates/{id}/logo", member, get(logo)),
        Route::new(
            Method::GET,
            "/api/templates/{id}/export",
            member,
            get(export),
        ),
        Route::new(
            Method::POST,
            "/api/templates/{id}/preview",
            // Renders any code with an unsaved spec: an editing tool, so admins only (members
            // render through /api/render, which checks the code).
            admin,
            post(preview),
        )
        .with_body_limit(RENDER_LIMIT),
        Route::new(Method::POST, "/api/templates/import", admin, post(import))
            .with_body_limit(UPLOAD_LIMIT),
        Route::new(
            Method::POST,
            "/api/templates/bulk-delete",
            admin,
            post(bulk_delete),
        ),
        Route::new(
            Method::POST,
            "/api/toggle-telegram-template",
            admin,
            post(toggle_telegram),
        ),
        Route::new(Method::POST, "/api/render", member, post(render)).with_body_limit(RENDER_LIMIT),
    ]
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TemplateList {
    templates: Vec<Template>,
}

/// The workspace's templates.
#[utoipa::path(get, path = "/api/templates", tag = "templates", responses((status = 200, body = TemplateList)))]
pub async fn list(
    State(state): State<AppState>,
    ctx: RequestCtx,
) -> ApiResult<ApiJson<TemplateList>> {
    Ok(ApiJson(TemplateList {
        templates: state.templates.list(&ctx.tenant_id).await?,
    }))
}

/// One template, by id or slug.
#[utoipa::path(get, path = "/api/templates/{id}", tag = "templates", params(("id" = String, Path)),
    responses((status = 200, body = Template), (status = 404, body = ErrorBody)))]
pub async fn get_one(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<String>,
) -> ApiResult<ApiJson<Template>> {
    Ok(ApiJson(state.templates.get(&ctx.tenant_id, &id).await?))
}

struct Upload {
    fields: BTreeMap<String, String>,
    images: BTreeMap<String, Bytes>,
    logo: Option<Bytes>,
    font: Option<Bytes>,
}

async fn read_upload(mut multipart: Multipart) -> ApiResult<Upload> {
    let mut upload = Upload {
        fields: BTreeMap::new(),
        images: BTreeMap::new(),
        logo: None,
        font: None,
    };
    let bad = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge
        } else {
            ApiError::BadRequest(e.body_text())
        }
    };
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "square" | "portrait" => {
                let bytes = field.bytes().await.map_err(bad)?;
                if !bytes.is_empty() {
                    upload.images.insert(name, bytes);
                }
            }
            "logo" => {
                let bytes = field.bytes().await.map_err(bad)?;
                if !bytes.is_empty() {
                    if promostack_render::sniff_format(&bytes).is_none() {
                        return Err(ApiError::UnsupportedMediaType(
                            "the logo is not a PNG, JPEG or WebP image".into(),
                        ));
                    }
                    upload.logo = Some(bytes);
                }
            }
            "font" => {
                let bytes = field.bytes().await.map_err(bad)?;
                if !bytes.is_empty() {
                    upload.font = Some(bytes);
                }
            }
            "name" | "slug" => {
                let text = field.text().await.map_err(bad)?;
                upload.fields.insert(name, text);
            }
            other => {
                return Err(ApiError::Validation(format!(
                    "unexpected form field '{other}'"
                )));
            }
        }
    }
    Ok(upload)
}

/// Create a template from uploaded images (multipart: `name`, `slug`?, `square`/`portrait`, `logo`?).
#[utoipa::path(post, path = "/api/templates", tag = "templates", request_body(content_type = "multipart/form-data"),
    responses((status = 201, body = Template), (status = 409, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ctx: RequestCtx,
    ApiMultipart(multipart): ApiMultipart,
) -> ApiResult<(StatusCode, ApiJson<Template>)> {
    let upload = read_upload(multipart).await?;
    let name = upload.fields.get("name").cloned().unwrap_or_default();
    let template = state
        .templates
        .create(
            &ctx.tenant_id,
            &name,
            upload.fields.get("slug").map(String::as_str),
            upload.images,
            upload.logo,
        )
        .await?;
    Ok((StatusCode::CREATED, ApiJson(template)))
}

/// Replace the spec (boxes, style, name, Telegram flag). Body: the `meta.json` format.
#[utoipa::path(put, path = "/api/templates/{id}", tag = "templates", params(("id" = String, Path)),
    request_body(content = Object, description = "template spec (meta.json format)"),
    responses((status = 200, body = Template), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> ApiResult<ApiJson<Template>> {
    let spec = TemplateSpec::from_json(body.to_string().as_bytes()).map_err(render_error)?;
    Ok(ApiJson(
        state
            .templates
            .update_spec(&ctx.tenant_id, &id, spec)
            .await?,
    ))
}

/// Delete one template.
#[utoipa::path(delete, path = "/api/templates/{id}", tag = "templates", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_one(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    match state.templates.bulk_delete(&ctx.tenant_id, &[id]).await? {
        0 => Err(ApiError::NotFound("template")),
        _ => Ok(StatusCode::NO_CONTENT),
    }
}

/// Replace or add backgrounds and/or the logo (multipart: `square`, `portrait`, `logo`).
#[utoipa::path(post, path = "/api/templates/{id}/assets", tag = "templates", params(("id" = String, Path)),
    request_body(content_type = "multipart/form-data"), responses((status = 200, body = Template)))]
pub async fn replace_assets(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<String>,
    ApiMultipart(multipart): ApiMultipart,
) -> ApiResult<ApiJson<Template>> {
    let upload = read_upload(multipart).await?;
    if upload.images.is_empty() && upload.logo.is_none() && upload.font.is_none() {
        return Err(ApiError::Validation(
            "upload square, portrait, logo and/or font".into(),
        ));
    }
    let logo = upload.logo.map(Some);
    Ok(ApiJson(
        state
            .templates
            .replace_assets(&ctx.tenant_id, &id, upload.images, logo, upload.font)
            .await?,
    ))
}

/// Remove the template's logo.
#[utoipa::path(delete, path = "/api/templates/{id}/logo", tag = "templates", params(("id" = String, Path)),
    responses((status = 200, body = Template), (status = 409, body = ErrorBody, description = "the template was changed meanwhile")))]
pub async fn remove_logo(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<String>,
) -> ApiResult<ApiJson<Template>> {
    Ok(ApiJson(
        state
            .templates
            .replace_assets(&ctx.tenant_id, &id, BTreeMap::new(), Some(None), None)
            .await?,
    ))
}

fn bytes_response(
    bytes: Bytes,
    content_type: &str,
    etag: Option<&str>,
    headers: &HeaderMap,
) -> Response {
    if let Some(etag) = etag {
        let quoted = format!("\"{etag}\"");
        if headers
            .get(header::IF_NONE_MATCH)
            .is_some_and(|v| v.as_bytes() == quoted.as_bytes())
        {
            return (StatusCode::NOT_MODIFIED, [(header::ETAG, quoted)]).into_response();
        }
        let mut response = (StatusCode::OK, bytes).into_response();
        let h = response.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_str(content_type)
                .unwrap_or(HeaderValue::from_static("application/octet-stream")),
        );
        h.insert(
            header::ETAG,
            HeaderValue::from_str(&quoted).expect("hex etag"),
        );
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, max-age=86400"),
        );
        return response;
    }
    let mut response = (StatusCode::OK, bytes).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    response
}

fn sniffed_mime(bytes: &[u8]) -> &'static str {
    match promostack_render::sniff_format(bytes) {
        Some(promostack_render::ImageFormat::Png) => "image/png",
        Some(promostack_render::ImageFormat::Jpeg) => "image/jpeg",
        Some(promostack_render::ImageFormat::WebP) => "image/webp",
        None => "application/octet-stream",
    }
}

/// A variant's background image.
#[utoipa::path(get, path = "/api/templates/{id}/images/{variant}", tag = "templates",
    params(("id" = String, Path), ("variant" = String, Path)), responses((status = 200, content_type = "image/png")))]
pub async fn image(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path((id, variant)): Path<(String, String)>,
) -> ApiResult<Response> {
    let bytes = state.templates.image(&ctx.tenant_id, &id, &variant).await?;
    Ok(bytes_response(
        bytes.clone(),
        sniffed_mime(&bytes),
        None,
        &HeaderMap::new(),
    ))
}

/// The template's logo.
#[utoipa::path(get, path = "/api/templates/{id}/logo", tag = "templates", params(("id" = String, Path)),
    responses((status = 200, content_type = "image/png"), (status = 404, body = ErrorBody)))]
pub async fn logo(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let bytes = state.templates.logo(&ctx.tenant_id, &id).await?;
    Ok(bytes_response(
        bytes.clone(),
        sniffed_mime(&bytes),
        None,
        &HeaderMap::new(),
    ))
}

/// The template as a zip of its directory (meta.json, images, logo.png).
#[utoipa::path(get, path = "/api/templates/{id}/export", tag = "templates", params(("id" = String, Path)),
    responses((status = 200, content_type = "application/zip")))]
pub async fn export(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (slug, zip) = state.templates.export(&ctx.tenant_id, &id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{slug}.zip\""),
            ),
        ],
        zip,
    )
        .into_response())
}

/// Import a template directory zip (body: the archive).
#[utoipa::path(post, path = "/api/templates/import", tag = "templates", request_body(content_type = "application/zip"),
    responses((status = 201, body = Template), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn import(
    State(state): State<AppState>,
    ctx: RequestCtx,
    body: Bytes,
) -> ApiResult<(StatusCode, ApiJson<Template>)> {
    Ok((
        StatusCode::CREATED,
        ApiJson(state.templates.import(&ctx.tenant_id, &body).await?),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkDelete {
    ids: Vec<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Deleted {
    deleted: u64,
}

/// Delete several templates at once.
#[utoipa::path(post, path = "/api/templates/bulk-delete", tag = "templates", request_body = BulkDelete,
    responses((status = 200, body = Deleted)))]
pub async fn bulk_delete(
    State(state): State<AppState>,
    ctx: RequestCtx,
    ApiJson(body): ApiJson<BulkDelete>,
) -> ApiResult<ApiJson<Deleted>> {
    Ok(ApiJson(Deleted {
        deleted: state
            .templates
            .bulk_delete(&ctx.tenant_id, &body.ids)
            .await?,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ToggleTelegram {
    /// Template id (or `slug`).
    id: Option<String>,
    slug: Option<String>,
    enabled: bool,
}

/// Show or hide a template in the Telegram bot (the original's path).
#[utoipa::path(post, path = "/api/toggle-telegram-template", tag = "templates", request_body = ToggleTelegram,
    responses((status = 200, body = Template), (status = 404, body = ErrorBody)))]
pub async fn toggle_telegram(
    State(state): State<AppState>,
    ctx: RequestCtx,
    ApiJson(body): ApiJson<ToggleTelegram>,
) -> ApiResult<ApiJson<Template>> {
    let id = body
        .id
        .or(body.slug)
        .ok_or_else(|| ApiError::Validation("give the template's id or slug".into()))?;
    Ok(ApiJson(
        state
            .templates
            .set_telegram(&ctx.tenant_id, &id, body.enabled)
            .await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenderBody {
    /// Template id or slug.
    template: String,
    variant: String,
    code: String,
    /// png (default), jpeg or webp.
    format: Option<String>,
    /// JPEG quality 1-100 (default 90).
    quality: Option<u8>,
    /// A logo for this render only, base64 (PNG/JPEG/WebP).
    logo: Option<String>,
}

fn output_format(name: Option<&str>, quality: Option<u8>) -> ApiResult<OutputFormat> {
    let format = OutputFormat::from_name(name.unwrap_or("png")).map_err(render_error)?;
    match quality {
        Some(q) => format
            .with_quality(q)
            .map_err(|e| ApiError::from(render_error(e))),
        None => Ok(format),
    }
}

fn rendered_response(rendered: Rendered, headers: &HeaderMap, cacheable: bool) -> Response {
    let etag = cacheable.then_some(rendered.etag.as_str());
    bytes_response(rendered.bytes.clone(), rendered.content_type, etag, headers)
}

/// Render a coupon image. The code must pass the workspace's coupon check (422 `invalid_coupon`,
/// or 503 `crm_unavailable` while the coupon CRM cannot be reached).
#[utoipa::path(post, path = "/api/render", tag = "templates", request_body = RenderBody,
    responses((status = 200, content_type = "image/png"), (status = 304), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn render(
    State(state): State<AppState>,
    ctx: RequestCtx,
    headers: HeaderMap,
    ApiJson(body): ApiJson<RenderBody>,
) -> ApiResult<Response> {
    let format = output_format(body.format.as_deref(), body.quality)?;
    let logo = body
        .logo
        .map(|b64| {
            let data = b64.split_once("base64,").map(|(_, d)| d).unwrap_or(&b64);
            base64::engine::general_purpose::STANDARD
                .decode(data.trim())
                .map(Bytes::from)
                .map_err(|_| ApiError::Validation("logo is not valid base64".into()))
        })
        .transpose()?;
    if let Some(logo) = &logo
        && promostack_render::sniff_format(logo).is_none()
    {
        return Err(ApiError::UnsupportedMediaType(
            "the logo is not a PNG, JPEG or WebP image".into(),
        ));
    }
    let code = CouponCode::parse(&body.code).map_err(DomainError::from)?;
    let check = state.coupons.validate(&ctx.tenant_id, &code).await?;
    if !check.valid {
        return Ok(crate::domains::coupons::routes::refused(&check));
    }
    let rendered = state
        .templates
        .render(
            &ctx.tenant_id,
            RenderRequest {
                template: &body.template,
                variant: &body.variant,
                code: code.display(),
                format,
                logo,
                persist: true,
            },
        )
        .await?;
    Ok(rendered_response(rendered, &headers, true))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewBody {
    #[schema(value_type = Object)]
    spec: serde_json::Value,
    variant: String,
    code: String,
    format: Option<String>,
}

/// Render with an unsaved spec (the editor's live preview).
#[utoipa::path(post, path = "/api/templates/{id}/preview", tag = "templates", params(("id" = String, Path)), request_body = PreviewBody,
    responses((status = 200, content_type = "image/png"), (status = 422, body = ErrorBody)))]
pub async fn preview(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PreviewBody>,
) -> ApiResult<Response> {
    let spec = TemplateSpec::from_json(body.spec.to_string().as_bytes()).map_err(render_error)?;
    let format = output_format(body.format.as_deref(), None)?;
    let rendered = state
        .templates
        .preview(&ctx.tenant_id, &id, spec, &body.variant, &body.code, format)
        .await?;
    Ok(rendered_response(rendered, &headers, false))
}

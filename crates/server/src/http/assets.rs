//! The web/ folder, embedded in the binary: `/` is the dashboard, `/login` the login page.
use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rust_embed::RustEmbed;

use crate::state::AppState;

#[derive(RustEmbed)]
#[folder = "../../web/"]
#[exclude = "*.md"]
struct WebAssets;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { file("index.html") }))
        .route("/login", get(|| async { file("login.html") }))
        .route("/campaign/{id}", get(|| async { file("campaign.html") }))
        .route(
            "/assets/{*path}",
            get(|Path(path): Path<String>| async move { file(&format!("assets/{path}")) }),
        )
        .route("/favicon.ico", get(|| async { file("assets/favicon.svg") }))
}

fn file(path: &str) -> Response {
    match WebAssets::get(path) {
        Some(content) => {
            let mime = mime_guess::from_path(path).first_or_octet_stream();
            let cache = if path.ends_with(".html") {
                "no-cache"
            } else {
                "public, max-age=300"
            };
            (
                [
                    (header::CONTENT_TYPE, mime.as_ref().to_owned()),
                    (header::CACHE_CONTROL, cache.to_owned()),
                    (
                        header::ETAG,
                        format!("\"{}\"", hex(&content.metadata.sha256_hash()[..8])),
                    ),
                ],
                Body::from(content.data.into_owned()),
            )
                .into_response()
        }
        None => not_found_page(),
    }
}

pub fn not_found_page() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        "<!doctype html><meta charset=utf-8><title>Not found</title><p>Not found. <a href=\"/\">Back to PromoStack</a></p>",
    )
        .into_response()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

//! The server-side composite (`POST /api/campaigns/{id}/composite`): decode the photo and the
//! overlay within limits, composite with crates/render, encode PNG. Public and CPU-heavy, so
//! at most two run at once in a process.
use bytes::Bytes;
use promostack_render::composite::{self, compose_photo};
use promostack_render::{DecodeLimits, OutputFormat, decode_image, encode_pixmap, sniff_format};
use serde::Deserialize;
use tokio::sync::Semaphore;

use super::service::overlay_limits;
use crate::domains::error::{DomainError, DomainResult};
use crate::domains::templates::service::render_error;

/// A phone photo: 15 MB and 25 MP (a 12 MP camera is 4032×3024).
pub const PHOTO_LIMIT: usize = 15 * 1024 * 1024;

fn photo_limits() -> DecodeLimits {
    DecodeLimits {
        max_bytes: PHOTO_LIMIT,
        max_pixels: 25_000_000,
        max_dimension: 12_000,
    }
}

static RUNNING: Semaphore = Semaphore::const_new(2);

/// Where the photo sits, as the page shows it (see `promostack_render::composite::Placement`).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct Placement {
    /// Zoom over cover-fit, 1 to 8 (default 1).
    zoom: Option<f32>,
    /// Horizontal offset of the photo's centre, in canvas widths (default 0).
    x: Option<f32>,
    /// Vertical offset of the photo's centre, in canvas heights (default 0).
    y: Option<f32>,
}

pub async fn render(
    photo: Bytes,
    overlay: Option<Bytes>,
    placement: Placement,
) -> DomainResult<(Vec<u8>, &'static str)> {
    if photo.is_empty() {
        return Err(DomainError::invalid("send the photo as the request body"));
    }
    if sniff_format(&photo).is_none() {
        return Err(DomainError::UnsupportedMedia(
            "the photo is not a PNG, JPEG or WebP image".into(),
        ));
    }
    let placement = composite::Placement {
        zoom: placement.zoom.unwrap_or(1.0),
        offset_x: placement.x.unwrap_or(0.0),
        offset_y: placement.y.unwrap_or(0.0),
    };
    let _permit = RUNNING
        .acquire()
        .await
        .map_err(|e| DomainError::internal(e.to_string()))?;
    let bytes = tokio::task::spawn_blocking(move || {
        let photo = decode_image(&photo, &photo_limits(), "photo")?;
        let overlay = overlay
            .map(|o| decode_image(&o, &overlay_limits(), "overlay image"))
            .transpose()?;
        let canvas = compose_photo(&photo, overlay.as_ref(), placement)?;
        encode_pixmap(&canvas, OutputFormat::Png)
    })
    .await
    .map_err(|e| DomainError::internal(e.to_string()))?
    .map_err(render_error)?;
    Ok((bytes, "image/png"))
}

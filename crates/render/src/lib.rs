//! Pure coupon renderer (docs/design.md §1): template spec + code + logo -> image bytes.
//!
//! No I/O and no async: callers hand in bytes (template JSON, background images, logo, font) and
//! get bytes back. The flow is
//!
//! 1. [`TemplateSpec::from_json`] parses and validates a template's `meta.json`;
//! 2. [`PreparedBackground::prepare`] decodes one variant's background (and optional logo) once,
//!    usually through a caller-owned [`BackgroundCache`];
//! 3. [`render`] lays out a code with auto-fit, draws it and encodes PNG, JPEG or WebP.
//!
//! Encoders reuse per-background work: JPEG output re-encodes only the restart intervals that
//! cover the text box and PNG output re-compresses only the row bands under it (see
//! `docs/rendering.md`).

mod cache;
pub mod composite;
mod decode;
pub mod demo;
mod encode;
mod error;
mod font;
pub mod fuzzing;
mod jpeg_splice;
mod jpeg_tiles;
mod layout;
mod png_splice;
mod raster;
mod render;
mod spec;

pub use cache::{BackgroundCache, CacheKey, CacheStats};
pub use decode::{DecodeLimits, ImageFormat, decode_image, image_dimensions, sniff_format};
pub use encode::{OutputFormat, encode_pixmap};
pub use error::{BoxKind, RenderError};
pub use font::Font;
pub use layout::{TextLayout, layout_text};
pub use render::{PreparedBackground, render, render_pixmap};
pub use spec::{
    Align, BoxSpec, MAX_CODE_CHARS, MAX_LINES, Rgba, Style, TemplateSpec, VariantSpec, parse_color,
    validate_code,
};

/// Result alias for this crate.
pub type Result<T, E = RenderError> = std::result::Result<T, E>;

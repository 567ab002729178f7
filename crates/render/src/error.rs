//! One error enum for everything the renderer rejects; each variant maps to a stable
//! machine-readable [`RenderError::code`] so the HTTP API and CLI can report it clearly.

/// Which box of a variant an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoxKind {
    Text,
    Logo,
}

impl std::fmt::Display for BoxKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BoxKind::Text => "text",
            BoxKind::Logo => "logo",
        })
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RenderError {
    #[error("template JSON is invalid: {0}")]
    InvalidJson(String),
    #[error("template has no variants")]
    NoVariants,
    #[error("variant name {0:?} is invalid (use 1-32 characters a-z, 0-9, '-' or '_')")]
    InvalidVariantName(String),
    #[error(
        "variant {variant:?}: image file name {name:?} is invalid (a plain file name is required)"
    )]
    InvalidImageName { variant: String, name: String },
    #[error("unknown variant {requested:?} (template has: {available})")]
    UnknownVariant {
        requested: String,
        available: String,
    },
    #[error("{field} colour {value:?} is invalid (expected #RRGGBB or #RRGGBBAA)")]
    InvalidColor { field: &'static str, value: String },
    #[error("style.{field} is invalid: {reason}")]
    InvalidStyle { field: &'static str, reason: String },
    #[error("variant {variant:?}: the {kind} box has zero width or height")]
    ZeroSizeBox { variant: String, kind: BoxKind },
    #[error(
        "variant {variant:?}: the {kind} box ({x},{y} {width}x{height}) is outside the {image_width}x{image_height} image"
    )]
    BoxOutsideImage {
        variant: String,
        kind: BoxKind,
        x: u32,
        y: u32,
        width: u32,
        height: u32,
        image_width: u32,
        image_height: u32,
    },
    #[error("the code is empty")]
    EmptyCode,
    #[error("the code is {chars} characters long (at most {max} allowed)")]
    CodeTooLong { chars: usize, max: usize },
    #[error("the code contains a control character")]
    CodeControlChar,
    #[error("{what} is {bytes} bytes (at most {max} allowed)")]
    InputTooLarge {
        what: &'static str,
        bytes: usize,
        max: usize,
    },
    #[error("{what} is not a PNG, JPEG or WebP image")]
    UnsupportedImageFormat { what: &'static str },
    #[error(
        "{what} is {width}x{height} pixels (at most {max_pixels} pixels and {max_dimension} per side allowed)"
    )]
    ImageTooLarge {
        what: &'static str,
        width: u32,
        height: u32,
        max_pixels: u64,
        max_dimension: u32,
    },
    #[error("{what} has zero width or height")]
    EmptyImage { what: &'static str },
    #[error("{what} could not be decoded (corrupt or truncated): {reason}")]
    ImageDecode { what: &'static str, reason: String },
    #[error("font is invalid: {0}")]
    InvalidFont(String),
    #[error("text shaping failed: {0}")]
    Shaping(String),
    #[error("JPEG quality {0} is out of range (1-100)")]
    InvalidQuality(u8),
    #[error("unknown output format {0:?} (use png, jpeg or webp)")]
    UnknownFormat(String),
    #[error("encoding failed: {0}")]
    Encode(String),
}

impl RenderError {
    /// Stable snake_case code for API error bodies (`{"error": ..., "code": ...}`).
    pub fn code(&self) -> &'static str {
        match self {
            RenderError::InvalidJson(_) => "invalid_template_json",
            RenderError::NoVariants => "no_variants",
            RenderError::InvalidVariantName(_) => "invalid_variant_name",
            RenderError::InvalidImageName { .. } => "invalid_image_name",
            RenderError::UnknownVariant { .. } => "unknown_variant",
            RenderError::InvalidColor { .. } => "invalid_color",
            RenderError::InvalidStyle { .. } => "invalid_style",
            RenderError::ZeroSizeBox { .. } => "zero_size_box",
            RenderError::BoxOutsideImage { .. } => "box_outside_image",
            RenderError::EmptyCode => "empty_code",
            RenderError::CodeTooLong { .. } => "code_too_long",
            RenderError::CodeControlChar => "code_control_char",
            RenderError::InputTooLarge { .. } => "input_too_large",
            RenderError::UnsupportedImageFormat { .. } => "unsupported_image_format",
            RenderError::ImageTooLarge { .. } => "image_too_large",
            RenderError::EmptyImage { .. } => "empty_image",
            RenderError::ImageDecode { .. } => "image_decode_failed",
            RenderError::InvalidFont(_) => "invalid_font",
            RenderError::Shaping(_) => "shaping_failed",
            RenderError::InvalidQuality(_) => "invalid_quality",
            RenderError::UnknownFormat(_) => "unknown_format",
            RenderError::Encode(_) => "encode_failed",
        }
    }

    /// True when the error is the caller's input (4xx), false for an internal failure (5xx).
    pub fn is_client_error(&self) -> bool {
        !matches!(self, RenderError::Encode(_))
    }
}

//! The template directory's `meta.json` (docs/design.md §6) as typed, validated data.
//!
//! Unknown fields at every level are kept in `extra` maps and written back unchanged, so a newer
//! editor's fields survive a round trip through an older server.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::Result;
use crate::error::{BoxKind, RenderError};

/// Longest accepted coupon code, in characters.
pub const MAX_CODE_CHARS: usize = 64;
/// Most lines a code may wrap onto.
pub const MAX_LINES: u8 = 4;
/// Largest accepted `maxFontSize`, in pixels.
const MAX_FONT_SIZE: f32 = 2000.0;
/// Largest accepted `strokeWidth` (fraction of the font size).
const MAX_STROKE_WIDTH: f32 = 0.5;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateSpec {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub slug: String,
    #[serde(default)]
    pub telegram_enabled: bool,
    #[serde(default)]
    pub style: Style,
    pub variants: BTreeMap<String, VariantSpec>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Style {
    #[serde(default = "default_color")]
    pub color: String,
    #[serde(default = "default_stroke_color")]
    pub stroke_color: String,
    /// Outline width as a fraction of the font size (0 = no outline).
    #[serde(default = "default_stroke_width")]
    pub stroke_width: f32,
    #[serde(default)]
    pub align: Align,
    #[serde(default = "default_max_font_size")]
    pub max_font_size: f32,
    #[serde(default = "default_true")]
    pub uppercase: bool,
    /// The code may wrap onto up to this many lines before it is shrunk.
    #[serde(default = "default_max_lines")]
    pub max_lines: u8,
    /// Name of a caller-supplied font (e.g. an uploaded file); `None` = the bundled Inter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub font: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn default_color() -> String {
    "#FFFFFF".into()
}
fn default_stroke_color() -> String {
    "#000000".into()
}
fn default_stroke_width() -> f32 {
    0.06
}
fn default_max_font_size() -> f32 {
    240.0
}
fn default_true() -> bool {
    true
}
fn default_max_lines() -> u8 {
    1
}

impl Default for Style {
    fn default() -> Self {
        Style {
            color: default_color(),
            stroke_color: default_stroke_color(),
            stroke_width: default_stroke_width(),
            align: Align::default(),
            max_font_size: default_max_font_size(),
            uppercase: true,
            max_lines: default_max_lines(),
            font: None,
            extra: Map::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Align {
    Left,
    #[default]
    Center,
    Right,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VariantSpec {
    /// File name of the background image inside the template directory / storage prefix.
    pub image: String,
    pub text: BoxSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo: Option<BoxSpec>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A box in image pixels; `x`/`y` are the top-left corner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoxSpec {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

impl BoxSpec {
    pub fn right(&self) -> u64 {
        u64::from(self.x) + u64::from(self.width)
    }
    pub fn bottom(&self) -> u64 {
        u64::from(self.y) + u64::from(self.height)
    }
}

/// A straight (not premultiplied) colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgba {
    pub r: u8,
    pub g: u8,
    pub b: u8,
    pub a: u8,
}

/// Parses `#RRGGBB` or `#RRGGBBAA` (hex digits of either case).
pub fn parse_color(value: &str) -> Option<Rgba> {
    let hex = value.strip_prefix('#')?;
    if !(hex.len() == 6 || hex.len() == 8) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
    Some(Rgba {
        r: byte(0)?,
        g: byte(2)?,
        b: byte(4)?,
        a: if hex.len() == 8 { byte(6)? } else { 255 },
    })
}

/// Checks a coupon code: not blank, at most [`MAX_CODE_CHARS`] characters, no control characters.
pub fn validate_code(code: &str) -> Result<()> {
    if code.trim().is_empty() {
        return Err(RenderError::EmptyCode);
    }
    if code.chars().any(char::is_control) {
        return Err(RenderError::CodeControlChar);
    }
    let chars = code.chars().count();
    if chars > MAX_CODE_CHARS {
        return Err(RenderError::CodeTooLong {
            chars,
            max: MAX_CODE_CHARS,
        });
    }
    Ok(())
}

impl Style {
    pub fn fill(&self) -> Rgba {
        parse_color(&self.color).unwrap_or(Rgba {
            r: 255,
            g: 255,
            b: 255,
            a: 255,
        })
    }
    pub fn stroke(&self) -> Rgba {
        parse_color(&self.stroke_color).unwrap_or(Rgba {
            r: 0,
            g: 0,
            b: 0,
            a: 255,
        })
    }

    pub fn validate(&self) -> Result<()> {
        if parse_color(&self.color).is_none() {
            return Err(RenderError::InvalidColor {
                field: "color",
                value: self.color.clone(),
            });
        }
        if parse_color(&self.stroke_color).is_none() {
            return Err(RenderError::InvalidColor {
                field: "strokeColor",
                value: self.stroke_color.clone(),
            });
        }
        if !(self.stroke_width.is_finite() && (0.0..=MAX_STROKE_WIDTH).contains(&self.stroke_width))
        {
            return Err(RenderError::InvalidStyle {
                field: "strokeWidth",
                reason: format!(
                    "{} is not between 0 and {MAX_STROKE_WIDTH}",
                    self.stroke_width
                ),
            });
        }
        if !(self.max_font_size.is_finite() && (1.0..=MAX_FONT_SIZE).contains(&self.max_font_size))
        {
            return Err(RenderError::InvalidStyle {
                field: "maxFontSize",
                reason: format!(
                    "{} is not between 1 and {MAX_FONT_SIZE}",
                    self.max_font_size
                ),
            });
        }
        if !(1..=MAX_LINES).contains(&self.max_lines) {
            return Err(RenderError::InvalidStyle {
                field: "maxLines",
                reason: format!("{} is not between 1 and {MAX_LINES}", self.max_lines),
            });
        }
        if let Some(font) = &self.font
            && !is_plain_file_name(font)
        {
            return Err(RenderError::InvalidStyle {
                field: "font",
                reason: format!("{font:?} is not a plain file name"),
            });
        }
        Ok(())
    }
}

/// A file name that cannot escape its directory: no separators, no leading dot, not too long.
fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && !name.starts_with('.')
        && !name.contains(['/', '\\', ':', '\0'])
        && !name.chars().any(char::is_control)
}

fn is_valid_variant_name(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

impl TemplateSpec {
    /// Parses `meta.json` and validates everything that does not need the images.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let spec: TemplateSpec =
            serde_json::from_slice(bytes).map_err(|e| RenderError::InvalidJson(e.to_string()))?;
        spec.validate()?;
        Ok(spec)
    }

    /// Pretty JSON in the template directory format, unknown fields included.
    pub fn to_json(&self) -> Vec<u8> {
        // Serialising plain data with string keys cannot fail.
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }

    pub fn validate(&self) -> Result<()> {
        self.style.validate()?;
        if self.variants.is_empty() {
            return Err(RenderError::NoVariants);
        }
        for (name, variant) in &self.variants {
            if !is_valid_variant_name(name) {
                return Err(RenderError::InvalidVariantName(name.clone()));
            }
            if !is_plain_file_name(&variant.image) {
                return Err(RenderError::InvalidImageName {
                    variant: name.clone(),
                    name: variant.image.clone(),
                });
            }
            let boxes = std::iter::once((BoxKind::Text, &variant.text))
                .chain(variant.logo.as_ref().map(|b| (BoxKind::Logo, b)));
            for (kind, b) in boxes {
                if b.width == 0 || b.height == 0 {
                    return Err(RenderError::ZeroSizeBox {
                        variant: name.clone(),
                        kind,
                    });
                }
            }
        }
        Ok(())
    }

    pub fn variant(&self, name: &str) -> Result<&VariantSpec> {
        self.variants
            .get(name)
            .ok_or_else(|| RenderError::UnknownVariant {
                requested: name.to_owned(),
                available: self.variants.keys().cloned().collect::<Vec<_>>().join(", "),
            })
    }
}

impl VariantSpec {
    /// Checks that the boxes lie inside a `width`×`height` background.
    pub fn validate_against_image(&self, variant: &str, width: u32, height: u32) -> Result<()> {
        let boxes = std::iter::once((BoxKind::Text, &self.text))
            .chain(self.logo.as_ref().map(|b| (BoxKind::Logo, b)));
        for (kind, b) in boxes {
            if b.right() > u64::from(width) || b.bottom() > u64::from(height) {
                return Err(RenderError::BoxOutsideImage {
                    variant: variant.to_owned(),
                    kind,
                    x: b.x,
                    y: b.y,
                    width: b.width,
                    height: b.height,
                    image_width: width,
                    image_height: height,
                });
            }
        }
        Ok(())
    }
}

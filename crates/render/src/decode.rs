//! Untrusted image bytes -> premultiplied RGBA pixmap, with size limits checked from the header
//! before any pixel is decoded (decompression bombs) and the format taken from the content.
use std::io::Cursor;

use tiny_skia::{IntSize, Pixmap};

use crate::Result;
use crate::error::RenderError;

/// Limits applied to every decoded image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Largest accepted encoded size.
    pub max_bytes: usize,
    /// Largest accepted width × height.
    pub max_pixels: u64,
    /// Largest accepted width or height.
    pub max_dimension: u32,
}

impl Default for DecodeLimits {
    /// Template backgrounds: 16 MP and 8192 px a side. Decoding costs up to 12 bytes a pixel
    /// (a 16-bit source plus its 8-bit copy) and the pixmap 4 more, so this bounds one render
    /// near 260 MB; a coupon is sent as a Telegram photo, which may not exceed 10000 px in
    /// width + height anyway.
    fn default() -> Self {
        DecodeLimits {
            max_bytes: 25 * 1024 * 1024,
            max_pixels: 16_000_000,
            max_dimension: 8_192,
        }
    }
}

impl DecodeLimits {
    /// A logo is drawn into a box of the template, so it needs far fewer pixels than a
    /// background: at most 4 MP and 4096 px a side (and never more than `self`).
    pub fn for_logo(&self) -> DecodeLimits {
        DecodeLimits {
            max_bytes: self.max_bytes.min(10 * 1024 * 1024),
            max_pixels: self.max_pixels.min(4_194_304),
            max_dimension: self.max_dimension.min(4_096),
        }
    }
}

/// Width and height from the image's header, without decoding pixels (`None` when the bytes
/// are not a PNG, JPEG or WebP image with a readable header).
pub fn image_dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    let format = match sniff_format(bytes)? {
        ImageFormat::Png => image::ImageFormat::Png,
        ImageFormat::Jpeg => image::ImageFormat::Jpeg,
        ImageFormat::WebP => image::ImageFormat::WebP,
    };
    image::ImageReader::with_format(Cursor::new(bytes), format)
        .into_dimensions()
        .ok()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Png,
    Jpeg,
    WebP,
}

/// Recognises PNG, JPEG and WebP by their magic bytes; anything else is `None`.
pub fn sniff_format(bytes: &[u8]) -> Option<ImageFormat> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(ImageFormat::Png)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(ImageFormat::Jpeg)
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(ImageFormat::WebP)
    } else {
        None
    }
}

/// A JPEG whose last scan is not followed by an end-of-image marker was cut short. Inside entropy
/// data 0xFF is always stuffed or a restart marker, so `FF D9` after the last SOS is the real EOI.
fn jpeg_has_end_marker(bytes: &[u8]) -> bool {
    let last_sos = bytes.windows(2).rposition(|w| w == [0xFF, 0xDA]);
    match last_sos {
        Some(pos) => bytes[pos..].windows(2).any(|w| w == [0xFF, 0xD9]),
        None => false,
    }
}

/// Decodes `bytes` (named `what` in errors, e.g. "background image") into a premultiplied pixmap.
pub fn decode_image(bytes: &[u8], limits: &DecodeLimits, what: &'static str) -> Result<Pixmap> {
    if bytes.len() > limits.max_bytes {
        return Err(RenderError::InputTooLarge {
            what,
            bytes: bytes.len(),
            max: limits.max_bytes,
        });
    }
    let format = sniff_format(bytes).ok_or(RenderError::UnsupportedImageFormat { what })?;
    let image_format = match format {
        ImageFormat::Png => image::ImageFormat::Png,
        ImageFormat::Jpeg => image::ImageFormat::Jpeg,
        ImageFormat::WebP => image::ImageFormat::WebP,
    };
    // PNG keeps its size at a fixed offset: check it before the decoder parses anything else.
    if format == ImageFormat::Png && bytes.len() >= 24 && &bytes[12..16] == b"IHDR" {
        let width = u32::from_be_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
        let height = u32::from_be_bytes([bytes[20], bytes[21], bytes[22], bytes[23]]);
        check_size(width, height, limits, what)?;
    }
    let decode_err = |e: image::ImageError| RenderError::ImageDecode {
        what,
        reason: e.to_string(),
    };
    let reader = || image::ImageReader::with_format(Cursor::new(bytes), image_format);

    // Header only: reject oversized images before allocating for their pixels.
    let (width, height) = reader().into_dimensions().map_err(decode_err)?;
    check_size(width, height, limits, what)?;
    // Decoders tolerate some truncation (a PNG cut inside IEND still has all its pixels, a
    // truncated JPEG decodes as grey); uploads must be complete files.
    let complete = match format {
        ImageFormat::Png => bytes.windows(8).any(|w| w == b"IEND\xAE\x42\x60\x82"),
        ImageFormat::Jpeg => jpeg_has_end_marker(bytes),
        ImageFormat::WebP => {
            let riff_len = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
            bytes.len() >= riff_len.saturating_add(8)
        }
    };
    if !complete {
        return Err(RenderError::ImageDecode {
            what,
            reason: "the file is truncated".into(),
        });
    }

    let mut image_limits = image::Limits::default();
    image_limits.max_image_width = Some(limits.max_dimension);
    image_limits.max_image_height = Some(limits.max_dimension);
    // 16-bit RGBA source plus the 8-bit copy, with room for decoder scratch.
    image_limits.max_alloc = Some(limits.max_pixels.saturating_mul(16));
    let mut reader = reader();
    reader.limits(image_limits);
    let decoded = reader.decode().map_err(decode_err)?;
    if decoded.width() != width || decoded.height() != height {
        return Err(RenderError::ImageDecode {
            what,
            reason: "size changed while decoding".into(),
        });
    }
    let mut rgba = decoded.into_rgba8().into_raw();
    premultiply_in_place(&mut rgba);
    let size = IntSize::from_wh(width, height).ok_or(RenderError::EmptyImage { what })?;
    Pixmap::from_vec(rgba, size).ok_or(RenderError::ImageDecode {
        what,
        reason: "bad pixel buffer".into(),
    })
}

fn premultiply_in_place(rgba: &mut [u8]) {
    for px in rgba.chunks_exact_mut(4) {
        let a = u16::from(px[3]);
        if a != 255 {
            for c in &mut px[..3] {
                *c = mul_div_255(u16::from(*c), a);
            }
        }
    }
}

/// Rounded `a * b / 255` for bytes.
#[inline]
pub(crate) fn mul_div_255(a: u16, b: u16) -> u8 {
    let t = a * b + 128;
    ((t + (t >> 8)) >> 8) as u8
}

fn check_size(width: u32, height: u32, limits: &DecodeLimits, what: &'static str) -> Result<()> {
    if width == 0 || height == 0 {
        return Err(RenderError::EmptyImage { what });
    }
    if u64::from(width) * u64::from(height) > limits.max_pixels
        || width > limits.max_dimension
        || height > limits.max_dimension
    {
        return Err(RenderError::ImageTooLarge {
            what,
            width,
            height,
            max_pixels: limits.max_pixels,
            max_dimension: limits.max_dimension,
        });
    }
    Ok(())
}

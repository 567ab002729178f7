//! Output formats and whole-image encoders (the spliced fast paths live in `jpeg_splice` and
//! `png_splice`; these are used for demo images and as the reference the fast paths are tested
//! against).
use tiny_skia::Pixmap;

use crate::Result;
use crate::error::RenderError;

/// Default JPEG quality.
pub const DEFAULT_JPEG_QUALITY: u8 = 90;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutputFormat {
    Png,
    Jpeg {
        quality: u8,
    },
    /// Lossless WebP.
    WebP,
}

impl OutputFormat {
    pub const JPEG: OutputFormat = OutputFormat::Jpeg {
        quality: DEFAULT_JPEG_QUALITY,
    };

    /// From a file extension (`png`, `jpg`, `jpeg`, `webp`; any case).
    pub fn from_extension(ext: &str) -> Option<OutputFormat> {
        match ext.to_ascii_lowercase().as_str() {
            "png" => Some(OutputFormat::Png),
            "jpg" | "jpeg" => Some(OutputFormat::JPEG),
            "webp" => Some(OutputFormat::WebP),
            _ => None,
        }
    }

    /// From a format name as used by `--format` and the API (`png`, `jpeg`/`jpg`, `webp`).
    pub fn from_name(name: &str) -> Result<OutputFormat> {
        Self::from_extension(name).ok_or_else(|| RenderError::UnknownFormat(name.to_owned()))
    }

    /// Same format with another JPEG quality (no effect on PNG/WebP).
    pub fn with_quality(self, quality: u8) -> Result<OutputFormat> {
        if !(1..=100).contains(&quality) {
            return Err(RenderError::InvalidQuality(quality));
        }
        Ok(match self {
            OutputFormat::Jpeg { .. } => OutputFormat::Jpeg { quality },
            other => other,
        })
    }

    pub fn extension(self) -> &'static str {
        match self {
            OutputFormat::Png => "png",
            OutputFormat::Jpeg { .. } => "jpg",
            OutputFormat::WebP => "webp",
        }
    }

    pub fn mime_type(self) -> &'static str {
        match self {
            OutputFormat::Png => "image/png",
            OutputFormat::Jpeg { .. } => "image/jpeg",
            OutputFormat::WebP => "image/webp",
        }
    }
}

pub(crate) fn is_opaque(premultiplied: &[u8]) -> bool {
    premultiplied.chunks_exact(4).all(|px| px[3] == 255)
}

/// Premultiplied RGBA -> RGB composited over white (JPEG has no alpha).
pub(crate) fn rgb_over_white(premultiplied: &[u8], out: &mut Vec<u8>) {
    out.reserve(premultiplied.len() / 4 * 3);
    for px in premultiplied.chunks_exact(4) {
        let inv = 255 - px[3];
        // Premultiplied c ≤ a, so c + (255 - a) ≤ 255.
        out.extend_from_slice(&[px[0] + inv, px[1] + inv, px[2] + inv]);
    }
}

/// Premultiplied RGBA -> RGB, for images known to be opaque.
pub(crate) fn rgb_from_opaque(premultiplied: &[u8], out: &mut Vec<u8>) {
    out.reserve(premultiplied.len() / 4 * 3);
    for px in premultiplied.chunks_exact(4) {
        out.extend_from_slice(&px[..3]);
    }
}

/// Premultiplied RGBA -> straight RGBA.
pub(crate) fn straight_rgba(premultiplied: &[u8], out: &mut Vec<u8>) {
    out.reserve(premultiplied.len());
    for px in premultiplied.chunks_exact(4) {
        let a = px[3];
        match a {
            255 => out.extend_from_slice(px),
            0 => out.extend_from_slice(&[0, 0, 0, 0]),
            _ => {
                let un =
                    |c: u8| ((u16::from(c) * 255 + u16::from(a) / 2) / u16::from(a)).min(255) as u8;
                out.extend_from_slice(&[un(px[0]), un(px[1]), un(px[2]), a]);
            }
        }
    }
}

/// Encodes a whole pixmap: PNG with png's fast (fdeflate) compression, JPEG with jpeg-encoder,
/// lossless WebP with the image crate.
pub fn encode_pixmap(pixmap: &Pixmap, format: OutputFormat) -> Result<Vec<u8>> {
    let (w, h) = (pixmap.width(), pixmap.height());
    let data = pixmap.data();
    let opaque = is_opaque(data);
    let mut out = Vec::new();
    match format {
        OutputFormat::Png => {
            let mut buf = Vec::new();
            let color = if opaque {
                rgb_from_opaque(data, &mut buf);
                png::ColorType::Rgb
            } else {
                straight_rgba(data, &mut buf);
                png::ColorType::Rgba
            };
            let mut encoder = png::Encoder::new(&mut out, w, h);
            encoder.set_color(color);
            encoder.set_depth(png::BitDepth::Eight);
            encoder.set_compression(png::Compression::Fast);
            encoder.set_filter(png::Filter::Adaptive);
            let enc_err = |e: png::EncodingError| RenderError::Encode(e.to_string());
            let mut writer = encoder.write_header().map_err(enc_err)?;
            writer.write_image_data(&buf).map_err(enc_err)?;
            writer.finish().map_err(enc_err)?;
        }
        OutputFormat::Jpeg { quality } => {
            let mut rgb = Vec::new();
            rgb_over_white(data, &mut rgb);
            encode_jpeg_rgb(&rgb, w, h, quality, 0, &mut out)?;
        }
        OutputFormat::WebP => {
            let mut buf = Vec::new();
            let color = if opaque {
                rgb_from_opaque(data, &mut buf);
                image::ExtendedColorType::Rgb8
            } else {
                straight_rgba(data, &mut buf);
                image::ExtendedColorType::Rgba8
            };
            image::codecs::webp::WebPEncoder::new_lossless(&mut out)
                .encode(&buf, w, h, color)
                .map_err(|e| RenderError::Encode(e.to_string()))?;
        }
    }
    Ok(out)
}

/// Baseline 4:2:0 JPEG with standard Huffman tables (so independently encoded pieces of one image
/// share tables) and the given restart interval in MCUs (0 = none).
pub(crate) fn encode_jpeg_rgb(
    rgb: &[u8],
    width: u32,
    height: u32,
    quality: u8,
    restart_interval: u16,
    out: &mut Vec<u8>,
) -> Result<()> {
    if !(1..=100).contains(&quality) {
        return Err(RenderError::InvalidQuality(quality));
    }
    let too_big = || RenderError::Encode(format!("{width}x{height} is too large for JPEG"));
    let w = u16::try_from(width).map_err(|_| too_big())?;
    let h = u16::try_from(height).map_err(|_| too_big())?;
    let mut encoder = jpeg_encoder::Encoder::new(out, quality);
    encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::R_4_2_0);
    encoder.set_restart_interval(restart_interval);
    encoder
        .encode(rgb, w, h, jpeg_encoder::ColorType::Rgb)
        .map_err(|e| RenderError::Encode(e.to_string()))
}

//! Small images for upload tests: real PNGs drawn with the image crate, the demo template
//! backgrounds, and a PNG that only claims a size (a decompression bomb).
use std::sync::OnceLock;

pub use image::ImageFormat;

/// `img` encoded as `format` (PNG, JPEG, WebP).
pub fn encode(img: image::DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, format).expect("encode image");
    out.into_inner()
}

/// A PNG of `width`×`height`: a 10% white frame, transparent inside (a typical overlay).
pub fn frame_png(width: u32, height: u32) -> Vec<u8> {
    let border = (width.min(height) / 10).max(1);
    let img = image::RgbaImage::from_fn(width, height, |x, y| {
        let edge = x < border || y < border || x >= width - border || y >= height - border;
        if edge {
            image::Rgba([255, 255, 255, 255])
        } else {
            image::Rgba([0, 0, 0, 0])
        }
    });
    encode(image::DynamicImage::ImageRgba8(img), ImageFormat::Png)
}

/// A photo: left half green, right half blue.
pub fn photo_png(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, _| {
        if x < width / 2 {
            image::Rgb([0, 200, 0])
        } else {
            image::Rgb([0, 0, 200])
        }
    });
    encode(image::DynamicImage::ImageRgb8(img), ImageFormat::Png)
}

/// A PNG whose header claims `width`×`height` (a decompression bomb needs no more to be caught).
pub fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend_from_slice(&13u32.to_be_bytes());
    png.extend_from_slice(&ihdr);
    png.extend_from_slice(&crc32(&ihdr).to_be_bytes());
    png.extend_from_slice(&[0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82]);
    png
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A background of the demo "Summer Sale" template (`square` 1080×1080, `portrait`
/// 1080×1350 PNG), drawn once per process.
pub fn demo_background(variant: &str) -> &'static [u8] {
    static IMAGES: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();
    let images = IMAGES.get_or_init(|| promostack_render::demo::demo_templates().remove(1).images);
    images
        .iter()
        .find(|(name, _)| name == variant)
        .unwrap_or_else(|| panic!("the demo template has no {variant} variant"))
        .1
        .as_slice()
}

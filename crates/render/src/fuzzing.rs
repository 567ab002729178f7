//! The body of the fuzz target (`fuzz/fuzz_targets/template_and_image.rs`), kept in the crate so
//! a regular test runs it over a corpus of malformed inputs on stable Rust.

use crate::{DecodeLimits, Font, OutputFormat, PreparedBackground, TemplateSpec, render};

/// Splits fuzz input into template JSON, image bytes and a code, and runs the whole pipeline.
/// Any outcome but a panic (or unbounded work) is fine: errors are expected. Returns how many
/// images were rendered, so tests can tell valid inputs went all the way through.
pub fn fuzz_template_and_image(data: &[u8]) -> usize {
    // Layout: [json_len: u16 LE][json][code_len: u8][code][image bytes...]
    let Some((len_bytes, rest)) = data.split_first_chunk::<2>() else {
        return 0;
    };
    let json_len = usize::from(u16::from_le_bytes(*len_bytes)).min(rest.len());
    let (json, rest) = rest.split_at(json_len);
    let Some((&code_len, rest)) = rest.split_first() else {
        return 0;
    };
    let code_len = usize::from(code_len).min(rest.len());
    let (code, image) = rest.split_at(code_len);
    let code = String::from_utf8_lossy(code);

    let Ok(spec) = TemplateSpec::from_json(json) else {
        return 0;
    };
    // Small limits keep each fuzz case fast; the logic under test is the same.
    let limits = DecodeLimits {
        max_bytes: 1 << 20,
        max_pixels: 1 << 20,
        max_dimension: 2048,
    };
    let font = Font::bundled();
    let mut rendered = 0;
    for variant in spec.variants.keys() {
        let Ok(background) =
            PreparedBackground::prepare(&spec, variant, image, Some(image), &limits)
        else {
            continue;
        };
        for format in [OutputFormat::Png, OutputFormat::JPEG, OutputFormat::WebP] {
            rendered += usize::from(render(&background, &spec.style, &font, &code, format).is_ok());
        }
    }
    rendered
}

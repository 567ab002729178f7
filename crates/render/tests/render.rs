//! Behaviour of the renderer through its public API: auto-fit, alignment, wrap, uppercase, logo,
//! encoders, cache and every kind of bad input.
use std::sync::Arc;

use promostack_render::{
    BackgroundCache, BoxSpec, CacheKey, DecodeLimits, Font, OutputFormat, PreparedBackground,
    RenderError, TemplateSpec, decode_image, demo, encode_pixmap, layout_text, render,
    render_pixmap,
};
use tiny_skia::{Color, Pixmap};

const BG: [u8; 4] = [40, 90, 160, 255];

fn solid_png(w: u32, h: u32, rgba: [u8; 4]) -> Vec<u8> {
    let mut p = Pixmap::new(w, h).unwrap();
    p.fill(Color::from_rgba8(rgba[0], rgba[1], rgba[2], rgba[3]));
    encode_pixmap(&p, OutputFormat::Png).unwrap()
}

/// Template JSON with the given text box; `overrides` (`,"key":value...`) replace style fields.
fn meta(text: &str, overrides: &str) -> String {
    let mut style: serde_json::Value = serde_json::json!({"color":"#FFFFFF","strokeColor":"#000000",
        "strokeWidth":0.08,"align":"center","maxFontSize":240,"uppercase":true});
    let extra: serde_json::Value =
        serde_json::from_str(&format!("{{{}}}", overrides.trim_start_matches(','))).unwrap();
    for (k, v) in extra.as_object().unwrap() {
        style[k] = v.clone();
    }
    format!(
        r#"{{"name":"T","slug":"t","style":{style},"variants":{{"square":{{"image":"square.png","text":{text}}}}}}}"#
    )
}

fn spec_with(text: &str, extra_style: &str) -> TemplateSpec {
    TemplateSpec::from_json(meta(text, extra_style).as_bytes()).unwrap()
}

fn prepared(spec: &TemplateSpec, w: u32, h: u32) -> PreparedBackground {
    PreparedBackground::prepare(
        spec,
        "square",
        &solid_png(w, h, BG),
        None,
        &DecodeLimits::default(),
    )
    .unwrap()
}

/// Bounding box (x0, y0, x1, y1 exclusive) of pixels that differ from the plain background.
fn changed_bounds(p: &Pixmap) -> Option<(u32, u32, u32, u32)> {
    let mut b: Option<(u32, u32, u32, u32)> = None;
    for y in 0..p.height() {
        for x in 0..p.width() {
            let px = p.pixel(x, y).unwrap();
            if [px.red(), px.green(), px.blue(), px.alpha()] != BG {
                b = Some(match b {
                    None => (x, y, x + 1, y + 1),
                    Some((x0, y0, x1, y1)) => (x0.min(x), y0.min(y), x1.max(x + 1), y1.max(y + 1)),
                });
            }
        }
    }
    b
}

fn inside(b: (u32, u32, u32, u32), bx: &BoxSpec) -> bool {
    b.0 >= bx.x && b.1 >= bx.y && b.2 <= bx.x + bx.width && b.3 <= bx.y + bx.height
}

#[test]
fn longest_and_shortest_codes_stay_inside_the_box_stroke_included_and_fill_it() {
    let font = Font::bundled();
    let boxes = [
        BoxSpec {
            x: 140,
            y: 700,
            width: 800,
            height: 180,
        },
        BoxSpec {
            x: 37,
            y: 51,
            width: 120,
            height: 400,
        },
        BoxSpec {
            x: 10,
            y: 10,
            width: 1000,
            height: 40,
        },
    ];
    let codes = [
        "I",
        "W",
        &"W".repeat(64),
        &"MW-".repeat(21),
        "gjpqy|ÅÉ",
        "漢字✓",
    ];
    for bx in boxes {
        let text = format!(
            r#"{{"x":{},"y":{},"width":{},"height":{}}}"#,
            bx.x, bx.y, bx.width, bx.height
        );
        for max_lines in [1, 3] {
            let spec = spec_with(
                &text,
                &format!(r#","maxLines":{max_lines},"strokeWidth":0.2"#),
            );
            let bg = prepared(&spec, 1080, 1080);
            for code in codes {
                let pixmap = render_pixmap(&bg, &spec.style, &font, code).unwrap();
                let ink = changed_bounds(&pixmap).expect("text was drawn");
                assert!(
                    inside(ink, &bx),
                    "{code:?} in {bx:?}: ink {ink:?} leaves the box"
                );
                // Maximal: unless capped by maxFontSize, the ink touches the box on some axis.
                let layout = layout_text(&font, &spec.style, &bx, code).unwrap();
                if layout.font_size < spec.style.max_font_size {
                    let gap_x = (ink.0 - bx.x) + (bx.x + bx.width - ink.2);
                    let gap_y = (ink.1 - bx.y) + (bx.y + bx.height - ink.3);
                    assert!(
                        gap_x <= 4 || gap_y <= 4,
                        "{code:?} in {bx:?} could be larger: ink {ink:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn max_font_size_caps_short_codes() {
    let font = Font::bundled();
    let spec = spec_with(
        r#"{"x":0,"y":0,"width":1000,"height":1000}"#,
        r#","maxFontSize":50"#,
    );
    let layout = layout_text(&font, &spec.style, &spec.variants["square"].text, "OK").unwrap();
    assert_eq!(layout.font_size, 50.0);
}

#[test]
fn alignment_puts_ink_at_the_left_centre_or_right_of_the_box() {
    let font = Font::bundled();
    let bx = BoxSpec {
        x: 100,
        y: 100,
        width: 800,
        height: 200,
    };
    let text = r#"{"x":100,"y":100,"width":800,"height":200}"#;
    let mut spans = Vec::new();
    for align in ["left", "center", "right"] {
        let spec = spec_with(
            text,
            &format!(r#","align":"{align}","maxFontSize":80,"strokeWidth":0"#),
        );
        let pixmap =
            render_pixmap(&prepared(&spec, 1000, 400), &spec.style, &font, "SHORT").unwrap();
        let ink = changed_bounds(&pixmap).unwrap();
        assert!(inside(ink, &bx));
        spans.push(ink);
    }
    let (left, center, right) = (spans[0], spans[1], spans[2]);
    assert!(left.0 <= bx.x + 3, "left-aligned ink starts at {}", left.0);
    assert!(
        right.2 >= bx.x + bx.width - 3,
        "right-aligned ink ends at {}",
        right.2
    );
    let centre = (center.0 + center.2) as i64;
    assert!(
        (centre - (2 * bx.x + bx.width) as i64).abs() <= 3,
        "centred ink spans {center:?}"
    );
    // Same text, same size: only the horizontal position differs.
    assert_eq!(left.2 - left.0, right.2 - right.0);
    assert_eq!((left.1, left.3), (right.1, right.3));
}

#[test]
fn text_is_centred_vertically() {
    let font = Font::bundled();
    let spec = spec_with(
        r#"{"x":0,"y":100,"width":400,"height":300}"#,
        r#","maxFontSize":60"#,
    );
    let pixmap = render_pixmap(&prepared(&spec, 400, 500), &spec.style, &font, "HOHO").unwrap();
    let ink = changed_bounds(&pixmap).unwrap();
    let top_gap = ink.1 as i64 - 100;
    let bottom_gap = 400 - ink.3 as i64;
    assert!(
        (top_gap - bottom_gap).abs() <= 2,
        "gaps {top_gap} / {bottom_gap}"
    );
}

#[test]
fn uppercase_option_changes_case() {
    let font = Font::bundled();
    let text = r#"{"x":0,"y":0,"width":600,"height":200}"#;
    let upper = spec_with(text, "");
    let keep = spec_with(text, r#","uppercase":false"#);
    let bg = prepared(&upper, 600, 200);
    let a = render_pixmap(&bg, &upper.style, &font, "save20").unwrap();
    let b = render_pixmap(&bg, &upper.style, &font, "SAVE20").unwrap();
    let c = render_pixmap(&bg, &keep.style, &font, "save20").unwrap();
    assert_eq!(a.data(), b.data());
    assert_ne!(a.data(), c.data());
    let layout = layout_text(&font, &keep.style, &keep.variants["square"].text, "save20").unwrap();
    assert_eq!(layout.lines, vec!["save20".to_string()]);
}

#[test]
fn long_codes_wrap_before_shrinking() {
    let font = Font::bundled();
    let text = r#"{"x":0,"y":0,"width":800,"height":400}"#;
    let one = spec_with(text, "");
    let two = spec_with(text, r#","maxLines":2"#);
    let code = "WELCOME BONUS EXTRA LONG CODE";
    let bx = one.variants["square"].text;
    let single = layout_text(&font, &one.style, &bx, code).unwrap();
    let wrapped = layout_text(&font, &two.style, &bx, code).unwrap();
    assert_eq!(single.lines.len(), 1);
    assert_eq!(
        wrapped.lines,
        vec!["WELCOME BONUS".to_string(), "EXTRA LONG CODE".to_string()]
    );
    assert!(
        wrapped.font_size > single.font_size * 1.3,
        "{} vs {}",
        wrapped.font_size,
        single.font_size
    );
    // A short code that fits at the maximum size stays on one line.
    let short = layout_text(&font, &two.style, &bx, "OK").unwrap();
    assert_eq!(short.lines.len(), 1);
    // Without spaces, a hyphenated code breaks after a hyphen.
    let hyphen = layout_text(&font, &two.style, &bx, "BLACKFRIDAY-2026-VIPCODE").unwrap();
    assert!(hyphen.lines[0].ends_with('-'), "{:?}", hyphen.lines);
}

#[test]
fn logo_is_scaled_to_fit_and_centred() {
    let json = r##"{"name":"T","variants":{"square":{"image":"a.png","text":{"x":0,"y":300,"width":400,"height":100},
        "logo":{"x":100,"y":50,"width":200,"height":200}}}}"##;
    let spec = TemplateSpec::from_json(json.as_bytes()).unwrap();
    let logo = solid_png(400, 100, [255, 0, 0, 255]);
    let bg = PreparedBackground::prepare(
        &spec,
        "square",
        &solid_png(400, 400, BG),
        Some(&logo),
        &DecodeLimits::default(),
    )
    .unwrap();
    let bounds = changed_bounds(bg.pixmap()).unwrap();
    // 400×100 into 200×200: 200×50, centred vertically at y 125..175.
    assert_eq!((bounds.0, bounds.2), (100, 300));
    assert!(
        (124..=126).contains(&bounds.1) && (174..=176).contains(&bounds.3),
        "{bounds:?}"
    );
    let centre = bg.pixmap().pixel(200, 150).unwrap();
    assert_eq!((centre.red(), centre.green(), centre.blue()), (255, 0, 0));
}

fn decoded_rgba(bytes: &[u8]) -> image::RgbaImage {
    image::load_from_memory(bytes).unwrap().to_rgba8()
}

#[test]
fn encoders_round_trip_and_match_the_composed_image() {
    let font = Font::bundled();
    let template = demo::demo_templates().remove(0);
    let (variant, png) = &template.images[0];
    let bg = PreparedBackground::prepare(
        &template.spec,
        variant,
        png,
        template.logo.as_deref(),
        &DecodeLimits::default(),
    )
    .unwrap();
    let style = &template.spec.style;
    for code in ["SAVE20", "BLACKFRIDAY-2026-VIP"] {
        let expected = render_pixmap(&bg, style, &font, code).unwrap();
        let expected_rgba = decoded_rgba(&encode_pixmap(&expected, OutputFormat::Png).unwrap());

        // PNG (spliced bands) and WebP (lossless) decode to exactly the composed pixels.
        for format in [OutputFormat::Png, OutputFormat::WebP] {
            let bytes = render(&bg, style, &font, code, format).unwrap();
            let got = decoded_rgba(&bytes);
            assert_eq!(got.dimensions(), (bg.width(), bg.height()));
            assert!(
                got == expected_rgba,
                "{format:?} pixels differ from the composed image"
            );
        }
        // JPEG (spliced restart intervals) is close to the composed pixels everywhere.
        let jpeg = render(&bg, style, &font, code, OutputFormat::JPEG).unwrap();
        assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
        let got = decoded_rgba(&jpeg);
        let mean_diff: f64 = got
            .as_raw()
            .iter()
            .zip(expected_rgba.as_raw())
            .map(|(a, b)| f64::from(a.abs_diff(*b)))
            .sum::<f64>()
            / got.as_raw().len() as f64;
        assert!(mean_diff < 3.0, "JPEG mean difference {mean_diff}");
        // And equal to a whole-image JPEG of the same pixels (up to restart markers).
        let whole = decoded_rgba(&encode_pixmap(&expected, OutputFormat::JPEG).unwrap());
        let max_diff = got
            .as_raw()
            .iter()
            .zip(whole.as_raw())
            .map(|(a, b)| a.abs_diff(*b))
            .max()
            .unwrap();
        assert!(
            max_diff <= 2,
            "spliced JPEG differs from a whole-image encode by {max_diff}"
        );
    }
    // Quality is honoured: lower quality, smaller file.
    let q90 = render(&bg, style, &font, "SAVE20", OutputFormat::JPEG).unwrap();
    let q50 = render(
        &bg,
        style,
        &font,
        "SAVE20",
        OutputFormat::JPEG.with_quality(50).unwrap(),
    )
    .unwrap();
    assert!(q50.len() < q90.len());
}

#[test]
fn transparent_backgrounds_keep_alpha_in_png() {
    let font = Font::bundled();
    let json = r##"{"name":"T","variants":{"square":{"image":"a.png","text":{"x":10,"y":10,"width":300,"height":100}}}}"##;
    let spec = TemplateSpec::from_json(json.as_bytes()).unwrap();
    let bg = PreparedBackground::prepare(
        &spec,
        "square",
        &solid_png(320, 200, [0, 0, 0, 0]),
        None,
        &DecodeLimits::default(),
    )
    .unwrap();
    let png = render(&bg, &spec.style, &font, "HI", OutputFormat::Png).unwrap();
    let img = decoded_rgba(&png);
    assert_eq!(img.get_pixel(0, 199).0[3], 0);
    assert!(img.pixels().any(|p| p.0[3] == 255));
}

#[test]
fn unsupported_glyphs_render_a_fallback_box() {
    let font = Font::bundled();
    let spec = spec_with(r#"{"x":0,"y":0,"width":400,"height":200}"#, "");
    let pixmap = render_pixmap(&prepared(&spec, 400, 200), &spec.style, &font, "漢").unwrap();
    assert!(
        changed_bounds(&pixmap).is_some(),
        "the .notdef box is drawn"
    );
}

#[test]
fn caller_supplied_fonts_are_used_and_bad_fonts_rejected() {
    let bytes = include_bytes!("../fonts/Inter-ExtraBold.otf").to_vec();
    let font = Font::from_bytes(bytes.clone()).unwrap();
    let spec = spec_with(r#"{"x":0,"y":0,"width":400,"height":200}"#, "");
    let bg = prepared(&spec, 400, 200);
    let a = render_pixmap(&bg, &spec.style, &font, "CODE").unwrap();
    let b = render_pixmap(&bg, &spec.style, &Font::bundled(), "CODE").unwrap();
    assert_eq!(a.data(), b.data());
    assert!(matches!(
        Font::from_bytes(b"not a font".to_vec()),
        Err(RenderError::InvalidFont(_))
    ));
    assert!(matches!(
        Font::from_bytes(bytes[..1000].to_vec()),
        Err(RenderError::InvalidFont(_))
    ));
}

#[test]
fn unknown_fields_survive_a_round_trip() {
    let json = r##"{"name":"T","slug":"t","futureField":{"a":1},"style":{"color":"#ff00AA80","shadow":true},
        "variants":{"square":{"image":"s.png","text":{"x":1,"y":2,"width":3,"height":4},"note":"keep me"}}}"##;
    let spec = TemplateSpec::from_json(json.as_bytes()).unwrap();
    let written: serde_json::Value = serde_json::from_slice(&spec.to_json()).unwrap();
    assert_eq!(written["futureField"]["a"], 1);
    assert_eq!(written["style"]["shadow"], true);
    assert_eq!(written["variants"]["square"]["note"], "keep me");
    assert_eq!(written["style"]["color"], "#ff00AA80");
    assert_eq!(TemplateSpec::from_json(&spec.to_json()).unwrap(), spec);
}

fn spec_error(json: &str) -> RenderError {
    TemplateSpec::from_json(json.as_bytes()).unwrap_err()
}

#[test]
fn bad_template_json_is_rejected_with_clear_errors() {
    let good_box = r#"{"x":0,"y":0,"width":10,"height":10}"#;
    let with_style = |style: &str| {
        format!(
            r#"{{"name":"T","style":{{{style}}},"variants":{{"square":{{"image":"a.png","text":{good_box}}}}}}}"#
        )
    };
    for colour in ["red", "#FFF", "#GGGGGG", "#1234567", "FFFFFF", ""] {
        let err = spec_error(&with_style(&format!(r#""color":"{colour}""#)));
        assert!(
            matches!(err, RenderError::InvalidColor { field: "color", .. }),
            "{colour}: {err}"
        );
        assert_eq!(err.code(), "invalid_color");
    }
    assert!(matches!(
        spec_error(&with_style(r##""strokeColor":"#12""##)),
        RenderError::InvalidColor {
            field: "strokeColor",
            ..
        }
    ));
    assert!(matches!(
        spec_error(&with_style(r#""strokeWidth":-1"#)),
        RenderError::InvalidStyle {
            field: "strokeWidth",
            ..
        }
    ));
    assert!(matches!(
        spec_error(&with_style(r#""maxFontSize":0"#)),
        RenderError::InvalidStyle {
            field: "maxFontSize",
            ..
        }
    ));
    assert!(matches!(
        spec_error(&with_style(r#""maxLines":9"#)),
        RenderError::InvalidStyle {
            field: "maxLines",
            ..
        }
    ));
    assert!(matches!(
        spec_error(&with_style(r#""font":"../x.ttf""#)),
        RenderError::InvalidStyle { field: "font", .. }
    ));
    let align = spec_error(&with_style(r#""align":"justify""#));
    assert!(
        matches!(&align, RenderError::InvalidJson(m) if m.contains("justify")),
        "{align}"
    );

    let zero = r#"{"name":"T","variants":{"square":{"image":"a.png","text":{"x":0,"y":0,"width":0,"height":10}}}}"#;
    assert!(matches!(spec_error(zero), RenderError::ZeroSizeBox { .. }));
    let zero_logo = format!(
        r#"{{"name":"T","variants":{{"square":{{"image":"a.png","text":{good_box},"logo":{{"x":0,"y":0,"width":5,"height":0}}}}}}}}"#
    );
    assert!(matches!(
        spec_error(&zero_logo),
        RenderError::ZeroSizeBox { .. }
    ));
    assert!(matches!(
        spec_error(r#"{"name":"T","variants":{}}"#),
        RenderError::NoVariants
    ));
    let traversal = format!(
        r#"{{"name":"T","variants":{{"square":{{"image":"../../etc/passwd","text":{good_box}}}}}}}"#
    );
    assert!(matches!(
        spec_error(&traversal),
        RenderError::InvalidImageName { .. }
    ));
    let bad_variant = format!(
        r#"{{"name":"T","variants":{{"Square Big":{{"image":"a.png","text":{good_box}}}}}}}"#
    );
    assert!(matches!(
        spec_error(&bad_variant),
        RenderError::InvalidVariantName(_)
    ));
    let negative = r#"{"name":"T","variants":{"square":{"image":"a.png","text":{"x":-5,"y":0,"width":10,"height":10}}}}"#;
    assert!(matches!(spec_error(negative), RenderError::InvalidJson(_)));
    assert!(matches!(
        spec_error("{not json"),
        RenderError::InvalidJson(_)
    ));
}

#[test]
fn boxes_outside_the_image_and_unknown_variants_are_rejected() {
    let spec = spec_with(r#"{"x":900,"y":0,"width":200,"height":10}"#, "");
    let err = PreparedBackground::prepare(
        &spec,
        "square",
        &solid_png(1000, 100, BG),
        None,
        &DecodeLimits::default(),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            RenderError::BoxOutsideImage {
                image_width: 1000,
                ..
            }
        ),
        "{err}"
    );
    let spec = spec_with(r#"{"x":0,"y":0,"width":10,"height":10}"#, "");
    let err = PreparedBackground::prepare(
        &spec,
        "story",
        &solid_png(100, 100, BG),
        None,
        &DecodeLimits::default(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, RenderError::UnknownVariant { available, .. } if available == "square"),
        "{err}"
    );
    assert_eq!(err.code(), "unknown_variant");
}

#[test]
fn bad_codes_are_rejected() {
    let font = Font::bundled();
    let spec = spec_with(r#"{"x":0,"y":0,"width":100,"height":100}"#, "");
    let bg = prepared(&spec, 100, 100);
    let check = |code: &str| render(&bg, &spec.style, &font, code, OutputFormat::Png).unwrap_err();
    assert_eq!(check(""), RenderError::EmptyCode);
    assert_eq!(check("   "), RenderError::EmptyCode);
    assert_eq!(check("AB\nCD"), RenderError::CodeControlChar);
    assert_eq!(check("AB\u{7}"), RenderError::CodeControlChar);
    assert_eq!(
        check(&"A".repeat(65)),
        RenderError::CodeTooLong { chars: 65, max: 64 }
    );
    assert!(render(&bg, &spec.style, &font, &"É".repeat(64), OutputFormat::Png).is_ok());
}

#[test]
fn bad_images_are_rejected_before_decoding() {
    let limits = DecodeLimits::default();
    let what = "background image";
    let err = |bytes: &[u8]| decode_image(bytes, &limits, what).unwrap_err();
    assert!(matches!(
        err(b"GIF89a......"),
        RenderError::UnsupportedImageFormat { .. }
    ));
    assert!(matches!(
        err(b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
        RenderError::UnsupportedImageFormat { .. }
    ));
    assert!(matches!(
        err(b""),
        RenderError::UnsupportedImageFormat { .. }
    ));

    // Truncated files of every format.
    let mut pixmap = Pixmap::new(300, 200).unwrap();
    let mut seed = 1u32;
    for b in pixmap.data_mut().chunks_exact_mut(4) {
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
        b.copy_from_slice(&[(seed >> 16) as u8, (seed >> 8) as u8, seed as u8, 255]);
    }
    for format in [OutputFormat::Png, OutputFormat::JPEG, OutputFormat::WebP] {
        let bytes = encode_pixmap(&pixmap, format).unwrap();
        assert!(decode_image(&bytes, &limits, what).is_ok());
        for cut in [bytes.len() / 3, bytes.len() * 2 / 3, bytes.len() - 3] {
            let e = decode_image(&bytes[..cut], &limits, what)
                .expect_err(&format!("{format:?} cut at {cut}"));
            assert!(
                matches!(e, RenderError::ImageDecode { .. }),
                "{format:?} cut at {cut}: {e}"
            );
        }
    }

    // A PNG header announcing 100 000 × 100 000 pixels: rejected from the header alone.
    let mut bomb = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    bomb.extend_from_slice(&13u32.to_be_bytes());
    bomb.extend_from_slice(&ihdr);
    bomb.extend_from_slice(&crc32fast::hash(&ihdr).to_be_bytes());
    assert!(matches!(
        err(&bomb),
        RenderError::ImageTooLarge { width: 100_000, .. }
    ));

    // Pixel and byte caps are configurable.
    let small = DecodeLimits {
        max_pixels: 10_000,
        ..DecodeLimits::default()
    };
    let png = solid_png(200, 200, BG);
    assert!(matches!(
        decode_image(&png, &small, what),
        Err(RenderError::ImageTooLarge { .. })
    ));
    let tiny = DecodeLimits {
        max_bytes: 10,
        ..DecodeLimits::default()
    };
    assert!(matches!(
        decode_image(&png, &tiny, what),
        Err(RenderError::InputTooLarge { .. })
    ));
}

#[test]
fn background_cache_hits_skip_decoding_and_stay_bounded() {
    let spec = spec_with(r#"{"x":0,"y":0,"width":100,"height":100}"#, "");
    let png = solid_png(200, 200, BG);
    let mut cache = BackgroundCache::new(2, usize::MAX);
    let mut decodes = 0;
    let mut get = |cache: &mut BackgroundCache, key: CacheKey| {
        cache
            .get_or_prepare(&key, || {
                decodes += 1;
                PreparedBackground::prepare(&spec, "square", &png, None, &DecodeLimits::default())
            })
            .unwrap()
    };
    let a1 = get(&mut cache, CacheKey::new("t1", 1, "square"));
    let a2 = get(&mut cache, CacheKey::new("t1", 1, "square"));
    assert!(Arc::ptr_eq(&a1, &a2));
    get(&mut cache, CacheKey::new("t1", 2, "square")); // new version: miss
    get(&mut cache, CacheKey::new("t2", 1, "square")); // evicts the least recently used (t1 v1)
    get(&mut cache, CacheKey::new("t1", 1, "square")); // miss again
    assert_eq!(decodes, 4);
    let stats = cache.stats();
    assert_eq!((stats.hits, stats.misses, stats.entries), (1, 4, 2));
    assert_eq!(stats.evictions, 2);

    // A byte budget smaller than two backgrounds keeps one entry.
    let mut small = BackgroundCache::new(10, 200 * 200 * 4 + 1);
    for v in 0..3 {
        small
            .get_or_prepare(&CacheKey::new("t", v, "square"), || {
                PreparedBackground::prepare(&spec, "square", &png, None, &DecodeLimits::default())
            })
            .unwrap();
    }
    assert_eq!(small.stats().entries, 1);
}

#[test]
fn output_formats_parse_from_names_and_extensions() {
    assert_eq!(
        OutputFormat::from_extension("JPG"),
        Some(OutputFormat::JPEG)
    );
    assert_eq!(
        OutputFormat::from_extension("jpeg"),
        Some(OutputFormat::Jpeg { quality: 90 })
    );
    assert_eq!(
        OutputFormat::from_extension("webp"),
        Some(OutputFormat::WebP)
    );
    assert_eq!(OutputFormat::from_extension("gif"), None);
    assert!(matches!(
        OutputFormat::from_name("bmp"),
        Err(RenderError::UnknownFormat(_))
    ));
    assert!(matches!(
        OutputFormat::JPEG.with_quality(0),
        Err(RenderError::InvalidQuality(0))
    ));
    assert_eq!(OutputFormat::Png.mime_type(), "image/png");
}

#[test]
fn demo_templates_are_valid_and_render_in_both_sizes() {
    let font = Font::bundled();
    let templates = demo::demo_templates();
    assert_eq!(templates.len(), 3);
    for t in &templates {
        t.spec.validate().unwrap();
        assert_eq!(t.images.len(), 2);
        for (variant, png) in &t.images {
            assert_eq!(t.spec.variants[variant].image, format!("{variant}.png"));
            let bg = PreparedBackground::prepare(
                &t.spec,
                variant,
                png,
                t.logo.as_deref(),
                &DecodeLimits::default(),
            )
            .unwrap();
            let expected = if variant == "square" {
                demo::SQUARE
            } else {
                demo::PORTRAIT
            };
            assert_eq!((bg.width(), bg.height()), expected);
            let bx = bg.text_box();
            let clean = bg.pixmap().clone();
            let drawn = render_pixmap(&bg, &t.spec.style, &font, "SAVE20").unwrap();
            // Text pixels only inside the text box.
            for y in 0..clean.height() {
                for x in 0..clean.width() {
                    if clean.pixel(x, y) != drawn.pixel(x, y) {
                        assert!(
                            x >= bx.x && x < bx.x + bx.width && y >= bx.y && y < bx.y + bx.height,
                            "{} {variant}: text pixel at {x},{y} outside {bx:?}",
                            t.spec.slug
                        );
                    }
                }
            }
        }
    }
}

//! Rough per-stage timing of one JPEG render (for tuning; criterion numbers are in the benches).
use std::time::Instant;

use promostack_render::{
    DecodeLimits, Font, OutputFormat, PreparedBackground, demo, encode_pixmap, layout_text, render,
};
use tiny_skia::Pixmap;

fn main() {
    let t = demo::demo_templates().remove(0);
    let (variant, png) = &t.images[1];
    let bg = PreparedBackground::prepare(
        &t.spec,
        variant,
        png,
        t.logo.as_deref(),
        &DecodeLimits::default(),
    )
    .unwrap();
    let font = Font::bundled();
    let style = &t.spec.style;
    render(&bg, style, &font, "X", OutputFormat::JPEG).unwrap();
    let n = 200;
    let start = Instant::now();
    for i in 0..n {
        std::hint::black_box(
            layout_text(&font, style, &bg.text_box(), &format!("SAVE{i}")).unwrap(),
        );
    }
    println!("layout {:?}", start.elapsed() / n);
    let start = Instant::now();
    for i in 0..n {
        std::hint::black_box(
            render(&bg, style, &font, &format!("SAVE{i}"), OutputFormat::JPEG).unwrap(),
        );
    }
    println!("render jpeg {:?}", start.elapsed() / n);
    let b = bg.text_box();
    let region = Pixmap::new(b.width.div_ceil(64) * 64, b.height.div_ceil(16) * 16).unwrap();
    let start = Instant::now();
    for _ in 0..n {
        std::hint::black_box(encode_pixmap(&region, OutputFormat::JPEG).unwrap());
    }
    let start = Instant::now();
    for i in 0..n {
        std::hint::black_box(
            promostack_render::render_pixmap(&bg, style, &font, &format!("SAVE{i}")).unwrap(),
        );
    }
    println!("full clone + draw {:?}", start.elapsed() / n);
    let mut no_stroke = style.clone();
    no_stroke.stroke_width = 0.0;
    let start = Instant::now();
    for i in 0..n {
        std::hint::black_box(
            promostack_render::render_pixmap(&bg, &no_stroke, &font, &format!("SAVE{i}")).unwrap(),
        );
    }
    println!("full clone + draw without stroke {:?}", start.elapsed() / n);
    let start = Instant::now();
    for _ in 0..n {
        std::hint::black_box(bg.pixmap().clone());
    }
    println!("full clone {:?}", start.elapsed() / n);
    println!(
        "jpeg encode of {}x{} region {:?}",
        region.width(),
        region.height(),
        start.elapsed() / n
    );
}

//! For scripts/bench/render_png_vs_pillow.py: renders codes on the demo square template (with
//! logo) and writes, per code, our PNG (`NNN.png`) and the same pixels raw (`NNN.rgb` or `.rgba`,
//! with `size.txt` giving width height channels), so Pillow can encode identical buffers.
use std::path::PathBuf;

use promostack_render::{
    DecodeLimits, Font, OutputFormat, PreparedBackground, demo, render, render_pixmap,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .ok_or("usage: dump_renders OUT_DIR [COUNT]")?,
    );
    let count: usize = std::env::args()
        .nth(2)
        .map(|c| c.parse())
        .transpose()?
        .unwrap_or(20);
    std::fs::create_dir_all(&out)?;
    let font = Font::bundled();
    for template in demo::demo_templates() {
        let slug = &template.spec.slug;
        let png = &template
            .images
            .iter()
            .find(|(v, _)| v == "square")
            .ok_or("square")?
            .1;
        let bg = PreparedBackground::prepare(
            &template.spec,
            "square",
            png,
            template.logo.as_deref(),
            &DecodeLimits::default(),
        )?;
        for i in 0..count {
            let code = format!("PROMO-{i:03}-{}", slug.to_uppercase());
            let code = &code[..code.len().min(20)];
            let ours = render(&bg, &template.spec.style, &font, code, OutputFormat::Png)?;
            std::fs::write(out.join(format!("{slug}-{i:03}.png")), ours)?;
            let pixmap = render_pixmap(&bg, &template.spec.style, &font, code)?;
            // Demo backgrounds are opaque: raw RGB is exactly what our PNG holds.
            let rgb: Vec<u8> = pixmap
                .data()
                .chunks_exact(4)
                .flat_map(|p| [p[0], p[1], p[2]])
                .collect();
            std::fs::write(out.join(format!("{slug}-{i:03}.rgb")), rgb)?;
        }
    }
    std::fs::write(
        out.join("size.txt"),
        format!("{} {} 3\n", demo::SQUARE.0, demo::SQUARE.1),
    )?;
    Ok(())
}

//! Writes every demo template, rendered with a few sample codes in every format, to a directory
//! (default `target/demo-renders`), for looking at the output by eye.
use std::path::PathBuf;

use promostack_render::{DecodeLimits, Font, OutputFormat, PreparedBackground, demo, render};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "target/demo-renders".into()),
    );
    std::fs::create_dir_all(&out)?;
    let font = Font::bundled();
    let codes = [
        "SAVE20",
        "BLACKFRIDAY-2026-VIP",
        "welcome bonus extra long code 50 off",
        "Ünïcødé✓漢字",
    ];
    for template in demo::demo_templates() {
        for (variant, png) in &template.images {
            let slug = &template.spec.slug;
            std::fs::write(out.join(format!("{slug}-{variant}-background.png")), png)?;
            let bg = PreparedBackground::prepare(
                &template.spec,
                variant,
                png,
                template.logo.as_deref(),
                &DecodeLimits::default(),
            )?;
            for (i, code) in codes.iter().enumerate() {
                for format in [OutputFormat::Png, OutputFormat::JPEG, OutputFormat::WebP] {
                    let bytes = render(&bg, &template.spec.style, &font, code, format)?;
                    std::fs::write(
                        out.join(format!("{slug}-{variant}-{i}.{}", format.extension())),
                        bytes,
                    )?;
                }
            }
        }
    }
    println!("wrote {}", out.display());
    Ok(())
}

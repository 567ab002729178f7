//! Rendering benchmarks (numbers in docs/performance.md, "Rendering").
//!
//! The contract case: 200 codes rendered in bulk on a 1080×1080 template with a logo, one
//! thread, background prepared once (as `promostack render --codes-file` and the server's cache
//! do). Run with `cargo bench -p promostack-render`.
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use promostack_render::{
    DecodeLimits, Font, OutputFormat, PreparedBackground, demo, layout_text, render,
};

fn codes() -> Vec<String> {
    (0..200)
        .map(|i| match i % 4 {
            0 => format!("SAVE{i}"),
            1 => format!("BLACKFRIDAY-{i:04}"),
            2 => format!("VIP{i}X{}", i * 7919 % 10_000),
            _ => format!("WELCOME BONUS {i}"),
        })
        .collect()
}

fn bulk(c: &mut Criterion) {
    let template = demo::demo_templates().remove(0);
    let (variant, png) = template
        .images
        .iter()
        .find(|(v, _)| v == "square")
        .expect("square variant");
    let background = PreparedBackground::prepare(
        &template.spec,
        variant,
        png,
        template.logo.as_deref(),
        &DecodeLimits::default(),
    )
    .expect("demo template prepares");
    let font = Font::bundled();
    let style = &template.spec.style;
    let codes = codes();

    let mut group = c.benchmark_group("bulk_200_codes_1080_square_with_logo");
    group.sample_size(10);
    group.throughput(Throughput::Elements(codes.len() as u64));
    for (name, format) in [
        ("jpeg_q90", OutputFormat::JPEG),
        ("png", OutputFormat::Png),
        ("webp_lossless", OutputFormat::WebP),
    ] {
        // First render builds the per-background encoder cache, as the first code of a bulk run does.
        render(&background, style, &font, "WARMUP", format).expect("renders");
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut bytes = 0;
                for code in &codes {
                    bytes += render(&background, style, &font, code, format)
                        .expect("renders")
                        .len();
                }
                bytes
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("per_background");
    group.sample_size(10);
    group.bench_function("prepare_decode_png_and_logo", |b| {
        b.iter(|| {
            PreparedBackground::prepare(
                &template.spec,
                variant,
                png,
                template.logo.as_deref(),
                &DecodeLimits::default(),
            )
            .expect("prepares")
        })
    });
    group.bench_function("first_jpeg_render_including_base_encode", |b| {
        b.iter_batched(
            || {
                PreparedBackground::prepare(
                    &template.spec,
                    variant,
                    png,
                    template.logo.as_deref(),
                    &DecodeLimits::default(),
                )
                .expect("prepares")
            },
            |bg| render(&bg, style, &font, "SAVE20", OutputFormat::JPEG).expect("renders"),
            criterion::BatchSize::LargeInput,
        )
    });
    group.bench_function("first_png_render_including_base_compress", |b| {
        b.iter_batched(
            || {
                PreparedBackground::prepare(
                    &template.spec,
                    variant,
                    png,
                    template.logo.as_deref(),
                    &DecodeLimits::default(),
                )
                .expect("prepares")
            },
            |bg| render(&bg, style, &font, "SAVE20", OutputFormat::Png).expect("renders"),
            criterion::BatchSize::LargeInput,
        )
    });
    group.finish();

    c.bench_function("layout_only", |b| {
        let text_box = background.text_box();
        b.iter(|| layout_text(&font, style, &text_box, "BLACKFRIDAY-2026-VIP").expect("lays out"))
    });
}

criterion_group!(benches, bulk);
criterion_main!(benches);

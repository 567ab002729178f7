//! Times the bulk contract case (200 codes, demo "Black Friday" square 1080×1080 with logo, one
//! thread) per output format, for profiling with `perf record` and quick before/after checks:
//! `cargo run --release -p promostack-render --example bulk_timing -- [jpeg|png|webp] [ROUNDS]`.
use std::time::Instant;

use promostack_render::{DecodeLimits, Font, OutputFormat, PreparedBackground, demo, render};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let format = OutputFormat::from_name(&std::env::args().nth(1).unwrap_or("jpeg".into()))?;
    let rounds: usize = std::env::args()
        .nth(2)
        .map(|r| r.parse())
        .transpose()?
        .unwrap_or(20);
    let template = demo::demo_templates().remove(0);
    let (variant, png) = template
        .images
        .iter()
        .find(|(v, _)| v == "square")
        .ok_or("square variant")?;
    let background = PreparedBackground::prepare(
        &template.spec,
        variant,
        png,
        template.logo.as_deref(),
        &DecodeLimits::default(),
    )?;
    let font = Font::bundled();
    let style = &template.spec.style;
    // The same codes as the criterion bench.
    let codes: Vec<String> = (0..200)
        .map(|i| match i % 4 {
            0 => format!("SAVE{i}"),
            1 => format!("BLACKFRIDAY-{i:04}"),
            2 => format!("VIP{i}X{}", i * 7919 % 10_000),
            _ => format!("WELCOME BONUS {i}"),
        })
        .collect();
    render(&background, style, &font, "WARMUP", format)?;
    let mut best = f64::INFINITY;
    let mut best_cpu = f64::INFINITY;
    let mut bytes = 0usize;
    for _ in 0..rounds {
        let (start, cpu_start) = (Instant::now(), thread_cpu_seconds());
        for code in &codes {
            bytes += render(&background, style, &font, code, format)?.len();
        }
        best = best.min(start.elapsed().as_secs_f64());
        best_cpu = best_cpu.min(thread_cpu_seconds() - cpu_start);
    }
    let n = codes.len() as f64;
    // On a shared machine the wall clock includes time other processes held the core; the
    // thread's own CPU time (Linux schedstat) does not.
    println!(
        "{format:?}: best of {rounds} rounds: wall {:.3} ms/image, on-CPU {:.3} ms/image (avg {} bytes)",
        best * 1e3 / n,
        best_cpu * 1e3 / n,
        bytes / (rounds * codes.len())
    );
    Ok(())
}

/// This thread's CPU time from `/proc/thread-self/schedstat` (NaN elsewhere).
fn thread_cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(f64::NAN, |ns| ns / 1e9)
}

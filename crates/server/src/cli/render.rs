//! `promostack render`: renders coupon images from a template directory (docs/design.md §7).
//!
//! Single: `--template DIR --variant square --code CODE --out FILE` (format from the extension).
//! Bulk: `--codes-file F --out-dir D [--format png|jpeg|webp]`, one image per line of F named by
//! its zero-based line number (`00000.jpg`, ...), all in one process so the background is decoded
//! and encoded once.
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use promostack_render::{
    DecodeLimits, Font, OutputFormat, PreparedBackground, TemplateSpec, render,
};

#[derive(Debug, clap::Args)]
pub struct RenderArgs {
    /// Template directory: meta.json, the images it names and an optional logo.png.
    #[arg(long, value_name = "DIR")]
    pub template: PathBuf,
    /// Variant to render (e.g. square, portrait).
    #[arg(long, default_value = "square")]
    pub variant: String,
    /// The coupon code (single image).
    #[arg(long, conflicts_with = "codes_file", requires = "out")]
    pub code: Option<String>,
    /// Output file for a single image; the format follows the extension (.png .jpg .jpeg .webp).
    #[arg(long, value_name = "FILE", conflicts_with = "out_dir")]
    pub out: Option<PathBuf>,
    /// File with one code per line (bulk); blank lines are skipped but keep their number.
    #[arg(long, value_name = "FILE", requires = "out_dir")]
    pub codes_file: Option<PathBuf>,
    /// Output directory for bulk rendering (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// Bulk output format.
    #[arg(long, default_value = "png", value_parser = ["png", "jpeg", "jpg", "webp"])]
    pub format: String,
    /// JPEG quality (1-100).
    #[arg(long, default_value_t = 90, value_parser = clap::value_parser!(u8).range(1..=100))]
    pub quality: u8,
}

/// Largest meta.json / codes file read.
const MAX_META_BYTES: u64 = 1024 * 1024;
const MAX_CODES_FILE_BYTES: u64 = 64 * 1024 * 1024;

fn read_limited(path: &Path, max: u64, what: &str) -> anyhow::Result<Vec<u8>> {
    let meta =
        std::fs::metadata(path).with_context(|| format!("reading {what} {}", path.display()))?;
    if !meta.is_file() {
        bail!("{what} {} is not a file", path.display());
    }
    if meta.len() > max {
        bail!(
            "{what} {} is {} bytes (at most {max} allowed)",
            path.display(),
            meta.len()
        );
    }
    std::fs::read(path).with_context(|| format!("reading {what} {}", path.display()))
}

struct Loaded {
    spec: TemplateSpec,
    background: PreparedBackground,
    font: std::sync::Arc<Font>,
}

fn load_template(dir: &Path, variant: &str) -> anyhow::Result<Loaded> {
    let limits = DecodeLimits::default();
    let meta_path = dir.join("meta.json");
    let meta = read_limited(&meta_path, MAX_META_BYTES, "template file")?;
    let spec =
        TemplateSpec::from_json(&meta).with_context(|| format!("{}", meta_path.display()))?;
    let variant_spec = spec.variant(variant)?;
    let image_path = dir.join(&variant_spec.image);
    let image = read_limited(&image_path, limits.max_bytes as u64, "background image")?;
    let logo_path = dir.join("logo.png");
    let logo = if variant_spec.logo.is_some() && logo_path.is_file() {
        Some(read_limited(&logo_path, limits.max_bytes as u64, "logo")?)
    } else {
        None
    };
    let background = PreparedBackground::prepare(&spec, variant, &image, logo.as_deref(), &limits)
        .with_context(|| format!("template {}", dir.display()))?;
    let font = match &spec.style.font {
        Some(name) => {
            let path = dir.join(name);
            let bytes = read_limited(&path, 20 * 1024 * 1024, "font")?;
            std::sync::Arc::new(
                Font::from_bytes(bytes).with_context(|| format!("font {}", path.display()))?,
            )
        }
        None => Font::bundled(),
    };
    Ok(Loaded {
        spec,
        background,
        font,
    })
}

pub fn run(args: RenderArgs) -> anyhow::Result<()> {
    match (&args.code, &args.out, &args.codes_file, &args.out_dir) {
        (Some(code), Some(out), None, None) => run_single(&args, code, out),
        (None, None, Some(codes), Some(out_dir)) => run_bulk(&args, codes, out_dir),
        _ => bail!("use either --code CODE --out FILE, or --codes-file FILE --out-dir DIR"),
    }
}

fn run_single(args: &RenderArgs, code: &str, out: &Path) -> anyhow::Result<()> {
    let ext = out.extension().and_then(|e| e.to_str()).unwrap_or("");
    let format = OutputFormat::from_extension(ext)
        .with_context(|| {
            format!(
                "cannot tell the format of {} (use .png, .jpg, .jpeg or .webp)",
                out.display()
            )
        })?
        .with_quality(args.quality)?;
    let loaded = load_template(&args.template, &args.variant)?;
    let bytes = render(
        &loaded.background,
        &loaded.spec.style,
        &loaded.font,
        code,
        format,
    )
    .with_context(|| format!("code {code:?}"))?;
    std::fs::write(out, bytes).with_context(|| format!("writing {}", out.display()))?;
    Ok(())
}

fn run_bulk(args: &RenderArgs, codes_file: &Path, out_dir: &Path) -> anyhow::Result<()> {
    let format = OutputFormat::from_name(&args.format)?.with_quality(args.quality)?;
    let text = String::from_utf8(read_limited(
        codes_file,
        MAX_CODES_FILE_BYTES,
        "codes file",
    )?)
    .with_context(|| format!("{} is not UTF-8 text", codes_file.display()))?;
    let loaded = load_template(&args.template, &args.variant)?;
    std::fs::create_dir_all(out_dir).with_context(|| format!("creating {}", out_dir.display()))?;

    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i, l.trim()))
        .filter(|(_, l)| !l.is_empty())
        .collect();
    if lines.is_empty() {
        bail!("{} has no codes", codes_file.display());
    }
    let progress = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(lines.len() as u64);
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {per_sec} eta {eta}")
        {
            bar.set_style(style);
        }
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut failures = Vec::new();
    for &(index, code) in &lines {
        let path = out_dir.join(format!("{index:05}.{}", format.extension()));
        match render(
            &loaded.background,
            &loaded.spec.style,
            &loaded.font,
            code,
            format,
        ) {
            Ok(bytes) => std::fs::write(&path, bytes)
                .with_context(|| format!("writing {}", path.display()))?,
            Err(err) => failures.push(format!("line {}: {err}", index + 1)),
        }
        progress.inc(1);
    }
    progress.finish_and_clear();
    if !failures.is_empty() {
        for failure in failures.iter().take(20) {
            eprintln!("{failure}");
        }
        bail!(
            "{} of {} codes could not be rendered (the other images were written to {})",
            failures.len(),
            lines.len(),
            out_dir.display()
        );
    }
    Ok(())
}

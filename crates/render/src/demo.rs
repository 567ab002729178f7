//! Demo templates drawn by code (no third-party images): the server seeds them into the demo
//! tenant, and tests and benchmarks use them so no binary images live in the repository.
use std::collections::BTreeMap;

use serde_json::Map;
use tiny_skia::{
    Color, FillRule, FilterQuality, GradientStop, LinearGradient, Paint, Path, PathBuilder,
    Pattern, Pixmap, Point, RadialGradient, Rect, Shader, SpreadMode, Stroke, StrokeDash,
    Transform,
};

use crate::encode::{OutputFormat, encode_pixmap};
use crate::font::Font;
use crate::layout::layout_text;
use crate::render::draw_text;
use crate::spec::{Align, BoxSpec, Style, TemplateSpec, VariantSpec};

/// A demo template: its spec and, per variant, the background PNG named in the spec.
pub struct DemoTemplate {
    pub spec: TemplateSpec,
    /// (variant name, PNG bytes); the spec's `image` for the variant is `"{variant}.png"`.
    pub images: Vec<(String, Vec<u8>)>,
    /// `logo.png` for templates that have a logo box.
    pub logo: Option<Vec<u8>>,
}

/// Square and portrait sizes of every demo template.
pub const SQUARE: (u32, u32) = (1080, 1080);
pub const PORTRAIT: (u32, u32) = (1080, 1350);

/// Three templates ("Black Friday", "Summer Sale", "VIP Welcome"), each square and portrait.
pub fn demo_templates() -> Vec<DemoTemplate> {
    vec![black_friday(), summer_sale(), vip_welcome()]
}

/// A brand mark to use as a demo logo (transparent PNG, 480×160).
pub fn demo_logo_png() -> Vec<u8> {
    encode_png(&demo_logo())
}

fn encode_png(pixmap: &Pixmap) -> Vec<u8> {
    encode_pixmap(pixmap, OutputFormat::Png).expect("encoding a demo pixmap cannot fail")
}

fn rgba(hex: u32, alpha: f32) -> Color {
    Color::from_rgba8(
        (hex >> 16) as u8,
        (hex >> 8) as u8,
        hex as u8,
        (alpha.clamp(0.0, 1.0) * 255.0).round() as u8,
    )
}

fn solid(color: Color) -> Paint<'static> {
    Paint {
        shader: Shader::SolidColor(color),
        anti_alias: true,
        ..Paint::default()
    }
}

fn shader_paint(shader: Shader<'static>) -> Paint<'static> {
    Paint {
        shader,
        anti_alias: true,
        ..Paint::default()
    }
}

fn linear(x0: f32, y0: f32, x1: f32, y1: f32, stops: &[(f32, Color)]) -> Shader<'static> {
    let stops = stops
        .iter()
        .map(|&(p, c)| GradientStop::new(p, c))
        .collect();
    LinearGradient::new(
        Point::from_xy(x0, y0),
        Point::from_xy(x1, y1),
        stops,
        SpreadMode::Pad,
        Transform::identity(),
    )
    .expect("demo gradient is valid")
}

fn radial(cx: f32, cy: f32, r: f32, stops: &[(f32, Color)]) -> Shader<'static> {
    let stops = stops
        .iter()
        .map(|&(p, c)| GradientStop::new(p, c))
        .collect();
    let centre = Point::from_xy(cx, cy);
    RadialGradient::new(
        centre,
        0.0,
        centre,
        r,
        stops,
        SpreadMode::Pad,
        Transform::identity(),
    )
    .expect("demo gradient is valid")
}

fn rounded_rect(x: f32, y: f32, w: f32, h: f32, r: f32) -> Path {
    let k = 0.552_284_8 * r;
    let mut pb = PathBuilder::new();
    pb.move_to(x + r, y);
    pb.line_to(x + w - r, y);
    pb.cubic_to(x + w - r + k, y, x + w, y + r - k, x + w, y + r);
    pb.line_to(x + w, y + h - r);
    pb.cubic_to(x + w, y + h - r + k, x + w - r + k, y + h, x + w - r, y + h);
    pb.line_to(x + r, y + h);
    pb.cubic_to(x + r - k, y + h, x, y + h - r + k, x, y + h - r);
    pb.line_to(x, y + r);
    pb.cubic_to(x, y + r - k, x + r - k, y, x + r, y);
    pb.close();
    pb.finish().expect("rounded rect is a valid path")
}

fn fill(pixmap: &mut Pixmap, path: &Path, paint: &Paint<'_>) {
    pixmap.fill_path(path, paint, FillRule::Winding, Transform::identity(), None);
}

fn fill_rect(pixmap: &mut Pixmap, x: f32, y: f32, w: f32, h: f32, paint: &Paint<'_>) {
    if let Some(rect) = Rect::from_xywh(x, y, w, h) {
        pixmap.fill_rect(rect, paint, Transform::identity(), None);
    }
}

fn circle(pixmap: &mut Pixmap, cx: f32, cy: f32, r: f32, paint: &Paint<'_>) {
    if let Some(path) = PathBuilder::from_circle(cx, cy, r) {
        fill(pixmap, &path, paint);
    }
}

fn dashed(pixmap: &mut Pixmap, path: &Path, color: Color, width: f32, dash: f32, gap: f32) {
    let stroke = Stroke {
        width,
        dash: StrokeDash::new(vec![dash, gap], 0.0),
        ..Stroke::default()
    };
    pixmap.stroke_path(path, &solid(color), &stroke, Transform::identity(), None);
}

/// Draws a text label auto-fitted into a box with the renderer's own layout.
#[allow(clippy::too_many_arguments)]
fn label(
    pixmap: &mut Pixmap,
    text: &str,
    bx: BoxSpec,
    color: Color,
    max_size: f32,
    align: Align,
    shadow: Option<Color>,
) {
    let font = Font::bundled();
    let style = Style {
        color: hex_string(color),
        stroke_color: "#000000".into(),
        stroke_width: 0.0,
        align,
        max_font_size: max_size,
        uppercase: false,
        max_lines: 1,
        font: None,
        extra: Map::new(),
    };
    let Ok(layout) = layout_text(&font, &style, &bx, text) else {
        return;
    };
    if let Some(shadow) = shadow {
        let mut shadow_style = style.clone();
        shadow_style.color = hex_string(shadow);
        let offset = (layout.font_size * 0.04).max(2.0);
        draw_text(
            pixmap,
            &layout,
            &shadow_style,
            Transform::from_translate(offset, offset),
        );
    }
    draw_text(pixmap, &layout, &style, Transform::identity());
}

fn hex_string(c: Color) -> String {
    let c = c.to_color_u8();
    format!(
        "#{:02X}{:02X}{:02X}{:02X}",
        c.red(),
        c.green(),
        c.blue(),
        c.alpha()
    )
}

fn bx(x: f32, y: f32, w: f32, h: f32) -> BoxSpec {
    BoxSpec {
        x: x.round() as u32,
        y: y.round() as u32,
        width: w.round() as u32,
        height: h.round() as u32,
    }
}

/// Deterministic pseudo-random numbers for decoration (xorshift).
struct Scatter(u64);

impl Scatter {
    fn next(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 40) as f32 / (1u64 << 24) as f32
    }
}

/// A coupon ticket: rounded card, punched notches on both sides (re-filled with the background
/// shader so they read as holes), dashed inner border.
fn ticket(pixmap: &mut Pixmap, rect: (f32, f32, f32, f32), card: &Paint<'_>, border: Color) {
    let (x, y, w, h) = rect;
    let snapshot = pixmap.clone();
    let background = &Paint {
        shader: Pattern::new(
            snapshot.as_ref(),
            SpreadMode::Pad,
            FilterQuality::Nearest,
            1.0,
            Transform::identity(),
        ),
        anti_alias: true,
        ..Paint::default()
    };
    let shadow = rounded_rect(x + 6.0, y + 14.0, w, h, 34.0);
    fill(pixmap, &shadow, &solid(rgba(0x000000, 0.28)));
    fill(pixmap, &rounded_rect(x, y, w, h, 34.0), card);
    let notch = h * 0.13;
    circle(pixmap, x, y + h / 2.0, notch, background);
    circle(pixmap, x + w, y + h / 2.0, notch, background);
    dashed(
        pixmap,
        &rounded_rect(x + 22.0, y + 22.0, w - 44.0, h - 44.0, 20.0),
        border,
        4.0,
        18.0,
        12.0,
    );
}

fn variants(
    square_text: BoxSpec,
    portrait_text: BoxSpec,
    logos: Option<(BoxSpec, BoxSpec)>,
) -> BTreeMap<String, VariantSpec> {
    let mut variants = BTreeMap::new();
    for (name, text, logo) in [
        ("square", square_text, logos.map(|l| l.0)),
        ("portrait", portrait_text, logos.map(|l| l.1)),
    ] {
        variants.insert(
            name.to_owned(),
            VariantSpec {
                image: format!("{name}.png"),
                text,
                logo,
                extra: Map::new(),
            },
        );
    }
    variants
}

fn spec(
    name: &str,
    slug: &str,
    style: Style,
    variants: BTreeMap<String, VariantSpec>,
) -> TemplateSpec {
    TemplateSpec {
        name: name.to_owned(),
        slug: slug.to_owned(),
        telegram_enabled: true,
        style,
        variants,
        extra: Map::new(),
    }
}

fn style(color: &str, stroke: &str, stroke_width: f32, max_font_size: f32, max_lines: u8) -> Style {
    Style {
        color: color.into(),
        stroke_color: stroke.into(),
        stroke_width,
        align: Align::Center,
        max_font_size,
        uppercase: true,
        max_lines,
        font: None,
        extra: Map::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// Black Friday: near-black purple, gold and magenta glows, confetti, a gold ticket.

fn black_friday_image(w: u32, h: u32) -> (Pixmap, BoxSpec, BoxSpec) {
    let (wf, hf) = (w as f32, h as f32);
    let mut p = Pixmap::new(w, h).expect("demo size is valid");
    let bg = shader_paint(linear(
        0.0,
        0.0,
        wf,
        hf,
        &[(0.0, rgba(0x1A1230, 1.0)), (1.0, rgba(0x0B0812, 1.0))],
    ));
    fill_rect(&mut p, 0.0, 0.0, wf, hf, &bg);
    let gold_glow = radial(
        wf * 0.85,
        hf * 0.12,
        wf * 0.7,
        &[(0.0, rgba(0xFFB800, 0.45)), (1.0, rgba(0xFFB800, 0.0))],
    );
    fill_rect(&mut p, 0.0, 0.0, wf, hf, &shader_paint(gold_glow));
    let pink_glow = radial(
        wf * 0.1,
        hf * 0.95,
        wf * 0.75,
        &[(0.0, rgba(0xFF2E88, 0.38)), (1.0, rgba(0xFF2E88, 0.0))],
    );
    fill_rect(&mut p, 0.0, 0.0, wf, hf, &shader_paint(pink_glow));

    let mut rng = Scatter(0x9E37_79B9_7F4A_7C15);
    let palette = [0xFFC21A, 0xFF2E88, 0xFFFFFF, 0x8B5CF6];
    for i in 0..160 {
        let (x, y) = (rng.next() * wf, rng.next() * hf);
        // Keep the headline and the ticket clear.
        if (0.12..0.88).contains(&(x / wf)) && (0.12..0.9).contains(&(y / hf)) {
            continue;
        }
        let size = 6.0 + rng.next() * 16.0;
        let color = rgba(palette[i % palette.len()], 0.25 + rng.next() * 0.5);
        let angle = rng.next() * 180.0;
        if i % 3 == 0 {
            circle(&mut p, x, y, size / 2.0, &solid(color));
        } else if let Some(rect) = Rect::from_xywh(-size, -size / 4.0, size * 2.0, size / 2.0) {
            let ts = Transform::from_rotate(angle).post_translate(x, y);
            p.fill_rect(rect, &solid(color), ts, None);
        }
    }

    let top = hf * 0.16;
    label(
        &mut p,
        "BLACK",
        bx(90.0, top, wf - 180.0, hf * 0.13),
        rgba(0xFFFFFF, 1.0),
        400.0,
        Align::Center,
        Some(rgba(0xFF2E88, 0.9)),
    );
    label(
        &mut p,
        "FRIDAY",
        bx(90.0, top + hf * 0.14, wf - 180.0, hf * 0.13),
        rgba(0xFFC21A, 1.0),
        400.0,
        Align::Center,
        Some(rgba(0xFF2E88, 0.9)),
    );
    label(
        &mut p,
        "UP TO 50% OFF EVERYTHING",
        bx(150.0, top + hf * 0.295, wf - 300.0, hf * 0.045),
        rgba(0xFFFFFF, 0.9),
        60.0,
        Align::Center,
        None,
    );

    let (tx, ty, tw, th) = (90.0, hf * 0.58, wf - 180.0, hf * 0.27);
    let card = shader_paint(linear(
        0.0,
        ty,
        0.0,
        ty + th,
        &[(0.0, rgba(0xFFD84D, 1.0)), (1.0, rgba(0xFFAA00, 1.0))],
    ));
    ticket(&mut p, (tx, ty, tw, th), &card, rgba(0x1A1230, 0.45));
    label(
        &mut p,
        "USE CODE AT CHECKOUT",
        bx(tx + 160.0, ty + 40.0, tw - 320.0, th * 0.12),
        rgba(0x1A1230, 0.85),
        40.0,
        Align::Center,
        None,
    );
    let text = bx(tx + 70.0, ty + 40.0 + th * 0.14, tw - 140.0, th * 0.62);
    label(
        &mut p,
        "Valid for 48 hours · One use per customer",
        bx(150.0, hf * 0.905, wf - 300.0, hf * 0.03),
        rgba(0xFFFFFF, 0.6),
        34.0,
        Align::Center,
        None,
    );
    let logo = bx(wf / 2.0 - 150.0, hf * 0.04, 300.0, hf * 0.085);
    (p, text, logo)
}

fn black_friday() -> DemoTemplate {
    let (sq, sq_text, sq_logo) = black_friday_image(SQUARE.0, SQUARE.1);
    let (po, po_text, po_logo) = black_friday_image(PORTRAIT.0, PORTRAIT.1);
    DemoTemplate {
        spec: spec(
            "Black Friday",
            "black-friday",
            style("#FFFFFF", "#1A1230", 0.09, 170.0, 2),
            variants(sq_text, po_text, Some((sq_logo, po_logo))),
        ),
        images: vec![
            ("square".into(), encode_png(&sq)),
            ("portrait".into(), encode_png(&po)),
        ],
        logo: Some(demo_logo_png()),
    }
}

// ---------------------------------------------------------------------------------------------
// Summer Sale: orange-to-pink sky, sun, waves, a white card with a dashed pink border.

fn wave(w: f32, base: f32, amp: f32, phase: f32, bottom: f32) -> Path {
    let mut pb = PathBuilder::new();
    pb.move_to(0.0, bottom);
    pb.line_to(0.0, base);
    let segments = 4;
    let seg = w / segments as f32;
    for i in 0..segments {
        let x0 = i as f32 * seg;
        let dir = if (i as f32 + phase) as i32 % 2 == 0 {
            -1.0
        } else {
            1.0
        };
        pb.cubic_to(
            x0 + seg * 0.35,
            base + dir * amp,
            x0 + seg * 0.65,
            base + dir * amp,
            x0 + seg,
            base,
        );
    }
    pb.line_to(w, bottom);
    pb.close();
    pb.finish().expect("wave is a valid path")
}

fn summer_sale_image(w: u32, h: u32) -> (Pixmap, BoxSpec) {
    let (wf, hf) = (w as f32, h as f32);
    let mut p = Pixmap::new(w, h).expect("demo size is valid");
    let sky = shader_paint(linear(
        0.0,
        0.0,
        0.0,
        hf,
        &[
            (0.0, rgba(0xFFB347, 1.0)),
            (0.55, rgba(0xFF6F61, 1.0)),
            (1.0, rgba(0xE83E8C, 1.0)),
        ],
    ));
    fill_rect(&mut p, 0.0, 0.0, wf, hf, &sky);
    let sun_glow = radial(
        wf * 0.8,
        hf * 0.17,
        wf * 0.45,
        &[(0.0, rgba(0xFFF3B0, 0.7)), (1.0, rgba(0xFFF3B0, 0.0))],
    );
    fill_rect(&mut p, 0.0, 0.0, wf, hf, &shader_paint(sun_glow));
    circle(
        &mut p,
        wf * 0.8,
        hf * 0.17,
        wf * 0.15,
        &shader_paint(radial(
            wf * 0.8,
            hf * 0.17,
            wf * 0.15,
            &[(0.0, rgba(0xFFF7CC, 1.0)), (1.0, rgba(0xFFD25A, 1.0))],
        )),
    );
    for (i, (alpha, offset)) in [(0.18, 0.0), (0.22, 0.045), (0.3, 0.09)].iter().enumerate() {
        let base = hf * (0.84 + offset);
        fill(
            &mut p,
            &wave(wf, base, hf * 0.025, i as f32, hf),
            &solid(rgba(0xFFFFFF, *alpha)),
        );
    }

    let shadow = Some(rgba(0xB8325E, 0.55));
    label(
        &mut p,
        "SUMMER",
        bx(80.0, hf * 0.09, wf * 0.62, hf * 0.12),
        rgba(0xFFFFFF, 1.0),
        300.0,
        Align::Left,
        shadow,
    );
    label(
        &mut p,
        "SALE",
        bx(80.0, hf * 0.22, wf * 0.5, hf * 0.15),
        rgba(0xFFFFFF, 1.0),
        300.0,
        Align::Left,
        shadow,
    );
    // Discount badge.
    let (cx, cy, r) = (wf * 0.76, hf * 0.4, wf * 0.12);
    circle(&mut p, cx + 6.0, cy + 10.0, r, &solid(rgba(0x7A1E48, 0.3)));
    circle(&mut p, cx, cy, r, &solid(rgba(0x2D1E5F, 1.0)));
    label(
        &mut p,
        "-30%",
        bx(cx - r * 0.75, cy - r * 0.45, r * 1.5, r * 0.6),
        rgba(0xFFD25A, 1.0),
        200.0,
        Align::Center,
        None,
    );
    label(
        &mut p,
        "ON ALL PLANS",
        bx(cx - r * 0.6, cy + r * 0.22, r * 1.2, r * 0.2),
        rgba(0xFFFFFF, 0.9),
        40.0,
        Align::Center,
        None,
    );
    label(
        &mut p,
        "Sunny deals for a limited time",
        bx(80.0, hf * 0.4, wf * 0.5, hf * 0.04),
        rgba(0xFFFFFF, 0.92),
        44.0,
        Align::Left,
        None,
    );

    let (tx, ty, tw, th) = (80.0, hf * 0.55, wf - 160.0, hf * 0.24);
    ticket(
        &mut p,
        (tx, ty, tw, th),
        &solid(rgba(0xFFFFFF, 1.0)),
        rgba(0xE83E8C, 0.8),
    );
    label(
        &mut p,
        "YOUR CODE",
        bx(tx + 200.0, ty + 38.0, tw - 400.0, th * 0.12),
        rgba(0xE83E8C, 1.0),
        40.0,
        Align::Center,
        None,
    );
    let text = bx(tx + 70.0, ty + 38.0 + th * 0.15, tw - 140.0, th * 0.6);
    (p, text)
}

fn summer_sale() -> DemoTemplate {
    let (sq, sq_text) = summer_sale_image(SQUARE.0, SQUARE.1);
    let (po, po_text) = summer_sale_image(PORTRAIT.0, PORTRAIT.1);
    DemoTemplate {
        spec: spec(
            "Summer Sale",
            "summer-sale",
            style("#2D1E5F", "#FFFFFF", 0.0, 160.0, 2),
            variants(sq_text, po_text, None),
        ),
        images: vec![
            ("square".into(), encode_png(&sq)),
            ("portrait".into(), encode_png(&po)),
        ],
        logo: None,
    }
}

// ---------------------------------------------------------------------------------------------
// VIP Welcome: deep teal trading-desk look, grid, candlesticks, a glowing code panel.

fn vip_welcome_image(w: u32, h: u32) -> (Pixmap, BoxSpec) {
    let (wf, hf) = (w as f32, h as f32);
    let mut p = Pixmap::new(w, h).expect("demo size is valid");
    let bg = shader_paint(linear(
        0.0,
        0.0,
        wf * 0.3,
        hf,
        &[(0.0, rgba(0x0E4A66, 1.0)), (1.0, rgba(0x050E17, 1.0))],
    ));
    fill_rect(&mut p, 0.0, 0.0, wf, hf, &bg);
    let grid = solid(rgba(0xFFFFFF, 0.05));
    let step = 60.0;
    let mut x = 0.0;
    while x < wf {
        fill_rect(&mut p, x, 0.0, 1.5, hf, &grid);
        x += step;
    }
    let mut y = 0.0;
    while y < hf {
        fill_rect(&mut p, 0.0, y, wf, 1.5, &grid);
        y += step;
    }
    // Candlesticks trending up across the lower third.
    let mut rng = Scatter(0x2545_F491_4F6C_DD1D);
    let mut price = hf * 0.93;
    let candles = 26;
    let cw = wf / candles as f32;
    for i in 0..candles {
        let drift = -hf * 0.011;
        let open = price;
        let close = price + drift + (rng.next() - 0.5) * hf * 0.05;
        let high = open.min(close) - rng.next() * hf * 0.02;
        let low = open.max(close) + rng.next() * hf * 0.02;
        let up = close < open;
        let color = if up {
            rgba(0x22E3A0, 0.22)
        } else {
            rgba(0xFF5C7A, 0.2)
        };
        let cx = i as f32 * cw + cw / 2.0;
        fill_rect(&mut p, cx - 1.5, high, 3.0, low - high, &solid(color));
        fill_rect(
            &mut p,
            cx - cw * 0.3,
            open.min(close),
            cw * 0.6,
            (open - close).abs().max(3.0),
            &solid(color),
        );
        price = close;
    }
    let glow = radial(
        wf * 0.5,
        hf * 0.3,
        wf * 0.6,
        &[(0.0, rgba(0x22E3A0, 0.18)), (1.0, rgba(0x22E3A0, 0.0))],
    );
    fill_rect(&mut p, 0.0, 0.0, wf, hf, &shader_paint(glow));

    // Crown-ish badge: three peaks.
    let (cx, cy, s) = (wf / 2.0, hf * 0.12, wf * 0.06);
    let mut pb = PathBuilder::new();
    pb.move_to(cx - s, cy + s * 0.6);
    pb.line_to(cx - s * 1.1, cy - s * 0.5);
    pb.line_to(cx - s * 0.45, cy);
    pb.line_to(cx, cy - s * 0.8);
    pb.line_to(cx + s * 0.45, cy);
    pb.line_to(cx + s * 1.1, cy - s * 0.5);
    pb.line_to(cx + s, cy + s * 0.6);
    pb.close();
    if let Some(crown) = pb.finish() {
        fill(
            &mut p,
            &crown,
            &shader_paint(linear(
                0.0,
                cy - s,
                0.0,
                cy + s,
                &[(0.0, rgba(0xFFE08A, 1.0)), (1.0, rgba(0xE0A526, 1.0))],
            )),
        );
    }

    label(
        &mut p,
        "WELCOME TO",
        bx(140.0, hf * 0.21, wf - 280.0, hf * 0.06),
        rgba(0xFFFFFF, 0.85),
        90.0,
        Align::Center,
        None,
    );
    label(
        &mut p,
        "VIP SIGNALS",
        bx(90.0, hf * 0.285, wf - 180.0, hf * 0.12),
        rgba(0x7CF5C8, 1.0),
        200.0,
        Align::Center,
        Some(rgba(0x000000, 0.35)),
    );
    label(
        &mut p,
        "Your exclusive discount code",
        bx(200.0, hf * 0.43, wf - 400.0, hf * 0.04),
        rgba(0xFFFFFF, 0.75),
        44.0,
        Align::Center,
        None,
    );

    let (tx, ty, tw, th) = (110.0, hf * 0.5, wf - 220.0, hf * 0.2);
    fill(
        &mut p,
        &rounded_rect(tx, ty, tw, th, 28.0),
        &solid(rgba(0x0A2233, 0.85)),
    );
    let border = Stroke {
        width: 5.0,
        ..Stroke::default()
    };
    let border_paint = shader_paint(linear(
        tx,
        0.0,
        tx + tw,
        0.0,
        &[(0.0, rgba(0x7CF5C8, 1.0)), (1.0, rgba(0x2BB0ED, 1.0))],
    ));
    p.stroke_path(
        &rounded_rect(tx, ty, tw, th, 28.0),
        &border_paint,
        &border,
        Transform::identity(),
        None,
    );
    let text = bx(tx + 50.0, ty + 30.0, tw - 100.0, th - 60.0);
    label(
        &mut p,
        "20% OFF YOUR FIRST MONTH",
        bx(160.0, ty + th + hf * 0.05, wf - 320.0, hf * 0.05),
        rgba(0xFFE08A, 1.0),
        60.0,
        Align::Center,
        None,
    );
    (p, text)
}

fn vip_welcome() -> DemoTemplate {
    let (sq, sq_text) = vip_welcome_image(SQUARE.0, SQUARE.1);
    let (po, po_text) = vip_welcome_image(PORTRAIT.0, PORTRAIT.1);
    DemoTemplate {
        spec: spec(
            "VIP Welcome",
            "vip-welcome",
            style("#FFFFFF", "#0E7A5F", 0.07, 150.0, 1),
            variants(sq_text, po_text, None),
        ),
        images: vec![
            ("square".into(), encode_png(&sq)),
            ("portrait".into(), encode_png(&po)),
        ],
        logo: None,
    }
}

// ---------------------------------------------------------------------------------------------

fn demo_logo() -> Pixmap {
    let (w, h) = (480u32, 160u32);
    let mut p = Pixmap::new(w, h).expect("logo size is valid");
    fill(
        &mut p,
        &rounded_rect(4.0, 4.0, w as f32 - 8.0, h as f32 - 8.0, 40.0),
        &solid(rgba(0xFFFFFF, 0.95)),
    );
    // A stack of three offset bars as the mark.
    for (i, color) in [0xFF2E88u32, 0xFFB800, 0x8B5CF6].iter().enumerate() {
        let y = 38.0 + i as f32 * 30.0;
        fill(
            &mut p,
            &rounded_rect(34.0 + i as f32 * 10.0, y, 80.0, 22.0, 11.0),
            &solid(rgba(*color, 1.0)),
        );
    }
    label(
        &mut p,
        "PromoStack",
        bx(146.0, 44.0, 300.0, 72.0),
        rgba(0x1A1230, 1.0),
        64.0,
        Align::Left,
        None,
    );
    p
}

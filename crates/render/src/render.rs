//! Composition: background (+ logo) prepared once, text drawn per code, encoded per format.
use std::sync::{Arc, Mutex, OnceLock};

use tiny_skia::{
    Color, FillRule, FilterQuality, IntSize, LineCap, LineJoin, Paint, Pixmap, PixmapPaint, Shader,
    Stroke, Transform,
};

use crate::Result;
use crate::decode::{DecodeLimits, decode_image};
use crate::encode::{OutputFormat, encode_pixmap, is_opaque};
use crate::error::RenderError;
use crate::font::Font;
use crate::jpeg_splice::JpegBase;
use crate::layout::{TextLayout, layout_text};
use crate::png_splice::PngBase;
use crate::raster::Coverage;
use crate::spec::{BoxSpec, Rgba, Style, TemplateSpec};

/// One variant's background with the logo composited, plus lazily built encoder caches.
/// Immutable after preparation and safe to share between threads behind an `Arc`.
pub struct PreparedBackground {
    variant: String,
    text_box: BoxSpec,
    pixmap: Pixmap,
    opaque: bool,
    jpeg: Mutex<Vec<Arc<JpegBase>>>,
    png: OnceLock<std::result::Result<Arc<PngBase>, RenderError>>,
}

impl std::fmt::Debug for PreparedBackground {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedBackground")
            .field("variant", &self.variant)
            .field("width", &self.pixmap.width())
            .field("height", &self.pixmap.height())
            .finish()
    }
}

/// Different JPEG qualities kept per background (each is a full encoded copy).
const MAX_JPEG_QUALITIES: usize = 3;

impl PreparedBackground {
    /// Decodes `background` (and `logo`, if any) for `variant` of `spec`, checks the boxes
    /// against the image and composites the logo into its box.
    pub fn prepare(
        spec: &TemplateSpec,
        variant: &str,
        background: &[u8],
        logo: Option<&[u8]>,
        limits: &DecodeLimits,
    ) -> Result<PreparedBackground> {
        spec.variant(variant)?;
        let pixmap = decode_image(background, limits, "background image")?;
        let logo = logo
            .map(|bytes| decode_image(bytes, &limits.for_logo(), "logo"))
            .transpose()?;
        Self::from_pixmaps(spec, variant, pixmap, logo.as_ref())
    }

    /// Same as [`prepare`](Self::prepare) with already decoded (premultiplied) pixmaps.
    pub fn from_pixmaps(
        spec: &TemplateSpec,
        variant: &str,
        mut pixmap: Pixmap,
        logo: Option<&Pixmap>,
    ) -> Result<PreparedBackground> {
        let variant_spec = spec.variant(variant)?;
        variant_spec.validate_against_image(variant, pixmap.width(), pixmap.height())?;
        if let (Some(logo), Some(logo_box)) = (logo, &variant_spec.logo) {
            draw_logo(&mut pixmap, logo, logo_box);
        }
        Ok(PreparedBackground {
            variant: variant.to_owned(),
            text_box: variant_spec.text,
            opaque: is_opaque(pixmap.data()),
            pixmap,
            jpeg: Mutex::new(Vec::new()),
            png: OnceLock::new(),
        })
    }

    pub fn variant(&self) -> &str {
        &self.variant
    }
    pub fn width(&self) -> u32 {
        self.pixmap.width()
    }
    pub fn height(&self) -> u32 {
        self.pixmap.height()
    }
    pub fn text_box(&self) -> BoxSpec {
        self.text_box
    }
    /// The composed background (premultiplied RGBA).
    pub fn pixmap(&self) -> &Pixmap {
        &self.pixmap
    }

    /// Approximate heap size, for cache budgets.
    pub fn memory_bytes(&self) -> usize {
        let jpeg: usize = self
            .jpeg
            .lock()
            .map(|v| v.iter().map(|b| b.memory_bytes()).sum())
            .unwrap_or(0);
        let png = match self.png.get() {
            Some(Ok(base)) => base.memory_bytes(),
            _ => 0,
        };
        self.pixmap.data().len() + jpeg + png
    }

    fn jpeg_base(&self, quality: u8) -> Result<Arc<JpegBase>> {
        let mut bases = self.jpeg.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(pos) = bases.iter().position(|b| b.quality == quality) {
            let base = bases.remove(pos);
            bases.push(base.clone());
            return Ok(base);
        }
        // Built under the lock: concurrent first renders of one background wait instead of
        // encoding it twice.
        let base = Arc::new(JpegBase::build(&self.pixmap, quality)?);
        if bases.len() >= MAX_JPEG_QUALITIES {
            bases.remove(0);
        }
        bases.push(base.clone());
        Ok(base)
    }

    fn png_base(&self) -> Result<Arc<PngBase>> {
        self.png
            .get_or_init(|| PngBase::build(&self.pixmap, self.opaque).map(Arc::new))
            .clone()
    }

    /// A copy of the background's `x0..x1 × y0..y1` with `layout` drawn in.
    fn compose_region(
        &self,
        layer: &TextLayer,
        x0: u32,
        y0: u32,
        x1: u32,
        y1: u32,
    ) -> Result<Pixmap> {
        let (w, h) = (x1 - x0, y1 - y0);
        let size =
            IntSize::from_wh(w, h).ok_or_else(|| RenderError::Encode("empty region".into()))?;
        let src_stride = self.pixmap.width() as usize * 4;
        let mut data = Vec::with_capacity(w as usize * h as usize * 4);
        for y in y0..y1 {
            let start = y as usize * src_stride + x0 as usize * 4;
            data.extend_from_slice(&self.pixmap.data()[start..start + w as usize * 4]);
        }
        let mut region =
            Pixmap::from_vec(data, size).ok_or_else(|| RenderError::Encode("bad region".into()))?;
        layer.composite(&mut region, x0, y0);
        Ok(region)
    }
}

fn color(c: Rgba) -> Color {
    Color::from_rgba8(c.r, c.g, c.b, c.a)
}

/// Outline first, then fill on top: the fill covers the inner half of the stroke, so only the
/// outer half shows and overlapping glyph strokes never cover a neighbouring glyph's fill.
pub(crate) fn draw_text(
    pixmap: &mut Pixmap,
    layout: &TextLayout,
    style: &Style,
    transform: Transform,
) {
    let Some(path) = &layout.path else { return };
    let mut paint = Paint {
        anti_alias: true,
        ..Paint::default()
    };
    let stroke_color = style.stroke();
    if layout.stroke_px > 0.0 && stroke_color.a > 0 {
        paint.shader = Shader::SolidColor(color(stroke_color));
        let stroke = Stroke {
            width: layout.stroke_px,
            line_join: LineJoin::Round,
            line_cap: LineCap::Round,
            ..Stroke::default()
        };
        pixmap.stroke_path(path, &paint, &stroke, transform, None);
    }
    paint.shader = Shader::SolidColor(color(style.fill()));
    pixmap.fill_path(path, &paint, FillRule::Winding, transform, None);
}

/// The code's coverage: an anti-aliased mask of the stroke and one of the fill over the text's
/// dirty area, blended straight into the target (stroke under fill, then over the background).
/// Every output blends this same layer with [`TextLayer::blend_row`], so PNG, JPEG, WebP and
/// [`render_pixmap`] agree exactly whatever part of the image each one re-encodes.
pub(crate) struct TextLayer {
    area: BoxSpec,
    /// Coverage over `area`; `None` when there is nothing to draw.
    stroke: Option<Coverage>,
    fill: Option<Coverage>,
    /// Premultiplied RGBA.
    stroke_color: [u32; 4],
    fill_color: [u32; 4],
}

/// `v / 255` rounded, exact for `v ≤ 255 × 255`.
#[inline(always)]
fn div255(v: u32) -> u32 {
    let v = v + 128;
    (v + (v >> 8)) >> 8
}

fn premultiplied(c: Rgba) -> [u32; 4] {
    let a = u32::from(c.a);
    [
        div255(u32::from(c.r) * a),
        div255(u32::from(c.g) * a),
        div255(u32::from(c.b) * a),
        a,
    ]
}

impl TextLayer {
    pub(crate) fn new(layout: &TextLayout, style: &Style, area: &BoxSpec) -> TextLayer {
        let mut layer = TextLayer {
            area: *area,
            stroke: None,
            fill: None,
            stroke_color: premultiplied(style.stroke()),
            fill_color: premultiplied(style.fill()),
        };
        let Some(path) = &layout.path else {
            return layer;
        };
        // Coverage masks from our own area rasteriser rather than tiny-skia painting: no
        // supersampling and no paint pipeline, and the blend below does stroke, fill and
        // background in one pass.
        let (dx, dy) = (-(area.x as f32), -(area.y as f32));
        if layout.stroke_px > 0.0 && style.stroke().a > 0 {
            let stroke = Stroke {
                width: layout.stroke_px,
                line_join: LineJoin::Round,
                line_cap: LineCap::Round,
                ..Stroke::default()
            };
            if let Some(outline) = path.stroke(&stroke, 1.0) {
                layer.stroke = Some(Coverage::fill(&outline, dx, dy, area.width, area.height));
            }
        }
        if style.fill().a > 0 {
            layer.fill = Some(Coverage::fill(path, dx, dy, area.width, area.height));
        }
        layer
    }

    /// A layer that draws nothing (tests of the encoders).
    #[cfg(test)]
    pub(crate) fn empty() -> TextLayer {
        TextLayer {
            area: BoxSpec {
                x: 0,
                y: 0,
                width: 1,
                height: 1,
            },
            stroke: None,
            fill: None,
            stroke_color: [0; 4],
            fill_color: [0; 4],
        }
    }

    /// The span of image columns the text touches in image row `y` (empty when none).
    fn span(&self, y: u32) -> (u32, u32) {
        let a = &self.area;
        if y < a.y || y >= a.y + a.height {
            return (0, 0);
        }
        let row = (y - a.y) as usize;
        let (mut start, mut end) = (u32::MAX, 0);
        for mask in [&self.stroke, &self.fill].into_iter().flatten() {
            let (s, e) = mask.spans[row];
            if s < e {
                start = start.min(a.x + s);
                end = end.max(a.x + e);
            }
        }
        if start < end { (start, end) } else { (0, 0) }
    }

    /// Whether any pixel of `x0..x1 × y0..y1` (image coordinates) is touched by the text.
    pub(crate) fn touches(&self, x0: u32, y0: u32, x1: u32, y1: u32) -> bool {
        (y0..y1).any(|y| {
            let (s, e) = self.span(y);
            s < e && s < x1 && e > x0
        })
    }

    /// Blends the text into `row`: premultiplied RGBA pixels of image row `y` starting at image
    /// column `x0`.
    #[inline]
    pub(crate) fn blend_row(&self, row: &mut [u8], x0: u32, y: u32) {
        let a = &self.area;
        let (span_start, span_end) = self.span(y);
        let row_px = (row.len() / 4) as u32;
        let (cx0, cx1) = (x0.max(span_start), (x0 + row_px).min(span_end));
        if cx0 >= cx1 {
            return;
        }
        let n = (cx1 - cx0) as usize;
        let offset = (y - a.y) as usize * a.width as usize + (cx0 - a.x) as usize;
        let zeros = [0u8; 0];
        let stroke = self
            .stroke
            .as_ref()
            .map_or(&zeros[..], |m| &m.data[offset..offset + n]);
        let fill = self
            .fill
            .as_ref()
            .map_or(&zeros[..], |m| &m.data[offset..offset + n]);
        let pixels = &mut row[(cx0 - x0) as usize * 4..][..n * 4];
        let (sc, fc) = (self.stroke_color, self.fill_color);
        let solid = |c: [u32; 4]| (c[3] == 255).then(|| [c[0] as u8, c[1] as u8, c[2] as u8, 255]);
        let (solid_stroke, solid_fill) = (solid(sc), solid(fc));
        for (i, px) in pixels.chunks_exact_mut(4).enumerate() {
            let ms = u32::from(stroke.get(i).copied().unwrap_or(0));
            let mf = u32::from(fill.get(i).copied().unwrap_or(0));
            // Most covered pixels are fully inside the fill or the stroke.
            match (ms, mf, solid_stroke, solid_fill) {
                (0, 0, _, _) => continue,
                (_, 255, _, Some(f)) | (255, 0, Some(f), _) => {
                    px.copy_from_slice(&f);
                    continue;
                }
                _ => {}
            }
            // Layer = fill over stroke (premultiplied), then layer over the pixel.
            let fa = div255(fc[3] * mf);
            let keep_stroke = 255 - fa;
            let la = fa + div255(div255(sc[3] * ms) * keep_stroke);
            let keep_dst = 255 - la;
            for c in 0..3 {
                let lc = div255(fc[c] * mf) + div255(div255(sc[c] * ms) * keep_stroke);
                px[c] = (lc + div255(u32::from(px[c]) * keep_dst)).min(255) as u8;
            }
            px[3] = (la + div255(u32::from(px[3]) * keep_dst)).min(255) as u8;
        }
    }

    /// Blends the text onto `target`, whose top-left pixel is (x0, y0) of the image.
    pub(crate) fn composite(&self, target: &mut Pixmap, x0: u32, y0: u32) {
        let stride = target.width() as usize * 4;
        for (r, row) in target.data_mut().chunks_exact_mut(stride).enumerate() {
            self.blend_row(row, x0, y0 + r as u32);
        }
    }
}

/// Halves a pixmap (2×2 box filter on premultiplied pixels).
fn downscale_half(src: &Pixmap) -> Option<Pixmap> {
    let (w, h) = ((src.width() / 2).max(1), (src.height() / 2).max(1));
    let mut dst = Pixmap::new(w, h)?;
    let (sw, sh) = (src.width() as usize, src.height() as usize);
    let s = src.data();
    let d = dst.data_mut();
    for y in 0..h as usize {
        for x in 0..w as usize {
            for c in 0..4 {
                let at = |xx: usize, yy: usize| {
                    u32::from(s[(yy.min(sh - 1) * sw + xx.min(sw - 1)) * 4 + c])
                };
                let sum = at(2 * x, 2 * y)
                    + at(2 * x + 1, 2 * y)
                    + at(2 * x, 2 * y + 1)
                    + at(2 * x + 1, 2 * y + 1);
                d[(y * w as usize + x) * 4 + c] = ((sum + 2) / 4) as u8;
            }
        }
    }
    Some(dst)
}

/// Scales `logo` to fit `logo_box` (aspect kept) and draws it centred in the box.
fn draw_logo(target: &mut Pixmap, logo: &Pixmap, logo_box: &BoxSpec) {
    let (bw, bh) = (logo_box.width as f32, logo_box.height as f32);
    // Halve large logos first: a single bicubic pass aliases when shrinking far.
    let mut source = None;
    loop {
        let current = source.as_ref().unwrap_or(logo);
        let scale = (bw / current.width() as f32).min(bh / current.height() as f32);
        if scale >= 0.5 || current.width() < 4 || current.height() < 4 {
            break;
        }
        match downscale_half(current) {
            Some(half) => source = Some(half),
            None => break,
        }
    }
    let logo = source.as_ref().unwrap_or(logo);
    let scale = (bw / logo.width() as f32).min(bh / logo.height() as f32);
    let (dw, dh) = (logo.width() as f32 * scale, logo.height() as f32 * scale);
    let tx = logo_box.x as f32 + (bw - dw) / 2.0;
    let ty = logo_box.y as f32 + (bh - dh) / 2.0;
    let paint = PixmapPaint {
        quality: FilterQuality::Bicubic,
        ..PixmapPaint::default()
    };
    target.draw_pixmap(
        0,
        0,
        logo.as_ref(),
        &paint,
        Transform::from_row(scale, 0.0, 0.0, scale, tx, ty),
        None,
    );
}

/// The pixels a layout can touch: its ink plus stroke, grown by two pixels and clipped to the
/// image. Only this area is re-encoded. The margin keeps the region's edges clear of ink, so
/// drawing into the region rasterises exactly as drawing into the whole image does.
fn dirty_area(layout: &TextLayout, text_box: &BoxSpec, width: u32, height: u32) -> BoxSpec {
    // Control-point bounds, not tight ones: when curves cross the region edge tiny-skia clips
    // them and anti-aliases a few pixels differently from a whole-image draw.
    let Some(ink) = layout.path_bounds_with_stroke() else {
        return BoxSpec {
            x: text_box.x,
            y: text_box.y,
            width: 1,
            height: 1,
        };
    };
    let clamp = |v: f32, max: u32| (v.max(0.0) as u32).min(max);
    let (x0, y0) = (
        clamp((ink.left() - 2.0).floor(), width),
        clamp((ink.top() - 2.0).floor(), height),
    );
    let (x1, y1) = (
        clamp((ink.right() + 2.0).ceil(), width),
        clamp((ink.bottom() + 2.0).ceil(), height),
    );
    BoxSpec {
        x: x0,
        y: y0,
        width: (x1 - x0).max(1),
        height: (y1 - y0).max(1),
    }
}

/// The full composed image for `code` (premultiplied RGBA).
pub fn render_pixmap(
    background: &PreparedBackground,
    style: &Style,
    font: &Font,
    code: &str,
) -> Result<Pixmap> {
    let layout = layout_text(font, style, &background.text_box, code)?;
    let area = dirty_area(
        &layout,
        &background.text_box,
        background.width(),
        background.height(),
    );
    let mut pixmap = background.pixmap.clone();
    TextLayer::new(&layout, style, &area).composite(&mut pixmap, 0, 0);
    Ok(pixmap)
}

/// Renders `code` onto `background` and encodes it. `style` is the template's style (validated
/// with the spec); `font` is the bundled font or the one the style names.
pub fn render(
    background: &PreparedBackground,
    style: &Style,
    font: &Font,
    code: &str,
    format: OutputFormat,
) -> Result<Vec<u8>> {
    let layout = layout_text(font, style, &background.text_box, code)?;
    let area = dirty_area(
        &layout,
        &background.text_box,
        background.width(),
        background.height(),
    );
    let layer = TextLayer::new(&layout, style, &area);
    match format {
        OutputFormat::Jpeg { quality } => {
            let base = background.jpeg_base(quality)?;
            Ok(base.render(&background.pixmap, &layer, &area))
        }
        OutputFormat::Png => {
            let base = background.png_base()?;
            let (first, last, y0, y1) = base.bands_for(&area);
            let region = background.compose_region(&layer, 0, y0, background.width(), y1)?;
            base.splice(first, last, region.data())
        }
        OutputFormat::WebP => {
            let mut pixmap = background.pixmap.clone();
            layer.composite(&mut pixmap, 0, 0);
            encode_pixmap(&pixmap, format)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::{encode_jpeg_rgb, rgb_over_white};

    fn assert_spliced_equals_whole(bg: &PreparedBackground, style: &Style, code: &str, what: &str) {
        let font = Font::bundled();
        for quality in [90, 55] {
            let format = OutputFormat::Jpeg { quality };
            let spliced = render(bg, style, &font, code, format).unwrap();
            let composed = render_pixmap(bg, style, &font, code).unwrap();
            let mut rgb = Vec::new();
            rgb_over_white(composed.data(), &mut rgb);
            let interval = bg.jpeg_base(quality).unwrap().interval;
            let mut whole = Vec::new();
            encode_jpeg_rgb(&rgb, bg.width(), bg.height(), quality, interval, &mut whole).unwrap();
            assert!(
                spliced == whole,
                "{what} {code:?} q{quality}: spliced JPEG differs from a whole-image encode"
            );
        }
    }

    /// The spliced JPEG is the whole composed image encoded with the same restart interval, byte
    /// for byte: untouched tiles come from the cache, touched ones are re-encoded identically.
    #[test]
    fn spliced_jpeg_is_byte_identical_to_a_whole_image_encode() {
        for template in crate::demo::demo_templates() {
            for (variant, png) in &template.images {
                let bg = PreparedBackground::prepare(
                    &template.spec,
                    variant,
                    png,
                    template.logo.as_deref(),
                    &DecodeLimits::default(),
                )
                .unwrap();
                let what = format!("{} {variant}", template.spec.slug);
                for code in ["SAVE20", "WELCOME BONUS 12", "Ünïcødé✓漢字", "I"] {
                    assert_spliced_equals_whole(&bg, &template.spec.style, code, &what);
                }
            }
        }
    }

    /// Noise and a translucent text colour: large coefficients of every size, long and short
    /// zero runs and many 0xFF bytes to stuff, in tiles coded by `jpeg_tiles`.
    #[test]
    fn spliced_jpeg_of_a_noisy_background_is_byte_identical() {
        let json = r##"{"name":"T","style":{"color":"#20C0F080","strokeColor":"#FFFFFF","strokeWidth":0.2},
            "variants":{"square":{"image":"a.png","text":{"x":10,"y":20,"width":300,"height":140}}}}"##;
        let spec = TemplateSpec::from_json(json.as_bytes()).unwrap();
        let (w, h) = (321, 177);
        let mut pixmap = Pixmap::new(w, h).unwrap();
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        for px in pixmap.data_mut().chunks_exact_mut(4) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let [r, g, b, ..] = seed.to_le_bytes();
            px.copy_from_slice(&[r, g, b, 255]);
        }
        let bg = PreparedBackground::from_pixmaps(&spec, "square", pixmap, None).unwrap();
        for code in ["NOISE 42", "MMMMWWWW"] {
            assert_spliced_equals_whole(&bg, &spec.style, code, "noise");
        }
    }

    /// Text reaching the right and bottom edges of an image whose size is not a multiple of the
    /// tile size: the re-encoded edge tiles are padded exactly as the whole-image encoder pads.
    #[test]
    fn spliced_jpeg_pads_edge_tiles_like_the_encoder() {
        for (w, h, text) in [
            (333, 201, r#"{"x":200,"y":120,"width":133,"height":81}"#),
            (1080, 1350, r#"{"x":0,"y":1200,"width":1080,"height":150}"#),
            (50, 30, r#"{"x":0,"y":0,"width":50,"height":30}"#),
        ] {
            let json = format!(
                r##"{{"name":"T","style":{{"color":"#FF2266","strokeColor":"#102030","strokeWidth":0.1}},
                "variants":{{"square":{{"image":"a.png","text":{text}}}}}}}"##
            );
            let spec = TemplateSpec::from_json(json.as_bytes()).unwrap();
            // A pattern, so that padding with the wrong pixels would change the bytes.
            let mut pixmap = Pixmap::new(w, h).unwrap();
            for (i, px) in pixmap.data_mut().chunks_exact_mut(4).enumerate() {
                let (x, y) = ((i as u32 % w) as u8, (i as u32 / w) as u8);
                px.copy_from_slice(&[x.wrapping_mul(7), y.wrapping_mul(5), x ^ y, 255]);
            }
            let bg = PreparedBackground::from_pixmaps(&spec, "square", pixmap, None).unwrap();
            for code in ["EDGE99", "W"] {
                assert_spliced_equals_whole(&bg, &spec.style, code, &format!("{w}x{h}"));
            }
        }
    }
}

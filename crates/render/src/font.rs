//! Fonts: shaping with harfrust, glyph outlines with skrifa, cached as tiny-skia paths in font
//! units (y pointing down) so layout is a matter of scaling and translating.
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use skrifa::instance::{LocationRef, Size};
use skrifa::outline::{DrawSettings, OutlinePen};
use skrifa::{FontRef, GlyphId, MetadataProvider};
use tiny_skia::{Path, PathBuilder, Rect};

use crate::Result;
use crate::error::RenderError;

/// Inter ExtraBold (SIL OFL 1.1, see `fonts/OFL.txt`): the font templates use unless they name
/// another.
static BUNDLED_FONT: &[u8] = include_bytes!("../fonts/Inter-ExtraBold.otf");

/// A parsed font plus a cache of its glyph outlines. Cheap to share behind an `Arc`.
pub struct Font {
    data: Arc<Vec<u8>>,
    shaping: harfrust::Font,
    units_per_em: f32,
    ascent: f32,
    descent: f32,
    leading: f32,
    cap_height: f32,
    outlines: Mutex<HashMap<u32, Option<Arc<GlyphOutline>>>>,
}

impl std::fmt::Debug for Font {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Font")
            .field("bytes", &self.data.len())
            .field("units_per_em", &self.units_per_em)
            .finish()
    }
}

/// One glyph's outline in font units, y down, with its tight ink bounds.
pub(crate) struct GlyphOutline {
    pub path: Path,
    pub bounds: Rect,
}

/// A shaped glyph: id and pen position in font units (y down, baseline at 0).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ShapedGlyph {
    pub id: u32,
    pub x: f32,
    pub y: f32,
    /// Byte offset of the source character (harfrust cluster).
    pub cluster: u32,
    pub advance: f32,
}

/// Largest font file accepted from a caller.
const MAX_FONT_BYTES: usize = 20 * 1024 * 1024;

impl Font {
    /// The bundled Inter ExtraBold, parsed once per process.
    pub fn bundled() -> Arc<Font> {
        static FONT: OnceLock<Arc<Font>> = OnceLock::new();
        FONT.get_or_init(|| {
            Arc::new(
                Font::from_bytes(BUNDLED_FONT.to_vec())
                    .expect("bundled font is a valid OpenType font"),
            )
        })
        .clone()
    }

    /// Parses a caller-supplied TrueType/OpenType font (e.g. an uploaded brand font).
    pub fn from_bytes(data: Vec<u8>) -> Result<Font> {
        if data.len() > MAX_FONT_BYTES {
            return Err(RenderError::InputTooLarge {
                what: "font",
                bytes: data.len(),
                max: MAX_FONT_BYTES,
            });
        }
        let font_ref = FontRef::new(&data).map_err(|e| RenderError::InvalidFont(e.to_string()))?;
        let metrics = font_ref.metrics(Size::unscaled(), LocationRef::default());
        if !(16..=16384).contains(&metrics.units_per_em) {
            return Err(RenderError::InvalidFont(format!(
                "unitsPerEm {} is out of range",
                metrics.units_per_em
            )));
        }
        if font_ref.outline_glyphs().format().is_none() {
            return Err(RenderError::InvalidFont(
                "the font has no glyph outlines".into(),
            ));
        }
        let upem = f32::from(metrics.units_per_em);
        let data = Arc::new(data);
        let blob: Arc<dyn AsRef<[u8]> + Send + Sync> = data.clone();
        let shaping = harfrust::Font::new(blob, 0)
            .ok_or_else(|| RenderError::InvalidFont("the shaper cannot read the font".into()))?;
        let sane = |v: f32, fallback: f32| {
            if v.is_finite() && v.abs() <= upem * 4.0 {
                v
            } else {
                fallback
            }
        };
        Ok(Font {
            shaping,
            ascent: sane(metrics.ascent, upem * 0.9),
            descent: sane(metrics.descent, -upem * 0.25),
            leading: sane(metrics.leading, 0.0).max(0.0),
            cap_height: sane(metrics.cap_height.unwrap_or(upem * 0.7), upem * 0.7),
            units_per_em: upem,
            data,
            outlines: Mutex::new(HashMap::new()),
        })
    }

    pub fn units_per_em(&self) -> f32 {
        self.units_per_em
    }

    /// Distance between baselines in font units, for `all_caps` text or mixed text.
    pub(crate) fn line_advance(&self, all_caps: bool) -> f32 {
        if all_caps {
            // Capitals have no descenders: a tighter block reads as one code.
            self.cap_height * 1.3
        } else {
            self.ascent - self.descent + self.leading
        }
    }

    /// Shapes one line of text (left to right, script guessed from the text).
    pub(crate) fn shape(&self, text: &str) -> Result<Vec<ShapedGlyph>> {
        let shaper = harfrust::ShaperFont::new(&self.shaping);
        let mut buffer = harfrust::Buffer::new();
        buffer.push_str(text);
        buffer.guess_segment_properties();
        harfrust::shape(&shaper, &mut buffer, harfrust::ShapeOptions::new())
            .map_err(|e| RenderError::Shaping(format!("{e:?}")))?;
        let mut pen_x = 0.0f32;
        let mut pen_y = 0.0f32;
        let glyphs = buffer
            .glyph_infos()
            .iter()
            .zip(buffer.glyph_positions())
            .map(|(info, pos)| {
                let glyph = ShapedGlyph {
                    id: info.glyph_id,
                    x: pen_x + pos.x_offset as f32,
                    // Font y points up; ours points down.
                    y: pen_y - pos.y_offset as f32,
                    cluster: info.cluster,
                    advance: pos.x_advance as f32,
                };
                pen_x += pos.x_advance as f32;
                pen_y -= pos.y_advance as f32;
                glyph
            })
            .collect();
        Ok(glyphs)
    }

    /// The outline of glyph `id`, or `None` for glyphs without ink (space). The `.notdef` glyph
    /// (what unsupported characters shape to) gets a drawn box when the font leaves it empty, so
    /// an unsupported character is always visible.
    pub(crate) fn outline(&self, id: u32, advance: f32) -> Option<Arc<GlyphOutline>> {
        let mut cache = self.outlines.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(hit) = cache.get(&id) {
            return hit.clone();
        }
        let outline = self
            .load_outline(id)
            .or_else(|| (id == 0).then(|| self.notdef_box(advance)).flatten());
        let outline = outline.map(Arc::new);
        // Bounded: a font has at most 65 536 glyphs, and codes use few of them.
        cache.insert(id, outline.clone());
        outline
    }

    fn load_outline(&self, id: u32) -> Option<GlyphOutline> {
        let font_ref = FontRef::new(&self.data).ok()?;
        let glyph = font_ref.outline_glyphs().get(GlyphId::new(id))?;
        let mut pen = PathPen {
            builder: PathBuilder::new(),
            open: false,
        };
        glyph
            .draw(
                DrawSettings::unhinted(Size::unscaled(), LocationRef::default()),
                &mut pen,
            )
            .ok()?;
        if pen.open {
            pen.builder.close();
        }
        let path = pen.builder.finish()?;
        let bounds = path.compute_tight_bounds()?;
        Some(GlyphOutline { path, bounds })
    }

    fn notdef_box(&self, advance: f32) -> Option<GlyphOutline> {
        let width = if advance > 0.0 {
            advance
        } else {
            self.units_per_em * 0.6
        };
        let (left, right) = (width * 0.1, width * 0.9);
        let (top, bottom) = (-self.cap_height, 0.0);
        let thickness = (self.units_per_em * 0.06).min((right - left) / 4.0);
        let mut pb = PathBuilder::new();
        pb.push_rect(Rect::from_ltrb(left, top, right, bottom)?);
        // Inner rectangle wound the other way makes the box hollow under the winding rule.
        let (il, it, ir, ib) = (
            left + thickness,
            top + thickness,
            right - thickness,
            bottom - thickness,
        );
        pb.move_to(il, it);
        pb.line_to(il, ib);
        pb.line_to(ir, ib);
        pb.line_to(ir, it);
        pb.close();
        let path = pb.finish()?;
        let bounds = path.compute_tight_bounds()?;
        Some(GlyphOutline { path, bounds })
    }
}

struct PathPen {
    builder: PathBuilder,
    open: bool,
}

impl OutlinePen for PathPen {
    fn move_to(&mut self, x: f32, y: f32) {
        if self.open {
            self.builder.close();
        }
        self.builder.move_to(x, -y);
        self.open = true;
    }
    fn line_to(&mut self, x: f32, y: f32) {
        self.builder.line_to(x, -y);
    }
    fn quad_to(&mut self, cx0: f32, cy0: f32, x: f32, y: f32) {
        self.builder.quad_to(cx0, -cy0, x, -y);
    }
    fn curve_to(&mut self, cx0: f32, cy0: f32, cx1: f32, cy1: f32, x: f32, y: f32) {
        self.builder.cubic_to(cx0, -cy0, cx1, -cy1, x, -y);
    }
    fn close(&mut self) {
        self.builder.close();
        self.open = false;
    }
}

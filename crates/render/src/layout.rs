//! Auto-fit: the largest font size (≤ `maxFontSize`) at which the inked text plus its outline
//! stroke fits the text box, optionally wrapping onto up to `maxLines` lines first.
//!
//! Everything scales linearly with the font size: at size `s` the inked block is
//! `s × (ink/upem + strokeWidth)` wide (a round-joined stroke reaches exactly half its width past
//! the outline), so the best size for a line split is a closed-form minimum, not a search.
use std::sync::Arc;

use tiny_skia::{Path, PathBuilder, Rect, Transform};

use crate::Result;
use crate::font::{Font, GlyphOutline, ShapedGlyph};
use crate::spec::{Align, BoxSpec, Style, validate_code};

/// Safety margin (pixels) kept between the ink and the box edge, so anti-aliased coverage from
/// float rounding never lands outside the box.
const EDGE_MARGIN: f32 = 0.5;

/// A laid-out code: the glyph outlines as one path in image pixel coordinates.
#[derive(Debug, Clone)]
pub struct TextLayout {
    /// Chosen font size in pixels (em size).
    pub font_size: f32,
    /// The lines the code was set in (after `uppercase`).
    pub lines: Vec<String>,
    /// Outline stroke width in pixels (`strokeWidth × font_size`).
    pub stroke_px: f32,
    /// Glyph outlines in image coordinates; `None` when the code has no visible ink.
    pub(crate) path: Option<Path>,
}

impl TextLayout {
    /// Tight bounds of the filled glyphs, in image pixels.
    pub fn ink_bounds(&self) -> Option<Rect> {
        self.path.as_ref().and_then(Path::compute_tight_bounds)
    }

    /// Control-point bounds grown by half the stroke width: a superset of the ink that also
    /// contains every curve the rasteriser sees.
    pub(crate) fn path_bounds_with_stroke(&self) -> Option<Rect> {
        let r = self.path.as_ref()?.bounds();
        let h = self.stroke_px / 2.0;
        Rect::from_ltrb(r.left() - h, r.top() - h, r.right() + h, r.bottom() + h)
    }

    /// Ink bounds grown by half the stroke width: what the drawn text covers.
    pub fn ink_bounds_with_stroke(&self) -> Option<Rect> {
        let r = self.ink_bounds()?;
        let h = self.stroke_px / 2.0;
        Rect::from_ltrb(r.left() - h, r.top() - h, r.right() + h, r.bottom() + h)
    }
}

struct Line {
    text: String,
    glyphs: Vec<(ShapedGlyph, Arc<GlyphOutline>)>,
    /// Ink bounds in font units relative to the line's pen origin (y down).
    ink: Option<Rect>,
}

fn shape_line(font: &Font, text: &str) -> Result<Line> {
    let shaped = font.shape(text)?;
    let mut glyphs = Vec::with_capacity(shaped.len());
    let mut ink: Option<Rect> = None;
    for g in shaped {
        if let Some(outline) = font.outline(g.id, g.advance) {
            let b = outline.bounds;
            if let Some(moved) = Rect::from_ltrb(
                b.left() + g.x,
                b.top() + g.y,
                b.right() + g.x,
                b.bottom() + g.y,
            ) {
                ink = Some(match ink {
                    Some(acc) => union(acc, moved),
                    None => moved,
                });
            }
            glyphs.push((g, outline));
        }
    }
    Ok(Line {
        text: text.to_owned(),
        glyphs,
        ink,
    })
}

fn union(a: Rect, b: Rect) -> Rect {
    Rect::from_ltrb(
        a.left().min(b.left()),
        a.top().min(b.top()),
        a.right().max(b.right()),
        a.bottom().max(b.bottom()),
    )
    .unwrap_or(a)
}

/// Candidate line splits for 1..=max_lines lines, each balanced to minimise its widest line.
fn line_splits(font: &Font, text: &str, max_lines: usize) -> Result<Vec<Vec<String>>> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut splits = vec![vec![text.to_owned()]];
    if max_lines <= 1 || chars.len() < 2 {
        return Ok(splits);
    }
    // Advance of each character, from one shaping of the whole text (clusters are byte offsets).
    let shaped = font.shape(text)?;
    let mut advance = vec![0.0f32; chars.len()];
    let mut cluster_start = vec![false; chars.len()];
    for g in &shaped {
        if let Ok(i) = chars.binary_search_by_key(&(g.cluster as usize), |&(b, _)| b) {
            advance[i] += g.advance;
            cluster_start[i] = true;
        }
    }
    let mut prefix = vec![0.0f32; chars.len() + 1];
    for i in 0..chars.len() {
        prefix[i + 1] = prefix[i] + advance[i];
    }
    let has_space = chars.iter().any(|&(_, c)| c.is_whitespace());
    let is_joiner = |c: char| matches!(c, '-' | '_' | '.' | '/');
    // Without spaces, prefer breaking after a hyphen-like joiner over splitting a word.
    let has_joiner = chars.iter().skip(1).any(|&(_, c)| is_joiner(c));
    // (end of this line, start of the next) in char indices.
    let breaks: Vec<(usize, usize)> = (1..chars.len())
        .filter_map(|i| {
            if has_space {
                chars[i].1.is_whitespace().then_some((i, i + 1))
            } else if has_joiner {
                (is_joiner(chars[i - 1].1) && cluster_start[i]).then_some((i, i))
            } else {
                cluster_start[i].then_some((i, i))
            }
        })
        .collect();
    let width = |a: usize, b: usize| if b > a { prefix[b] - prefix[a] } else { 0.0 };
    let slice = |a: usize, b: usize| -> String {
        let start = chars.get(a).map_or(text.len(), |c| c.0);
        let end = chars.get(b).map_or(text.len(), |c| c.0);
        text[start..end].trim().to_owned()
    };

    for lines in 2..=max_lines.min(breaks.len() + 1) {
        // best[k][j]: (widest line, previous break) when line k+1 starts after break j.
        let n = breaks.len();
        let mut best: Vec<Vec<Option<(f32, usize)>>> = vec![vec![None; n]; lines - 1];
        for j in 0..n {
            best[0][j] = Some((width(0, breaks[j].0), usize::MAX));
        }
        for k in 1..lines - 1 {
            for j in 0..n {
                for i in 0..j {
                    if let Some((w, _)) = best[k - 1][i] {
                        let cand = w.max(width(breaks[i].1, breaks[j].0));
                        if best[k][j].is_none_or(|(bw, _)| cand < bw) {
                            best[k][j] = Some((cand, i));
                        }
                    }
                }
            }
        }
        let last = lines - 2;
        let end = (0..n)
            .filter_map(|j| best[last][j].map(|(w, _)| (w.max(width(breaks[j].1, chars.len())), j)))
            .min_by(|a, b| a.0.total_cmp(&b.0));
        let Some((_, mut j)) = end else { continue };
        let mut cut_points = vec![j];
        for k in (1..=last).rev() {
            if let Some((_, prev)) = best[k][j] {
                j = prev;
                cut_points.push(j);
            }
        }
        cut_points.reverse();
        let mut out = Vec::with_capacity(lines);
        let mut start = 0;
        for &b in &cut_points {
            out.push(slice(start, breaks[b].0));
            start = breaks[b].1;
        }
        out.push(slice(start, chars.len()));
        if out.iter().all(|l| !l.is_empty()) {
            splits.push(out);
        }
    }
    Ok(splits)
}

/// Lays `code` out in `text_box` following `style` (validates the code first).
pub fn layout_text(
    font: &Font,
    style: &Style,
    text_box: &BoxSpec,
    code: &str,
) -> Result<TextLayout> {
    validate_code(code)?;
    let text = if style.uppercase {
        code.trim().to_uppercase()
    } else {
        code.trim().to_owned()
    };
    let upem = font.units_per_em();
    let sw = style.stroke_width;
    let box_w = text_box.width as f32;
    let box_h = text_box.height as f32;
    let avail_w = (box_w - 2.0 * EDGE_MARGIN).max(box_w * 0.5);
    let avail_h = (box_h - 2.0 * EDGE_MARGIN).max(box_h * 0.5);
    let all_caps = !text.chars().any(char::is_lowercase);
    let line_advance = font.line_advance(all_caps);

    let mut best: Option<(f32, Vec<Line>, Rect)> = None;
    for split in line_splits(font, &text, usize::from(style.max_lines))? {
        let lines = split
            .iter()
            .map(|l| shape_line(font, l))
            .collect::<Result<Vec<_>>>()?;
        // Block ink in font units: line i's baseline sits at i × line_advance.
        let mut block: Option<Rect> = None;
        let mut widest = 0.0f32;
        for (i, line) in lines.iter().enumerate() {
            if let Some(ink) = line.ink {
                let dy = i as f32 * line_advance;
                widest = widest.max(ink.width());
                let shifted =
                    Rect::from_ltrb(ink.left(), ink.top() + dy, ink.right(), ink.bottom() + dy);
                if let Some(shifted) = shifted {
                    block = Some(block.map_or(shifted, |b| union(b, shifted)));
                }
            }
        }
        let Some(block) = block else {
            // No ink at all (e.g. only zero-width characters): nothing to fit.
            if best.is_none() {
                best = Some((
                    style.max_font_size,
                    lines,
                    Rect::from_xywh(0.0, 0.0, 1.0, 1.0).expect("unit rect"),
                ));
            }
            continue;
        };
        let size = style
            .max_font_size
            .min(avail_w / (widest / upem + sw))
            .min(avail_h / (block.height() / upem + sw));
        // More lines only when they allow a strictly larger size.
        if best.as_ref().is_none_or(|(s, _, _)| size > *s * 1.0001) {
            best = Some((size, lines, block));
        }
    }
    let (font_size, lines, block) = best.expect("the single-line split is always present");
    let scale = font_size / upem;
    let stroke_px = sw * font_size;
    let half_stroke = stroke_px / 2.0;

    let ink_top = text_box.y as f32 + (box_h - block.height() * scale) / 2.0;
    let first_baseline = ink_top - block.top() * scale;
    let mut pb = PathBuilder::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(ink) = line.ink else { continue };
        let line_w = ink.width() * scale;
        let left = text_box.x as f32;
        let ink_left = match style.align {
            Align::Left => left + half_stroke + EDGE_MARGIN,
            Align::Center => left + (box_w - line_w) / 2.0,
            Align::Right => left + box_w - half_stroke - EDGE_MARGIN - line_w,
        };
        let origin_x = ink_left - ink.left() * scale;
        let baseline = first_baseline + i as f32 * line_advance * scale;
        for (g, outline) in &line.glyphs {
            let ts = Transform::from_row(
                scale,
                0.0,
                0.0,
                scale,
                origin_x + g.x * scale,
                baseline + g.y * scale,
            );
            if let Some(p) = outline.path.clone().transform(ts) {
                pb.push_path(&p);
            }
        }
    }
    Ok(TextLayout {
        font_size,
        lines: lines.into_iter().map(|l| l.text).collect(),
        stroke_px,
        path: pb.finish(),
    })
}

//! Anti-aliased coverage masks by exact area accumulation (the font-rs / stb_truetype method):
//! each edge adds its signed area to the cells it crosses, and a running sum along each row
//! gives every pixel's exact covered fraction. One pass per edge plus one pass per pixel, with no
//! supersampling, which is several times cheaper than tiny-skia's 4× supersampled scan converter
//! for the large stroked outlines of coupon codes, and at least as smooth (exact area, 255 levels).
//!
//! Fill rule: the accumulated value is the pixel-averaged winding number, and coverage is its
//! magnitude clamped to 1. That equals the non-zero rule wherever a pixel does not mix regions of
//! opposite winding, which for glyph outlines and their round-joined strokes (overlaps add up with
//! the same sign) only happens along zero-area seams.
use std::cell::RefCell;

use tiny_skia::{Path, PathSegment, Point};

/// Maximum distance (pixels) between a curve and the lines that approximate it.
const FLATNESS: f32 = 0.1;
/// Upper bound on lines per curve (a curve spanning the largest allowed image at `FLATNESS`).
const MAX_CURVE_LINES: usize = 256;

/// A coverage mask (row-major, the rasterised width per row) (0–255) with, per row, the span of non-zero pixels.
pub(crate) struct Coverage {
    pub data: Vec<u8>,
    /// `(start, end)` of the non-zero pixels of each row; `start >= end` for an empty row.
    pub spans: Vec<(u32, u32)>,
}

impl Coverage {
    /// Rasterises `path` (closed implicitly, as a fill) translated by `(dx, dy)`.
    pub fn fill(path: &Path, dx: f32, dy: f32, width: u32, height: u32) -> Coverage {
        let (w, h) = (width as usize, height as usize);
        // One spare cell per row: an edge on the right border spills into it.
        let n = (w + 2) * h;
        let mut local = Vec::new();
        CELLS.with_borrow_mut(|reused| {
            let cells = if n <= MAX_REUSED_CELLS {
                if reused.len() < n {
                    reused.resize(n, 0.0);
                }
                &mut reused[..n]
            } else {
                local.resize(n, 0.0);
                &mut local[..]
            };
            let acc = Accumulator {
                width: w,
                height: h,
                stride: w + 2,
                cells,
                touched: vec![(usize::MAX, 0); h],
            };
            acc.fill(path, dx, dy)
        })
    }
}

thread_local! {
    /// The accumulation cells, reused between masks and kept all zero between uses (summing a
    /// row clears what the edges wrote), so no mask allocates and clears a float buffer.
    static CELLS: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Larger masks (huge text boxes) use a buffer of their own rather than keep one per thread:
/// at most 4 MB stays per thread (tokio's blocking threads exit when idle, freeing it).
const MAX_REUSED_CELLS: usize = 1 << 20;

impl Accumulator<'_> {
    fn fill(mut self, path: &Path, dx: f32, dy: f32) -> Coverage {
        let acc = &mut self;
        let at = |p: Point| Point::from_xy(p.x + dx, p.y + dy);
        let mut start = Point::zero();
        let mut last = Point::zero();
        for segment in path.segments() {
            match segment {
                PathSegment::MoveTo(p) => {
                    acc.line(last, start);
                    start = at(p);
                    last = start;
                }
                PathSegment::LineTo(p) => {
                    let p = at(p);
                    acc.line(last, p);
                    last = p;
                }
                PathSegment::QuadTo(c, p) => {
                    let (c, p) = (at(c), at(p));
                    let dd = (last.x - 2.0 * c.x + p.x).hypot(last.y - 2.0 * c.y + p.y);
                    let n = segments_for(dd / 8.0);
                    let mut prev = last;
                    for i in 1..=n {
                        let t = i as f32 / n as f32;
                        let u = 1.0 - t;
                        let q = Point::from_xy(
                            u * u * last.x + 2.0 * u * t * c.x + t * t * p.x,
                            u * u * last.y + 2.0 * u * t * c.y + t * t * p.y,
                        );
                        acc.line(prev, q);
                        prev = q;
                    }
                    last = p;
                }
                PathSegment::CubicTo(c1, c2, p) => {
                    let (c1, c2, p) = (at(c1), at(c2), at(p));
                    let dd1 = (last.x - 2.0 * c1.x + c2.x).hypot(last.y - 2.0 * c1.y + c2.y);
                    let dd2 = (c1.x - 2.0 * c2.x + p.x).hypot(c1.y - 2.0 * c2.y + p.y);
                    let n = segments_for(dd1.max(dd2) * 0.75);
                    let mut prev = last;
                    for i in 1..=n {
                        let t = i as f32 / n as f32;
                        let u = 1.0 - t;
                        let (b0, b1, b2, b3) =
                            (u * u * u, 3.0 * u * u * t, 3.0 * u * t * t, t * t * t);
                        let q = Point::from_xy(
                            b0 * last.x + b1 * c1.x + b2 * c2.x + b3 * p.x,
                            b0 * last.y + b1 * c1.y + b2 * c2.y + b3 * p.y,
                        );
                        acc.line(prev, q);
                        prev = q;
                    }
                    last = p;
                }
                PathSegment::Close => {
                    acc.line(last, start);
                    last = start;
                }
            }
        }
        acc.line(last, start);
        self.into_coverage()
    }
}

/// Lines needed so that a curve with deviation bound `deviation × 1/n²` stays within `FLATNESS`.
fn segments_for(deviation: f32) -> usize {
    let n = (deviation / FLATNESS).sqrt().ceil();
    if n.is_finite() {
        (n as usize).clamp(1, MAX_CURVE_LINES)
    } else {
        1
    }
}

/// `v.ceil() as usize` for finite `v ≥ 0`, without a libm call.
#[inline(always)]
fn ceil_non_negative(v: f32) -> usize {
    let t = v as usize;
    if (t as f32) < v { t + 1 } else { t }
}

struct Accumulator<'a> {
    width: usize,
    height: usize,
    stride: usize,
    cells: &'a mut [f32],
    /// Per row, the first and last cell any edge wrote to: the running sum is exactly zero
    /// before the first and constant after the last, so only that range needs summing.
    touched: Vec<(usize, usize)>,
}

impl Accumulator<'_> {
    /// Adds the signed area of the edge `p0 → p1` (downwards positive) to the cells it crosses.
    fn line(&mut self, p0: Point, p1: Point) {
        if !(p0.y - p1.y).is_normal() || !p0.x.is_finite() || !p1.x.is_finite() {
            return; // horizontal (no area), or not a number
        }
        let (dir, p0, p1) = if p0.y < p1.y {
            (1.0, p0, p1)
        } else {
            (-1.0, p1, p0)
        };
        let h = self.height as f32;
        if p1.y <= 0.0 || p0.y >= h {
            return;
        }
        // Ink never reaches the mask border (callers leave a margin); clamping keeps any stray
        // coordinate in bounds.
        let max_x = self.width as f32;
        let dxdy = (p1.x - p0.x) / (p1.y - p0.y);
        let y_start = p0.y.max(0.0);
        let mut x = p0.x + (y_start - p0.y) * dxdy;
        let y_end = p1.y.min(h);
        // Coordinates here are ≥ 0, where truncation is floor: no libm call (baseline x86-64
        // has no rounding instruction).
        let mut y = y_start as usize;
        while (y as f32) < y_end && y < self.height {
            let top = (y as f32).max(y_start);
            let bottom = ((y + 1) as f32).min(y_end);
            let dy = bottom - top;
            let x_next = x + dxdy * dy;
            let d = dy * dir;
            let row = y * self.stride;
            let (xa, xb) = if x < x_next { (x, x_next) } else { (x_next, x) };
            let (xa, xb) = (xa.clamp(0.0, max_x), xb.clamp(0.0, max_x));
            let xa_floor = (xa as usize) as f32;
            let xai = xa_floor as usize;
            let xbi = ceil_non_negative(xb);
            let touched = &mut self.touched[y];
            touched.0 = touched.0.min(xai);
            touched.1 = touched.1.max(xbi.max(xai + 1));
            if xbi <= xai + 1 {
                // Within one pixel column: the area right of the edge's midpoint.
                let mid = 0.5 * (xa + xb) - xa_floor;
                self.cells[row + xai] += d - d * mid;
                self.cells[row + xai + 1] += d * mid;
            } else {
                let s = 1.0 / (xb - xa);
                let xaf = xa - xa_floor;
                let a0 = 0.5 * s * (1.0 - xaf) * (1.0 - xaf);
                let xbf = xb - xbi as f32 + 1.0;
                let am = 0.5 * s * xbf * xbf;
                self.cells[row + xai] += d * a0;
                if xbi == xai + 2 {
                    self.cells[row + xai + 1] += d * (1.0 - a0 - am);
                } else {
                    let a1 = s * (1.5 - xaf);
                    self.cells[row + xai + 1] += d * (a1 - a0);
                    for cell in &mut self.cells[row + xai + 2..row + xbi - 1] {
                        *cell += d * s;
                    }
                    let a2 = a1 + (xbi - xai - 3) as f32 * s;
                    self.cells[row + xbi - 1] += d * (1.0 - a2 - am);
                }
                self.cells[row + xbi] += d * am;
            }
            x = x_next;
            y += 1;
        }
    }

    fn into_coverage(self) -> Coverage {
        let (w, h, stride) = (self.width, self.height, self.stride);
        let mut data = vec![0u8; w * h];
        let mut spans = vec![(0, 0); h];
        // Spare cells past the right border are never summed; clear them for the next mask.
        for row in self.cells.chunks_exact_mut(stride) {
            row[w..].fill(0.0);
        }
        // Rows in pairs: each row's running sum is a serial chain of float adds, so two
        // independent chains in one loop run about twice as fast. The sums and results are
        // exactly those of one row at a time (cells outside a row's touched range are zero).
        let mut pairs = self.cells.chunks_exact_mut(2 * stride);
        let mut outs = data.chunks_exact_mut(2 * w);
        for (r, (cells, out)) in (&mut pairs).zip(&mut outs).enumerate() {
            let (c0, c1) = cells.split_at_mut(stride);
            let (o0, o1) = out.split_at_mut(w);
            let (t0, t1) = (self.touched[2 * r], self.touched[2 * r + 1]);
            let (s0, s1) = sum_two_rows([c0, c1], [o0, o1], [t0, t1], w);
            spans[2 * r] = s0;
            spans[2 * r + 1] = s1;
        }
        if h % 2 == 1 {
            let cells = &mut pairs.into_remainder()[..stride];
            let out = outs.into_remainder();
            let mut spare = [0.0f32; 0];
            let mut spare_out = [0u8; 0];
            let t = self.touched[h - 1];
            let (s, _) = sum_two_rows(
                [cells, &mut spare],
                [out, &mut spare_out],
                [t, (usize::MAX, 0)],
                w,
            );
            spans[h - 1] = s;
        }
        Coverage { data, spans }
    }
}

fn to_u8(sum: f32) -> u8 {
    (sum.abs().min(1.0) * 255.0 + 0.5) as u8
}

/// Running sums of two rows (the second may be empty) over the union of their touched ranges,
/// writing coverage and clearing the cells; returns each row's span of non-zero coverage.
#[inline(always)]
fn sum_two_rows(
    cells: [&mut [f32]; 2],
    out: [&mut [u8]; 2],
    touched: [(usize, usize); 2],
    w: usize,
) -> ((u32, u32), (u32, u32)) {
    let [c0, c1] = cells;
    let [o0, o1] = out;
    let range = |(first, last): (usize, usize)| (first, (last + 1).min(w));
    let (a, b) = (range(touched[0]), range(touched[1]));
    let start = a.0.min(b.0);
    let end = a.1.max(b.1);
    if start >= end {
        return ((0, 0), (0, 0));
    }
    let two = !c1.is_empty();
    let (mut sum0, mut sum1) = (0.0f32, 0.0f32);
    let (mut first0, mut last0, mut first1, mut last1) = (u32::MAX, 0u32, u32::MAX, 0u32);
    for x in start..end {
        sum0 += c0[x];
        c0[x] = 0.0;
        let v0 = to_u8(sum0);
        o0[x] = v0;
        if v0 != 0 {
            first0 = first0.min(x as u32);
            last0 = x as u32 + 1;
        }
        if two {
            sum1 += c1[x];
            c1[x] = 0.0;
            let v1 = to_u8(sum1);
            o1[x] = v1;
            if v1 != 0 {
                first1 = first1.min(x as u32);
                last1 = x as u32 + 1;
            }
        }
    }
    // Past the last touched cell a sum no longer changes (float rounding can leave a residue
    // that still rounds to a non-zero coverage).
    let finish = |sum: f32, out: &mut [u8], first: &mut u32, last: &mut u32| {
        let rest = to_u8(sum);
        if rest != 0 && end < w {
            out[end..].fill(rest);
            *first = (*first).min(end as u32);
            *last = w as u32;
        }
        if *first < *last {
            (*first, *last)
        } else {
            (0, 0)
        }
    };
    let s0 = finish(sum0, o0, &mut first0, &mut last0);
    let s1 = if two {
        finish(sum1, o1, &mut first1, &mut last1)
    } else {
        (0, 0)
    };
    (s0, s1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tiny_skia::{PathBuilder, Rect};

    #[test]
    fn a_pixel_aligned_square_is_solid_inside_and_empty_outside() {
        let path = PathBuilder::from_rect(Rect::from_ltrb(2.0, 3.0, 7.0, 5.0).unwrap());
        let c = Coverage::fill(&path, 0.0, 0.0, 10, 8);
        for y in 0..8 {
            for x in 0..10 {
                let inside = (2..7).contains(&x) && (3..5).contains(&y);
                assert_eq!(
                    c.data[y * 10 + x],
                    if inside { 255 } else { 0 },
                    "({x},{y})"
                );
            }
        }
        assert_eq!(c.spans[3], (2, 7));
        assert_eq!(c.spans[0], (0, 0));
    }

    /// Masks past `MAX_REUSED_CELLS` use their own buffer; masks after them still start from
    /// clean cells, and results do not depend on which buffer was used.
    #[test]
    fn large_and_reused_masks_agree() {
        let circle = PathBuilder::from_circle(30.0, 30.0, 25.0).unwrap();
        let small = Coverage::fill(&circle, 0.0, 0.0, 64, 64);
        let (w, h) = (1100u32, 1000u32);
        assert!((w as usize + 2) * h as usize > MAX_REUSED_CELLS);
        let large = Coverage::fill(&circle, 0.0, 0.0, w, h);
        for y in 0..64 {
            assert_eq!(
                &large.data[y * w as usize..y * w as usize + 64],
                &small.data[y * 64..(y + 1) * 64]
            );
        }
        assert_eq!(&large.spans[..64], &small.spans[..]);
        let again = Coverage::fill(&circle, 0.0, 0.0, 64, 64);
        assert_eq!(again.data, small.data);
    }

    #[test]
    fn partial_pixels_get_their_exact_area_and_both_windings_fill() {
        // Half-pixel offsets: edge pixels are half covered; a reversed (counter-wound) copy of
        // the same square covers the same pixels.
        let mut pb = PathBuilder::new();
        pb.move_to(1.5, 1.0);
        pb.line_to(4.5, 1.0);
        pb.line_to(4.5, 3.0);
        pb.line_to(1.5, 3.0);
        pb.close();
        let forward = Coverage::fill(&pb.finish().unwrap(), 0.0, 0.0, 6, 4);
        let mut pb = PathBuilder::new();
        pb.move_to(1.5, 1.0);
        pb.line_to(1.5, 3.0);
        pb.line_to(4.5, 3.0);
        pb.line_to(4.5, 1.0);
        pb.close();
        let backward = Coverage::fill(&pb.finish().unwrap(), 0.0, 0.0, 6, 4);
        assert_eq!(forward.data, backward.data);
        assert_eq!(&forward.data[6..12], &[0, 128, 255, 255, 128, 0]);
    }

    #[test]
    fn overlapping_contours_of_one_winding_do_not_double_and_a_circle_has_its_area() {
        let mut pb = PathBuilder::new();
        pb.push_rect(Rect::from_ltrb(1.0, 1.0, 5.0, 5.0).unwrap());
        pb.push_rect(Rect::from_ltrb(3.0, 1.0, 8.0, 5.0).unwrap());
        let c = Coverage::fill(&pb.finish().unwrap(), 0.0, 0.0, 10, 6);
        assert!(c.data[2 * 10 + 1..2 * 10 + 8].iter().all(|&v| v == 255));
        let circle = PathBuilder::from_circle(20.0, 20.0, 15.0).unwrap();
        let c = Coverage::fill(&circle, 0.0, 0.0, 40, 40);
        let area: f32 = c.data.iter().map(|&v| f32::from(v) / 255.0).sum();
        // Flattening inscribes chords at most FLATNESS inside the curve.
        let exact = std::f32::consts::PI * 15.0 * 15.0;
        let perimeter = 2.0 * std::f32::consts::PI * 15.0;
        assert!(
            area < exact + 0.5 && area > exact - perimeter * FLATNESS,
            "area {area} vs {exact}"
        );
    }
}

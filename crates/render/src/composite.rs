//! Campaign photos: a participant's photo cover-fitted under a branded overlay (or a red tint
//! when the campaign has none). The same geometry runs in the browser (web/assets/campaign.js),
//! so the server's composite matches what the page shows.
use tiny_skia::{Color, FilterQuality, Paint, Pixmap, PixmapPaint, Rect, Transform};

use crate::Result;
use crate::error::RenderError;

/// Canvas size when a campaign has no overlay.
pub const DEFAULT_CANVAS: (u32, u32) = (1080, 1080);
/// Largest zoom over cover-fit.
pub const MAX_ZOOM: f32 = 8.0;
/// The tint drawn over the photo without an overlay: rgba(220, 38, 38, 0.35).
pub const FALLBACK_TINT: [u8; 4] = [220, 38, 38, 89];

/// Where the photo sits: `zoom` ≥ 1 over cover-fit, and the photo's centre moved by
/// `offset_x`/`offset_y` canvas widths/heights from the canvas centre (clamped so the photo
/// always covers the canvas).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placement {
    pub zoom: f32,
    pub offset_x: f32,
    pub offset_y: f32,
}

impl Default for Placement {
    fn default() -> Self {
        Placement {
            zoom: 1.0,
            offset_x: 0.0,
            offset_y: 0.0,
        }
    }
}

/// The photo's drawn rectangle on a `canvas_w`×`canvas_h` canvas: (x, y, scale).
pub fn photo_rect(
    photo_w: u32,
    photo_h: u32,
    canvas_w: u32,
    canvas_h: u32,
    placement: Placement,
) -> (f32, f32, f32) {
    let (pw, ph) = (photo_w as f32, photo_h as f32);
    let (cw, ch) = (canvas_w as f32, canvas_h as f32);
    let zoom = if placement.zoom.is_finite() {
        placement.zoom.clamp(1.0, MAX_ZOOM)
    } else {
        1.0
    };
    let scale = (cw / pw).max(ch / ph) * zoom;
    let (dw, dh) = (pw * scale, ph * scale);
    let finite = |v: f32| if v.is_finite() { v } else { 0.0 };
    let x = ((cw - dw) / 2.0 + finite(placement.offset_x) * cw).clamp(cw - dw, 0.0);
    let y = ((ch - dh) / 2.0 + finite(placement.offset_y) * ch).clamp(ch - dh, 0.0);
    (x, y, scale)
}

/// Composite `photo` under `overlay` at the overlay's size (or [`DEFAULT_CANVAS`] with the
/// red tint when there is no overlay).
pub fn compose_photo(
    photo: &Pixmap,
    overlay: Option<&Pixmap>,
    placement: Placement,
) -> Result<Pixmap> {
    let (cw, ch) = overlay
        .map(|o| (o.width(), o.height()))
        .unwrap_or(DEFAULT_CANVAS);
    let mut canvas = Pixmap::new(cw, ch).ok_or(RenderError::EmptyImage { what: "overlay" })?;
    canvas.fill(Color::BLACK);
    let (x, y, scale) = photo_rect(photo.width(), photo.height(), cw, ch, placement);
    let paint = PixmapPaint {
        quality: FilterQuality::Bicubic,
        ..PixmapPaint::default()
    };
    canvas.draw_pixmap(
        0,
        0,
        photo.as_ref(),
        &paint,
        Transform::from_row(scale, 0.0, 0.0, scale, x, y),
        None,
    );
    match overlay {
        Some(overlay) => canvas.draw_pixmap(
            0,
            0,
            overlay.as_ref(),
            &PixmapPaint::default(),
            Transform::identity(),
            None,
        ),
        None => {
            let [r, g, b, a] = FALLBACK_TINT;
            let mut tint = Paint::default();
            tint.set_color_rgba8(r, g, b, a);
            let rect = Rect::from_xywh(0.0, 0.0, cw as f32, ch as f32)
                .ok_or(RenderError::EmptyImage { what: "overlay" })?;
            canvas.fill_rect(rect, &tint, Transform::identity(), None);
        }
    }
    Ok(canvas)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn solid(w: u32, h: u32, rgba: [u8; 4]) -> Pixmap {
        let mut p = Pixmap::new(w, h).unwrap();
        p.fill(Color::from_rgba8(rgba[0], rgba[1], rgba[2], rgba[3]));
        p
    }

    fn pixel(p: &Pixmap, x: u32, y: u32) -> [u8; 4] {
        let c = p.pixel(x, y).unwrap();
        [c.red(), c.green(), c.blue(), c.alpha()]
    }

    #[test]
    fn cover_fit_and_clamped_offsets() {
        // A 200×100 photo on a 100×100 canvas: scale 1, centred => x = -50.
        assert_eq!(
            photo_rect(200, 100, 100, 100, Placement::default()),
            (-50.0, 0.0, 1.0)
        );
        // Far offsets clamp to the edges; the photo still covers the canvas.
        let right = Placement {
            offset_x: 5.0,
            ..Placement::default()
        };
        assert_eq!(photo_rect(200, 100, 100, 100, right).0, 0.0);
        let left = Placement {
            offset_x: -5.0,
            ..Placement::default()
        };
        assert_eq!(photo_rect(200, 100, 100, 100, left).0, -100.0);
        // Zoom is clamped to [1, MAX_ZOOM]; NaN is ignored.
        let nan = Placement {
            zoom: f32::NAN,
            offset_x: f32::NAN,
            offset_y: 0.0,
        };
        assert_eq!(photo_rect(100, 100, 100, 100, nan), (0.0, 0.0, 1.0));
        let huge = Placement {
            zoom: 100.0,
            ..Placement::default()
        };
        assert_eq!(photo_rect(100, 100, 100, 100, huge).2, MAX_ZOOM);
    }

    #[test]
    fn overlay_on_top_and_tint_fallback() {
        let photo = solid(40, 20, [0, 0, 255, 255]);
        // Overlay: opaque white frame row at the top, transparent elsewhere.
        let mut overlay = Pixmap::new(30, 30).unwrap();
        overlay.fill_rect(
            Rect::from_xywh(0.0, 0.0, 30.0, 5.0).unwrap(),
            &{
                let mut p = Paint::default();
                p.set_color_rgba8(255, 255, 255, 255);
                p
            },
            Transform::identity(),
            None,
        );
        let out = compose_photo(&photo, Some(&overlay), Placement::default()).unwrap();
        assert_eq!((out.width(), out.height()), (30, 30));
        assert_eq!(pixel(&out, 15, 2), [255, 255, 255, 255]);
        assert_eq!(pixel(&out, 15, 20), [0, 0, 255, 255]);

        let tinted = compose_photo(&photo, None, Placement::default()).unwrap();
        assert_eq!((tinted.width(), tinted.height()), DEFAULT_CANVAS);
        let [r, g, b, a] = pixel(&tinted, 500, 500);
        assert_eq!(a, 255);
        assert!(
            r > 60 && b > 150 && g < 30,
            "blue photo under a red tint: {r},{g},{b}"
        );
    }
}

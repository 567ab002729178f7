//! JPEG output that re-encodes only the part of the image under the text box.
//!
//! The background is encoded once with restart markers every `interval` MCUs (a divisor of the
//! MCUs per row, so intervals form a grid of tiles). Each restart interval's entropy-coded data is
//! independent (DC prediction resets, byte aligned), and with fixed quantisation and standard
//! Huffman tables the same pixels always encode to the same bytes. A render encodes just the
//! tiles the text's ink touches (not the whole box: gaps between lines and beside short lines
//! stay cached) with the same settings and splices those intervals between the cached ones: a
//! standard baseline JPEG, byte for byte the encoding of the whole composed image with the same
//! restart interval.
use tiny_skia::Pixmap;

use crate::Result;
use crate::encode::{encode_jpeg_rgb, rgb_over_white};
use crate::error::RenderError;
use crate::render::TextLayer;
use crate::spec::BoxSpec;

/// A stack of re-encoded tiles: its entropy-coded bytes and each tile's (start, end) in them.
type EncodedPiece = (Vec<u8>, Vec<(usize, usize)>);

/// 4:2:0 MCUs are 16×16 pixels.
const MCU: u32 = 16;

pub(crate) struct JpegBase {
    pub quality: u8,
    width: u32,
    height: u32,
    pub interval: u16,
    tiles_x: u32,
    mcu_rows: u32,
    /// SOI up to and including the SOS header.
    header: Vec<u8>,
    data: Vec<u8>,
    /// Byte ranges of each restart interval in `data`, raster order.
    segments: Vec<(usize, usize)>,
}

/// Tiles per encoder call: the stacked image's height (16 px per tile) must fit JPEG's 16 bits.
const MAX_STACKED_TILES: usize = 4000;

/// Splits a JPEG produced by jpeg-encoder into (header length, entropy data, interval ranges).
fn split_scan(jpeg: &[u8]) -> Option<(usize, Vec<(usize, usize)>)> {
    let mut pos = 2; // after SOI
    let header_end = loop {
        if jpeg.get(pos)? != &0xFF {
            return None;
        }
        let marker = *jpeg.get(pos + 1)?;
        let len = usize::from(u16::from_be_bytes([
            *jpeg.get(pos + 2)?,
            *jpeg.get(pos + 3)?,
        ]));
        pos += 2 + len;
        if marker == 0xDA {
            break pos;
        }
    };
    let mut segments = Vec::new();
    let mut start = header_end;
    let mut i = header_end;
    while i + 1 < jpeg.len() {
        if jpeg[i] == 0xFF {
            match jpeg[i + 1] {
                0x00 => i += 2,
                0xD0..=0xD7 => {
                    segments.push((start, i));
                    i += 2;
                    start = i;
                }
                0xD9 => {
                    segments.push((start, i));
                    return Some((header_end, segments));
                }
                _ => return None,
            }
        } else {
            i += 1;
        }
    }
    None
}

fn restart_interval_for(mcu_cols: u32) -> u16 {
    // Largest divisor of the MCU columns up to 8: small enough that the re-encoded tiles hug the
    // text box, large enough that markers cost little.
    (1..=8u32)
        .rev()
        .find(|d| mcu_cols.is_multiple_of(*d))
        .unwrap_or(1) as u16
}

impl JpegBase {
    pub fn build(background: &Pixmap, quality: u8) -> Result<JpegBase> {
        let (width, height) = (background.width(), background.height());
        let mcu_cols = width.div_ceil(MCU);
        let mcu_rows = height.div_ceil(MCU);
        let interval = restart_interval_for(mcu_cols);
        let mut rgb = Vec::new();
        rgb_over_white(background.data(), &mut rgb);
        let mut jpeg = Vec::new();
        encode_jpeg_rgb(&rgb, width, height, quality, interval, &mut jpeg)?;
        let (header_end, segments) = split_scan(&jpeg)
            .ok_or_else(|| RenderError::Encode("unexpected JPEG stream layout".into()))?;
        let tiles_x = mcu_cols / u32::from(interval);
        if segments.len() != (tiles_x * mcu_rows) as usize {
            return Err(RenderError::Encode(
                "unexpected restart interval count".into(),
            ));
        }
        let header = jpeg[..header_end].to_vec();
        let segments = segments
            .into_iter()
            .map(|(s, e)| (s - header_end, e - header_end))
            .collect();
        let data = jpeg[header_end..].to_vec();
        Ok(JpegBase {
            quality,
            width,
            height,
            interval,
            tiles_x,
            mcu_rows,
            header,
            data,
            segments,
        })
    }

    pub fn memory_bytes(&self) -> usize {
        self.header.len() + self.data.len() + self.segments.len() * 16
    }

    /// Renders the final JPEG: re-encodes only the tiles under `area` that `layer` actually
    /// touches and splices them between the cached intervals of the background.
    ///
    /// The touched tiles are stacked into one image `tile width` pixels wide, one tile per MCU
    /// row, so a single encoder call yields one restart interval per tile. Pixels past the right
    /// and bottom image edges are the edge pixels repeated, exactly as the encoder pads the whole
    /// image, so each re-encoded interval is byte for byte the one a whole-image encode of the
    /// composed pixels would produce.
    pub fn render(
        &self,
        background: &Pixmap,
        layer: &TextLayer,
        area: &BoxSpec,
    ) -> Result<Vec<u8>> {
        let tile_w = MCU * u32::from(self.interval);
        let (tx0, tx1) = (
            area.x / tile_w,
            area.x
                .saturating_add(area.width)
                .div_ceil(tile_w)
                .min(self.tiles_x),
        );
        let (ty0, ty1) = (
            area.y / MCU,
            area.y
                .saturating_add(area.height)
                .div_ceil(MCU)
                .min(self.mcu_rows),
        );
        let mut touched = Vec::new();
        for ty in ty0..ty1 {
            for tx in tx0..tx1 {
                let (x, y) = (tx * tile_w, ty * MCU);
                if layer.touches(x, y, x + tile_w, y + MCU) {
                    touched.push(ty * self.tiles_x + tx);
                }
            }
        }

        let width = self.width as usize;
        let pixels = background.data();
        let mut rgb = Vec::with_capacity(touched.len() * (tile_w * MCU * 3) as usize);
        let mut row = vec![0u8; tile_w as usize * 4];
        let mut pieces: Vec<EncodedPiece> = Vec::new();
        for chunk in touched.chunks(MAX_STACKED_TILES) {
            rgb.clear();
            for &tile in chunk {
                let (x0, ty) = ((tile % self.tiles_x) * tile_w, tile / self.tiles_x);
                let x_end = (x0 + tile_w).min(self.width);
                for r in 0..MCU {
                    let y = (ty * MCU + r).min(self.height - 1);
                    let start = (y as usize * width + x0 as usize) * 4;
                    let row = &mut row[..(x_end - x0) as usize * 4];
                    row.copy_from_slice(&pixels[start..start + row.len()]);
                    layer.blend_row(row, x0, y);
                    rgb_over_white(row, &mut rgb);
                    let last = rgb.len() - 3;
                    for _ in x_end..x0 + tile_w {
                        rgb.extend_from_within(last..last + 3);
                    }
                }
            }
            let mut piece = Vec::new();
            let stacked_h = chunk.len() as u32 * MCU;
            encode_jpeg_rgb(
                &rgb,
                tile_w,
                stacked_h,
                self.quality,
                self.interval,
                &mut piece,
            )?;
            let (header_end, segments) = split_scan(&piece)
                .ok_or_else(|| RenderError::Encode("unexpected JPEG stream layout".into()))?;
            if segments.len() != chunk.len() {
                return Err(RenderError::Encode(
                    "re-encoded tiles do not match the tile grid".into(),
                ));
            }
            debug_assert!(header_end <= segments[0].0);
            pieces.push((piece, segments));
        }

        let mut out = Vec::with_capacity(self.header.len() + self.data.len() + 64 * 1024);
        out.extend_from_slice(&self.header);
        let total = self.segments.len();
        let mut next_touched = touched.iter().copied().enumerate().peekable();
        for (index, &(s, e)) in self.segments.iter().enumerate() {
            match next_touched.peek() {
                Some(&(k, tile)) if tile as usize == index => {
                    let (piece, segments) = &pieces[k / MAX_STACKED_TILES];
                    let (ps, pe) = segments[k % MAX_STACKED_TILES];
                    out.extend_from_slice(&piece[ps..pe]);
                    next_touched.next();
                }
                _ => out.extend_from_slice(&self.data[s..e]),
            }
            if index + 1 < total {
                out.extend_from_slice(&[0xFF, 0xD0 + (index % 8) as u8]);
            }
        }
        out.extend_from_slice(&[0xFF, 0xD9]);
        Ok(out)
    }
}

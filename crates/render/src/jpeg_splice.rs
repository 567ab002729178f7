//! JPEG output that re-encodes only the part of the image under the text box.
//!
//! The background is encoded once with restart markers every `interval` MCUs (a divisor of the
//! MCUs per row, so intervals form a grid of tiles). Each restart interval's entropy-coded data is
//! independent (DC prediction resets, byte aligned), and with fixed quantisation and standard
//! Huffman tables the same pixels always encode to the same bytes. A render encodes just the
//! tiles the text's ink touches (not the whole box: gaps between lines and beside short lines
//! stay cached) with the same settings (`jpeg_tiles`, straight into the output) between the
//! cached ones: a standard baseline JPEG, byte for byte the encoding of the whole composed image
//! with the same restart interval.
use tiny_skia::Pixmap;

use crate::Result;
use crate::encode::{encode_jpeg_rgb, rgb_over_white};
use crate::error::RenderError;
use crate::jpeg_tiles::{MAX_TILE_MCUS, TileCoder};
use crate::render::TextLayer;
use crate::spec::BoxSpec;

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
    /// Codes re-encoded tiles with the tables of `header`.
    coder: TileCoder,
}

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
    (1..=MAX_TILE_MCUS as u32)
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
        let coder = TileCoder::from_header(&header)
            .ok_or_else(|| RenderError::Encode("unexpected JPEG header layout".into()))?;
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
            coder,
        })
    }

    pub fn memory_bytes(&self) -> usize {
        self.header.len() + self.data.len() + self.segments.len() * 16
    }

    /// Renders the final JPEG: re-encodes only the tiles under `area` that `layer` actually
    /// touches, straight into the output between the cached intervals of the background.
    ///
    /// Each tile is one restart interval, coded by [`TileCoder`] from the background pixels with
    /// the text blended in. Pixels past the right and bottom image edges are the edge pixels
    /// repeated, exactly as the encoder pads the whole image, so each re-encoded interval is
    /// byte for byte the one a whole-image encode of the composed pixels would produce.
    pub fn render(&self, background: &Pixmap, layer: &TextLayer, area: &BoxSpec) -> Vec<u8> {
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
        let mut out = Vec::with_capacity(self.header.len() + self.data.len() + 64 * 1024);
        out.extend_from_slice(&self.header);
        let total = self.segments.len();
        for (index, &(s, e)) in self.segments.iter().enumerate() {
            let (tx, ty) = (index as u32 % self.tiles_x, index as u32 / self.tiles_x);
            let (x, y) = (tx * tile_w, ty * MCU);
            if (tx0..tx1).contains(&tx)
                && (ty0..ty1).contains(&ty)
                && layer.touches(x, y, x + tile_w, y + MCU)
            {
                self.coder.encode_tile(
                    background.data(),
                    self.width,
                    self.height,
                    layer,
                    x,
                    y,
                    usize::from(self.interval),
                    &mut out,
                );
            } else {
                out.extend_from_slice(&self.data[s..e]);
            }
            if index + 1 < total {
                out.extend_from_slice(&[0xFF, 0xD0 + (index % 8) as u8]);
            }
        }
        out.extend_from_slice(&[0xFF, 0xD9]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every tile of a background re-coded by `TileCoder` equals the encoder's own interval.
    #[test]
    fn recoded_tiles_equal_the_encoders_intervals() {
        for (w, h) in [(32, 16), (100, 40), (333, 201)] {
            let mut pixmap = Pixmap::new(w, h).unwrap();
            let mut seed = 0x9E37_79B9_7F4A_7C15u64;
            for (i, px) in pixmap.data_mut().chunks_exact_mut(4).enumerate() {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let [r, g, b, ..] = seed.to_le_bytes();
                // Half noise, half smooth, so both dense and sparse blocks occur.
                let smooth = (i as u32 % w) < w / 2;
                let (r, g, b) = if smooth {
                    ((i % 251) as u8, 90, 200)
                } else {
                    (r, g, b)
                };
                px.copy_from_slice(&[r, g, b, 255]);
            }
            for quality in [90, 55] {
                let base = JpegBase::build(&pixmap, quality).unwrap();
                let layer = TextLayer::empty();
                let tile_w = MCU * u32::from(base.interval);
                for (index, &(s, e)) in base.segments.iter().enumerate() {
                    let (tx, ty) = (index as u32 % base.tiles_x, index as u32 / base.tiles_x);
                    let mut out = Vec::new();
                    base.coder.encode_tile(
                        pixmap.data(),
                        w,
                        h,
                        &layer,
                        tx * tile_w,
                        ty * MCU,
                        usize::from(base.interval),
                        &mut out,
                    );
                    let want = &base.data[s..e];
                    let at = out.iter().zip(want).position(|(a, b)| a != b);
                    assert!(
                        out == want,
                        "{w}x{h} q{quality} tile {index}: lengths {} vs {}, first difference at {at:?}: {:02x?} vs {:02x?}",
                        out.len(),
                        want.len(),
                        &out[at.unwrap_or(0).saturating_sub(4)..out.len().min(at.unwrap_or(0) + 8)],
                        &want[at.unwrap_or(0).saturating_sub(4)
                            ..want.len().min(at.unwrap_or(0) + 8)],
                    );
                }
            }
        }
    }
}

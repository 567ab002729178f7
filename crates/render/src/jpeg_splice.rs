//! JPEG output that re-encodes only the part of the image under the text box.
//!
//! The background is encoded once with restart markers every `interval` MCUs (a divisor of the
//! MCUs per row, so intervals form a grid of tiles). Each restart interval's entropy-coded data is
//! independent (DC prediction resets, byte aligned), and with fixed quantisation and standard
//! Huffman tables the same pixels always encode to the same bytes. A render encodes just the
//! tiles covering the text box with the same settings and splices those intervals between the
//! cached ones: a standard baseline JPEG, identical to encoding the whole composed image with
//! the same restart interval.
use tiny_skia::Pixmap;

use crate::Result;
use crate::encode::{encode_jpeg_rgb, rgb_over_white};
use crate::error::RenderError;
use crate::spec::BoxSpec;

/// 4:2:0 MCUs are 16×16 pixels.
const MCU: u32 = 16;

pub(crate) struct JpegBase {
    pub quality: u8,
    width: u32,
    height: u32,
    interval: u16,
    tiles_x: u32,
    mcu_rows: u32,
    /// SOI up to and including the SOS header.
    header: Vec<u8>,
    data: Vec<u8>,
    /// Byte ranges of each restart interval in `data`, raster order.
    segments: Vec<(usize, usize)>,
}

/// Pixel rectangle (x0, y0, x1, y1) of whole tiles to re-encode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TileRegion {
    pub x0: u32,
    pub y0: u32,
    pub x1: u32,
    pub y1: u32,
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

    /// The tile-aligned pixel region covering `area`.
    pub fn region_for(&self, area: &BoxSpec) -> TileRegion {
        let tile_w = MCU * u32::from(self.interval);
        let x0 = (area.x / tile_w) * tile_w;
        let y0 = (area.y / MCU) * MCU;
        let x1 = (area.x.saturating_add(area.width))
            .div_ceil(tile_w)
            .saturating_mul(tile_w)
            .min(self.width);
        let y1 = (area.y.saturating_add(area.height))
            .div_ceil(MCU)
            .saturating_mul(MCU)
            .min(self.height);
        TileRegion { x0, y0, x1, y1 }
    }

    /// Builds the final JPEG from the composed pixels of `region` (premultiplied RGBA).
    pub fn splice(&self, region: TileRegion, premultiplied: &[u8]) -> Result<Vec<u8>> {
        let (rw, rh) = (region.x1 - region.x0, region.y1 - region.y0);
        let mut rgb = Vec::new();
        rgb_over_white(premultiplied, &mut rgb);
        let mut piece = Vec::new();
        encode_jpeg_rgb(&rgb, rw, rh, self.quality, self.interval, &mut piece)?;
        let (header_end, piece_segments) = split_scan(&piece)
            .ok_or_else(|| RenderError::Encode("unexpected JPEG stream layout".into()))?;
        let tile_w = MCU * u32::from(self.interval);
        let (tx0, tx1) = (region.x0 / tile_w, region.x1.div_ceil(tile_w));
        let (ty0, ty1) = (region.y0 / MCU, region.y1.div_ceil(MCU));
        let piece_cols = tx1 - tx0;
        if piece_segments.len() != (piece_cols * (ty1 - ty0)) as usize {
            return Err(RenderError::Encode(
                "re-encoded region does not match the tile grid".into(),
            ));
        }

        let mut out = Vec::with_capacity(self.header.len() + self.data.len() + piece.len());
        out.extend_from_slice(&self.header);
        let total = self.segments.len();
        for ty in 0..self.mcu_rows {
            for tx in 0..self.tiles_x {
                let index = (ty * self.tiles_x + tx) as usize;
                if (ty0..ty1).contains(&ty) && (tx0..tx1).contains(&tx) {
                    let (s, e) = piece_segments[((ty - ty0) * piece_cols + (tx - tx0)) as usize];
                    out.extend_from_slice(&piece[header_end..][s - header_end..e - header_end]);
                } else {
                    let (s, e) = self.segments[index];
                    out.extend_from_slice(&self.data[s..e]);
                }
                if index + 1 < total {
                    out.extend_from_slice(&[0xFF, 0xD0 + (index % 8) as u8]);
                }
            }
        }
        out.extend_from_slice(&[0xFF, 0xD9]);
        Ok(out)
    }
}

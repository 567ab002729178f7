//! PNG output that re-compresses only the row bands under the text box.
//!
//! The image is cut into bands of `BAND_ROWS` rows. Each band's first row uses a filter that does
//! not look at the row above, and each band is deflated on its own and ends on a sync flush (byte
//! aligned, not final), so bands can be concatenated in any combination into one zlib stream.
//! The background's bands are compressed once (at a high level, in its own IDAT chunk with its CRC
//! and Adler-32 cached); a render filters and compresses only the bands covering the text box and
//! combines the Adler-32 checksums arithmetically.
use miniz_oxide::deflate::core::{
    CompressorOxide, TDEFLFlush, compress_to_output, create_comp_flags_from_zip_params,
};
use tiny_skia::Pixmap;

use crate::Result;
use crate::encode::{rgb_from_opaque, straight_rgba};
use crate::error::RenderError;
use crate::spec::BoxSpec;

pub(crate) const BAND_ROWS: u32 = 16;
/// Level for the cached background bands (one-off cost per background).
const BACKGROUND_LEVEL: i32 = 7;
/// Level for the per-render bands: speed matters more than the last few percent.
const RENDER_LEVEL: i32 = 2;

struct Band {
    /// A complete IDAT chunk (length, type, data, CRC) holding this band's deflate bytes.
    chunk: Vec<u8>,
    raw_len: u64,
    adler: u32,
}

pub(crate) struct PngBase {
    width: u32,
    height: u32,
    channels: usize,
    /// Signature, IHDR and an IDAT holding the zlib header.
    prefix: Vec<u8>,
    bands: Vec<Band>,
}

fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 12);
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(&crc.finalize().to_be_bytes());
    out
}

/// zlib's adler32_combine: the checksum of A‖B from those of A and B and B's length.
fn adler32_combine(adler1: u32, adler2: u32, len2: u64) -> u32 {
    const BASE: u64 = 65521;
    let rem = len2 % BASE;
    let mut sum1 = u64::from(adler1 & 0xffff);
    let mut sum2 = (rem * sum1) % BASE;
    sum1 += u64::from(adler2 & 0xffff) + BASE - 1;
    sum2 += u64::from(adler1 >> 16) + u64::from(adler2 >> 16) + BASE - rem;
    if sum1 >= BASE {
        sum1 -= BASE;
    }
    if sum1 >= BASE {
        sum1 -= BASE;
    }
    if sum2 >= BASE << 1 {
        sum2 -= BASE << 1;
    }
    if sum2 >= BASE {
        sum2 -= BASE;
    }
    (sum1 | (sum2 << 16)) as u32
}

fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let p = i16::from(a) + i16::from(b) - i16::from(c);
    let (pa, pb, pc) = (
        (p - i16::from(a)).abs(),
        (p - i16::from(b)).abs(),
        (p - i16::from(c)).abs(),
    );
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

/// Appends filtered scanlines for `rows` (tightly packed, `stride` bytes each). The first row is
/// filtered without the row above (None or Sub); the others try all five filters and keep the one
/// with the smallest sum of absolute differences (libpng's heuristic).
fn filter_band(rows: &[u8], stride: usize, bpp: usize, out: &mut Vec<u8>) {
    let mut candidate = vec![0u8; stride];
    let mut best = vec![0u8; stride];
    let cost = |v: &[u8]| {
        v.iter()
            .map(|&b| u32::from((b as i8).unsigned_abs()))
            .sum::<u32>()
    };
    for (r, row) in rows.chunks_exact(stride).enumerate() {
        let prev = if r == 0 {
            None
        } else {
            Some(&rows[(r - 1) * stride..r * stride])
        };
        let mut best_type = 0u8;
        best.copy_from_slice(row);
        let mut best_cost = cost(&best);
        let filters: &[u8] = if prev.is_some() { &[1, 2, 3, 4] } else { &[1] };
        for &ft in filters {
            for i in 0..stride {
                let left = if i >= bpp { row[i - bpp] } else { 0 };
                let up = prev.map_or(0, |p| p[i]);
                let up_left = if i >= bpp {
                    prev.map_or(0, |p| p[i - bpp])
                } else {
                    0
                };
                let pred = match ft {
                    1 => left,
                    2 => up,
                    3 => ((u16::from(left) + u16::from(up)) / 2) as u8,
                    _ => paeth(left, up, up_left),
                };
                candidate[i] = row[i].wrapping_sub(pred);
            }
            let c = cost(&candidate);
            if c < best_cost {
                best_cost = c;
                best_type = ft;
                std::mem::swap(&mut best, &mut candidate);
            }
        }
        out.push(best_type);
        out.extend_from_slice(&best);
    }
}

/// Raw deflate of `data`, ending on a sync flush so more blocks may follow.
fn deflate_sync(data: &[u8], level: i32) -> Result<Vec<u8>> {
    let mut compressor = CompressorOxide::new(create_comp_flags_from_zip_params(level, -15, 0));
    let mut out = Vec::with_capacity(data.len() / 2);
    let (status, consumed) = compress_to_output(&mut compressor, data, TDEFLFlush::Sync, |bytes| {
        out.extend_from_slice(bytes);
        true
    });
    if consumed != data.len() || !matches!(status, miniz_oxide::deflate::core::TDEFLStatus::Okay) {
        return Err(RenderError::Encode(format!(
            "deflate stopped early: {status:?}"
        )));
    }
    Ok(out)
}

impl PngBase {
    pub fn build(background: &Pixmap, opaque: bool) -> Result<PngBase> {
        let (width, height) = (background.width(), background.height());
        let channels = if opaque { 3 } else { 4 };
        let mut ihdr = Vec::with_capacity(13);
        ihdr.extend_from_slice(&width.to_be_bytes());
        ihdr.extend_from_slice(&height.to_be_bytes());
        ihdr.extend_from_slice(&[8, if opaque { 2 } else { 6 }, 0, 0, 0]);
        let mut prefix = b"\x89PNG\r\n\x1a\n".to_vec();
        prefix.extend(chunk(b"IHDR", &ihdr));
        // zlib header: deflate, 32 KiB window, no dictionary (0x78 0xDA passes the FCHECK test).
        prefix.extend(chunk(b"IDAT", &[0x78, 0xDA]));
        let mut base = PngBase {
            width,
            height,
            channels,
            prefix,
            bands: Vec::new(),
        };
        let row_px = width as usize * 4;
        for y0 in (0..height).step_by(BAND_ROWS as usize) {
            let y1 = (y0 + BAND_ROWS).min(height);
            let rows = &background.data()[y0 as usize * row_px..y1 as usize * row_px];
            base.bands.push(base.compress_band(rows, BACKGROUND_LEVEL)?);
        }
        Ok(base)
    }

    pub fn memory_bytes(&self) -> usize {
        self.prefix.len() + self.bands.iter().map(|b| b.chunk.len() + 32).sum::<usize>()
    }

    fn compress_band(&self, premultiplied_rows: &[u8], level: i32) -> Result<Band> {
        let stride = self.width as usize * self.channels;
        let mut pixels = Vec::new();
        let mut filtered = Vec::new();
        for band in premultiplied_rows.chunks(self.width as usize * 4 * BAND_ROWS as usize) {
            pixels.clear();
            if self.channels == 3 {
                rgb_from_opaque(band, &mut pixels);
            } else {
                straight_rgba(band, &mut pixels);
            }
            filter_band(&pixels, stride, self.channels, &mut filtered);
        }
        let deflated = deflate_sync(&filtered, level)?;
        let adler = adler2::adler32_slice(&filtered);
        Ok(Band {
            chunk: chunk(b"IDAT", &deflated),
            raw_len: filtered.len() as u64,
            adler,
        })
    }

    /// Bands [first, last) covering `area`, and their pixel rows.
    pub fn bands_for(&self, area: &BoxSpec) -> (u32, u32, u32, u32) {
        let first = area.y / BAND_ROWS;
        let last = area
            .y
            .saturating_add(area.height)
            .div_ceil(BAND_ROWS)
            .min(self.height.div_ceil(BAND_ROWS));
        (
            first,
            last,
            first * BAND_ROWS,
            (last * BAND_ROWS).min(self.height),
        )
    }

    /// Builds the final PNG from the composed rows of bands [first, last) (premultiplied RGBA).
    pub fn splice(&self, first: u32, last: u32, premultiplied_rows: &[u8]) -> Result<Vec<u8>> {
        let fresh = self.compress_band(premultiplied_rows, RENDER_LEVEL)?;
        let (first, last) = (first as usize, last as usize);
        let mut out = Vec::with_capacity(
            self.prefix.len()
                + self.bands.iter().map(|b| b.chunk.len()).sum::<usize>()
                + fresh.chunk.len(),
        );
        out.extend_from_slice(&self.prefix);
        let mut adler = 1u32;
        for (i, band) in self.bands.iter().enumerate() {
            if i == first {
                out.extend_from_slice(&fresh.chunk);
                adler = adler32_combine(adler, fresh.adler, fresh.raw_len);
            }
            if (first..last).contains(&i) {
                continue;
            }
            out.extend_from_slice(&band.chunk);
            adler = adler32_combine(adler, band.adler, band.raw_len);
        }
        // An empty final fixed-Huffman block, then the zlib trailer.
        let mut tail = vec![0x03, 0x00];
        tail.extend_from_slice(&adler.to_be_bytes());
        out.extend(chunk(b"IDAT", &tail));
        out.extend(chunk(b"IEND", &[]));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adler_combine_matches_direct_checksum() {
        let data: Vec<u8> = (0..200_000u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        for split in [0, 1, 5552, 65521, 131_072, 199_999, 200_000] {
            let (a, b) = data.split_at(split);
            let combined = adler32_combine(
                adler2::adler32_slice(a),
                adler2::adler32_slice(b),
                b.len() as u64,
            );
            assert_eq!(combined, adler2::adler32_slice(&data), "split at {split}");
        }
    }
}

//! Baseline JPEG coding of single restart intervals (tiles of `k` 4:2:0 MCUs, 16 px high) straight
//! from the background and the text layer into the output, for the spliced JPEG path.
//!
//! It reproduces jpeg-encoder's output bit for bit (tests compare the spliced result with a
//! whole-image jpeg-encoder encode): the same integer RGB→YCbCr, nearest-pixel chroma, libjpeg's
//! "islow" integer DCT, the same reciprocal quantisation, and the quantisation and Huffman tables
//! read back from the background's own JPEG header. What it saves per render compared with
//! calling the encoder on a stacked image of the touched tiles: no intermediate RGB image, no
//! per-call table set-up, header parsing or scan splitting, a DCT written so the compiler
//! vectorises it, and Huffman coding that jumps from one non-zero coefficient to the next with a
//! bit mask instead of testing all 63 (most blocks around text are mostly zeros).
use crate::render::TextLayer;

/// Zig-zag position → natural (row-major) coefficient index.
const ZIGZAG: [usize; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/// Widest tile: restart intervals are at most 8 MCUs.
pub(crate) const MAX_TILE_MCUS: usize = 8;
const MAX_TILE_W: usize = MAX_TILE_MCUS * 16;

/// `(code, length)` per Huffman symbol.
type CodeTable = [(u32, u32); 256];

/// Quantisation as jpeg-encoder does it: `(|v| + correction) × reciprocal >> 15`, sign restored.
struct Quantiser {
    reciprocal: [i32; 64],
    correction: [i32; 64],
}

impl Quantiser {
    /// From a DQT table's values (zig-zag order, 8-bit).
    fn from_dqt(values: &[u8]) -> Quantiser {
        let mut q = Quantiser {
            reciprocal: [1; 64],
            correction: [0; 64],
        };
        for (i, &v) in values.iter().enumerate().take(64) {
            // The encoder's DCT output is scaled by 8, so its divisors are the table values × 8.
            let divisor = u32::from(v) << 3;
            let natural = ZIGZAG[i];
            if divisor <= 1 {
                continue;
            }
            let mut reciprocal = (1u32 << 15) / divisor;
            let fractional = (1u32 << 15) % divisor;
            let mut correction = divisor / 2;
            if fractional != 0 {
                if fractional <= correction {
                    correction += 1;
                } else {
                    reciprocal += 1;
                }
            }
            q.reciprocal[natural] = reciprocal as i32;
            q.correction[natural] = correction as i32;
        }
        q
    }
}

/// Codes of a DHT table (ITU T.81 Annex C): lengths 1–16, codes counted up in order.
fn code_table(counts: &[u8], values: &[u8]) -> CodeTable {
    let mut table = [(0u32, 0u32); 256];
    let mut code = 0u32;
    let mut k = 0;
    for (len, &count) in counts.iter().enumerate() {
        for _ in 0..count {
            if let Some(&symbol) = values.get(k) {
                table[usize::from(symbol)] = (code, len as u32 + 1);
            }
            code += 1;
            k += 1;
        }
        code <<= 1;
    }
    table
}

pub(crate) struct TileCoder {
    quant: [Quantiser; 2],
    dc: [CodeTable; 2],
    ac: [CodeTable; 2],
    /// Per component (Y, Cb, Cr): quantisation table, DC table, AC table.
    tables: [(usize, usize, usize); 3],
    /// Reproduce jpeg-encoder's AVX2 DCT rounding (see [`dct_pass`]); it picks that DCT whenever
    /// the CPU has AVX2, so the background was encoded with it.
    avx2_rounding: bool,
}

impl TileCoder {
    /// Reads the tables from a baseline 4:2:0 YCbCr JPEG header (SOI up to and including SOS);
    /// `None` for any other layout.
    pub(crate) fn from_header(header: &[u8]) -> Option<TileCoder> {
        let mut dqt: [Option<Quantiser>; 2] = [None, None];
        let mut dht: [[Option<CodeTable>; 2]; 2] = [[None, None], [None, None]];
        let mut frame: Vec<(u8, u8, usize)> = Vec::new(); // (id, sampling, q table)
        let mut scan: Vec<(u8, usize, usize)> = Vec::new(); // (id, dc, ac)
        let mut pos = 2;
        while pos + 4 <= header.len() {
            if header[pos] != 0xFF {
                return None;
            }
            let marker = header[pos + 1];
            let len = usize::from(u16::from_be_bytes([header[pos + 2], header[pos + 3]]));
            let body = header.get(pos + 4..pos + 2 + len)?;
            match marker {
                0xDB => {
                    let mut b = body;
                    while b.len() >= 65 {
                        // 8-bit precision only (high nibble 0).
                        if b[0] >> 4 != 0 || usize::from(b[0] & 15) > 1 {
                            return None;
                        }
                        dqt[usize::from(b[0] & 15)] = Some(Quantiser::from_dqt(&b[1..65]));
                        b = &b[65..];
                    }
                }
                0xC4 => {
                    let mut b = body;
                    while b.len() >= 17 {
                        let (class, id) = (usize::from(b[0] >> 4), usize::from(b[0] & 15));
                        let n: usize = b[1..17].iter().map(|&c| usize::from(c)).sum();
                        let values = b.get(17..17 + n)?;
                        if class > 1 || id > 1 {
                            return None;
                        }
                        dht[class][id] = Some(code_table(&b[1..17], values));
                        b = &b[17 + n..];
                    }
                }
                0xC0 => {
                    let n = usize::from(*body.get(5)?);
                    for c in 0..n {
                        let at = 6 + 3 * c;
                        let part = body.get(at..at + 3)?;
                        frame.push((part[0], part[1], usize::from(part[2])));
                    }
                }
                0xC1..=0xCF if marker != 0xC4 && marker != 0xC8 && marker != 0xCC => return None,
                0xDA => {
                    let n = usize::from(*body.first()?);
                    for c in 0..n {
                        let at = 1 + 2 * c;
                        let part = body.get(at..at + 2)?;
                        scan.push((
                            part[0],
                            usize::from(part[1] >> 4),
                            usize::from(part[1] & 15),
                        ));
                    }
                    break;
                }
                _ => {}
            }
            pos += 2 + len;
        }
        // Y 2×2, Cb 1×1, Cr 1×1, scanned in that order.
        if frame.len() != 3
            || frame[0].1 != 0x22
            || frame[1].1 != 0x11
            || frame[2].1 != 0x11
            || scan.len() != 3
            || (0..3).any(|c| scan[c].0 != frame[c].0)
        {
            return None;
        }
        let mut tables = [(0, 0, 0); 3];
        for c in 0..3 {
            let (q, dc, ac) = (frame[c].2, scan[c].1, scan[c].2);
            if q > 1 || dc > 1 || ac > 1 {
                return None;
            }
            dqt[q].as_ref()?;
            dht[0][dc].as_ref()?;
            dht[1][ac].as_ref()?;
            tables[c] = (q, dc, ac);
        }
        // An unused table slot gets a placeholder.
        let [q0, q1] = dqt.map(|q| q.unwrap_or_else(|| Quantiser::from_dqt(&[1; 64])));
        let [[dc0, dc1], [ac0, ac1]] = dht;
        let empty = [(0, 0); 256];
        Some(TileCoder {
            quant: [q0, q1],
            dc: [dc0.unwrap_or(empty), dc1.unwrap_or(empty)],
            ac: [ac0.unwrap_or(empty), ac1.unwrap_or(empty)],
            tables,
            avx2_rounding: encoder_uses_avx2(),
        })
    }

    /// Appends the entropy-coded data of one restart interval: `mcus` MCUs starting at image
    /// pixel (x0, y0), from the premultiplied RGBA `background` (`width` × `height`) with `layer`
    /// blended in and composited over white. Pixels past the right and bottom edges repeat the
    /// edge pixels, as the whole-image encoder pads.
    #[allow(clippy::too_many_arguments)] // the tile and its sources; a struct would only rename
    pub(crate) fn encode_tile(
        &self,
        background: &[u8],
        width: u32,
        height: u32,
        layer: &TextLayer,
        x0: u32,
        y0: u32,
        mcus: usize,
        out: &mut Vec<u8>,
    ) {
        let tile_w = (mcus * 16).min(MAX_TILE_W);
        let half_w = tile_w / 2;
        let mut luma = [0u8; 16 * MAX_TILE_W];
        let mut cb = [0u8; 8 * MAX_TILE_W / 2];
        let mut cr = [0u8; 8 * MAX_TILE_W / 2];
        let mut row = [0u8; MAX_TILE_W * 4];
        let n = (width.saturating_sub(x0) as usize).min(tile_w);
        let stride = width as usize * 4;
        for r in 0..16 {
            let y = (y0 + r as u32).min(height - 1);
            let start = y as usize * stride + x0 as usize * 4;
            let row = &mut row[..tile_w * 4];
            row[..n * 4].copy_from_slice(&background[start..start + n * 4]);
            layer.blend_row(&mut row[..n * 4], x0, y);
            let (head, tail) = row.split_at_mut(n * 4);
            let last = [
                head[n * 4 - 4],
                head[n * 4 - 3],
                head[n * 4 - 2],
                head[n * 4 - 1],
            ];
            for px in tail.chunks_exact_mut(4) {
                px.copy_from_slice(&last);
            }
            for (px, l) in row
                .chunks_exact(4)
                .zip(&mut luma[r * tile_w..(r + 1) * tile_w])
            {
                let (red, green, blue) = over_white(px);
                *l = ((19595 * red + 38470 * green + 7471 * blue + 0x7FFF) >> 16) as u8;
            }
            // Nearest-pixel 4:2:0 chroma: the top-left pixel of every 2×2.
            if r % 2 == 0 {
                let at = (r / 2) * half_w;
                for ((px, b), c) in row
                    .chunks_exact(8)
                    .zip(&mut cb[at..at + half_w])
                    .zip(&mut cr[at..at + half_w])
                {
                    let (red, green, blue) = over_white(px);
                    *b = ((-11059 * red - 21709 * green + 32768 * blue + (128 << 16) + 0x7FFF)
                        >> 16) as u8;
                    *c = ((32768 * red - 27439 * green - 5329 * blue + (128 << 16) + 0x7FFF) >> 16)
                        as u8;
                }
            }
        }

        let mut bits = BitWriter::new(out);
        let mut prev_dc = [0i32; 3];
        let mut block = [0i32; 64];
        for m in 0..tile_w / 16 {
            for (bx, by) in [(0, 0), (8, 0), (0, 8), (8, 8)] {
                // Loaded transposed: the DCT's first pass then runs down columns.
                let x = m * 16 + bx;
                for yy in 0..8 {
                    let src = &luma[(by + yy) * tile_w + x..][..8];
                    for xx in 0..8 {
                        block[xx * 8 + yy] = i32::from(src[xx]) - 128;
                    }
                }
                self.code_block(&mut block, 0, &mut prev_dc[0], &mut bits);
            }
            for (c, plane) in [(1, &cb), (2, &cr)] {
                for yy in 0..8 {
                    let src = &plane[yy * half_w + m * 8..][..8];
                    for xx in 0..8 {
                        block[xx * 8 + yy] = i32::from(src[xx]) - 128;
                    }
                }
                self.code_block(&mut block, c, &mut prev_dc[c], &mut bits);
            }
        }
        bits.finish();
    }

    /// DCT, quantisation and Huffman coding of one block (input transposed, level-shifted).
    #[inline]
    fn code_block(
        &self,
        block: &mut [i32; 64],
        component: usize,
        prev_dc: &mut i32,
        bits: &mut BitWriter<'_>,
    ) {
        let (q, dc, ac) = self.tables[component];
        let quant = &self.quant[q];
        fdct_transposed(block, self.avx2_rounding);
        let mut coef = [0i32; 64];
        for i in 0..64 {
            let v = block[i];
            let a = v.abs();
            let p = ((a + quant.correction[i]) * quant.reciprocal[i]) >> 15;
            coef[i] = if v < 0 { -p } else { p };
        }
        let mut zz = [0i32; 64];
        for (z, &natural) in zz.iter_mut().zip(&ZIGZAG) {
            *z = coef[natural];
        }
        // Bit i set when zig-zag coefficient i is non-zero: 0/1 bytes (a vectorised compare),
        // eight at a time gathered into one byte by a multiply (byte k → bit k).
        let mut flags = [0u8; 64];
        for (f, &z) in flags.iter_mut().zip(&zz) {
            *f = u8::from(z != 0);
        }
        let mut nonzero = 0u64;
        for (k, chunk) in flags.chunks_exact(8).enumerate() {
            let bytes = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
            nonzero |= (bytes.wrapping_mul(0x0102_0408_1020_4080) >> 56) << (8 * k);
        }

        let diff = zz[0] - *prev_dc;
        *prev_dc = zz[0];
        let (size, extra) = magnitude(diff);
        let (code, len) = self.dc[dc][size as usize];
        bits.put((code << size) | extra, len + size);

        let table = &self.ac[ac];
        let mut rest = nonzero & !1;
        let mut next = 1u32;
        while rest != 0 {
            let k = rest.trailing_zeros();
            rest &= rest - 1;
            let mut run = k - next;
            while run > 15 {
                let (code, len) = table[0xF0];
                bits.put(code, len);
                run -= 16;
            }
            let (size, extra) = magnitude(zz[k as usize]);
            let (code, len) = table[((run << 4) | size) as usize];
            bits.put((code << size) | extra, len + size);
            next = k + 1;
        }
        if next < 64 {
            let (code, len) = table[0x00];
            bits.put(code, len);
        }
    }
}

/// The same run-time check jpeg-encoder (feature `simd`) makes to choose its AVX2 code.
fn encoder_uses_avx2() -> bool {
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    {
        std::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
    {
        false
    }
}

#[inline(always)]
fn over_white(px: &[u8]) -> (i32, i32, i32) {
    // Premultiplied c ≤ a, so c + (255 - a) ≤ 255 (as `encode::rgb_over_white`).
    let inv = 255 - px[3];
    (
        i32::from(px[0] + inv),
        i32::from(px[1] + inv),
        i32::from(px[2] + inv),
    )
}

/// JPEG's (size category, extra bits) of a coefficient or DC difference.
#[inline(always)]
fn magnitude(v: i32) -> (u32, u32) {
    let size = 32 - v.unsigned_abs().leading_zeros();
    let extra = (v - i32::from(v < 0)) as u32 & ((1u32 << size) - 1);
    (size, extra)
}

const CONST_BITS: i32 = 13;
const PASS1_BITS: i32 = 2;
const FIX_0_298631336: i32 = 2446;
const FIX_0_390180644: i32 = 3196;
const FIX_0_541196100: i32 = 4433;
const FIX_0_765366865: i32 = 6270;
const FIX_0_899976223: i32 = 7373;
const FIX_1_175875602: i32 = 9633;
const FIX_1_501321110: i32 = 12299;
const FIX_1_847759065: i32 = 15137;
const FIX_1_961570560: i32 = 16069;
const FIX_2_053119869: i32 = 16819;
const FIX_2_562915447: i32 = 20995;
const FIX_3_072711026: i32 = 25172;

/// One pass of libjpeg's islow DCT applied to each of the 8 columns of `d` (element `[k*8 + x]`
/// is sample `k` of column `x`), written column-parallel so it vectorises. `first` selects the
/// first pass's scaling.
///
/// `avx2_rounding`: jpeg-encoder 0.7's AVX2 DCT builds the second pass's rounding constant for
/// outputs 0 and 4 with `_mm256_set_epi32` but adds it as 16-bit lanes, so only even columns get
/// the `+2`; odd columns are floored. Matching it keeps re-encoded tiles byte-identical to the
/// background the encoder produced (a ±1 before quantisation, invisible either way).
#[inline(always)]
fn dct_pass(d: &[i32; 64], out: &mut [i32; 64], first: bool, avx2_rounding: bool) {
    let (shift_even, shift_odd, up) = if first {
        (0, CONST_BITS - PASS1_BITS, PASS1_BITS)
    } else {
        (PASS1_BITS, CONST_BITS + PASS1_BITS, 0)
    };
    let round_odd = 1 << (shift_odd - 1);
    for x in 0..8 {
        let add_even = match (first, avx2_rounding && x % 2 == 1) {
            (true, _) | (false, true) => 0,
            (false, false) => 1 << (PASS1_BITS - 1),
        };
        let tmp0 = d[x] + d[56 + x];
        let tmp7 = d[x] - d[56 + x];
        let tmp1 = d[8 + x] + d[48 + x];
        let tmp6 = d[8 + x] - d[48 + x];
        let tmp2 = d[16 + x] + d[40 + x];
        let tmp5 = d[16 + x] - d[40 + x];
        let tmp3 = d[24 + x] + d[32 + x];
        let tmp4 = d[24 + x] - d[32 + x];

        let tmp10 = tmp0 + tmp3;
        let tmp13 = tmp0 - tmp3;
        let tmp11 = tmp1 + tmp2;
        let tmp12 = tmp1 - tmp2;
        out[x] = (((tmp10 + tmp11) << up) + add_even) >> shift_even;
        out[32 + x] = (((tmp10 - tmp11) << up) + add_even) >> shift_even;
        let z1 = (tmp12 + tmp13) * FIX_0_541196100;
        out[16 + x] = (z1 + tmp13 * FIX_0_765366865 + round_odd) >> shift_odd;
        out[48 + x] = (z1 - tmp12 * FIX_1_847759065 + round_odd) >> shift_odd;

        let z1 = tmp4 + tmp7;
        let z2 = tmp5 + tmp6;
        let z3 = tmp4 + tmp6;
        let z4 = tmp5 + tmp7;
        let z5 = (z3 + z4) * FIX_1_175875602;
        let tmp4 = tmp4 * FIX_0_298631336;
        let tmp5 = tmp5 * FIX_2_053119869;
        let tmp6 = tmp6 * FIX_3_072711026;
        let tmp7 = tmp7 * FIX_1_501321110;
        let z1 = z1 * -FIX_0_899976223;
        let z2 = z2 * -FIX_2_562915447;
        let z3 = z3 * -FIX_1_961570560 + z5;
        let z4 = z4 * -FIX_0_390180644 + z5;
        out[56 + x] = (tmp4 + z1 + z3 + round_odd) >> shift_odd;
        out[40 + x] = (tmp5 + z2 + z4 + round_odd) >> shift_odd;
        out[24 + x] = (tmp6 + z2 + z3 + round_odd) >> shift_odd;
        out[8 + x] = (tmp7 + z1 + z4 + round_odd) >> shift_odd;
    }
}

/// libjpeg's islow forward DCT (as jpeg-encoder's, bit for bit) of a block given transposed
/// (`block[x*8 + y]`); the result is in natural order (`[v*8 + u]`).
fn fdct_transposed(block: &mut [i32; 64], avx2_rounding: bool) {
    // Pass 1 transforms each image row: with the block transposed those are columns here.
    let mut rows_done = [0i32; 64];
    dct_pass(block, &mut rows_done, true, avx2_rounding);
    // rows_done[u*8 + y] is row y's coefficient u; pass 2 wants [y*8 + u].
    let mut t = [0i32; 64];
    for u in 0..8 {
        for y in 0..8 {
            t[y * 8 + u] = rows_done[u * 8 + y];
        }
    }
    dct_pass(&t, block, false, avx2_rounding);
    // The encoder stores coefficients as i16.
    for v in block.iter_mut() {
        *v = i32::from(*v as i16);
    }
}

/// MSB-first bit packing with JPEG's 0xFF 0x00 byte stuffing.
struct BitWriter<'a> {
    out: &'a mut Vec<u8>,
    acc: u64,
    /// Valid low bits in `acc` (< 32 between calls).
    n: u32,
}

impl<'a> BitWriter<'a> {
    fn new(out: &'a mut Vec<u8>) -> Self {
        BitWriter { out, acc: 0, n: 0 }
    }

    /// Appends the low `len` bits of `value` (`len` ≤ 27).
    #[inline(always)]
    fn put(&mut self, value: u32, len: u32) {
        self.acc = (self.acc << len) | u64::from(value);
        self.n += len;
        if self.n >= 32 {
            self.n -= 32;
            let word = (self.acc >> self.n) as u32;
            self.write_word(word);
        }
    }

    #[inline(always)]
    fn write_word(&mut self, word: u32) {
        let bytes = word.to_be_bytes();
        // Any 0xFF byte? (a byte is 0xFF iff its complement is zero)
        let inv = !word;
        if (inv.wrapping_sub(0x0101_0101) & !inv & 0x8080_8080) == 0 {
            self.out.extend_from_slice(&bytes);
        } else {
            for b in bytes {
                self.out.push(b);
                if b == 0xFF {
                    self.out.push(0);
                }
            }
        }
    }

    /// Pads with 1 bits to a byte boundary and writes what is left (end of a restart interval).
    fn finish(mut self) {
        let pad = (8 - self.n % 8) % 8;
        self.put((1 << pad) - 1, pad);
        while self.n >= 8 {
            self.n -= 8;
            let b = (self.acc >> self.n) as u8;
            self.out.push(b);
            if b == 0xFF {
                self.out.push(0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magnitude_categories_match_the_standard() {
        assert_eq!(magnitude(0), (0, 0));
        assert_eq!(magnitude(1), (1, 1));
        assert_eq!(magnitude(-1), (1, 0));
        assert_eq!(magnitude(3), (2, 3));
        assert_eq!(magnitude(-3), (2, 0));
        assert_eq!(magnitude(-4), (3, 3));
        assert_eq!(magnitude(1023), (10, 1023));
        assert_eq!(magnitude(-2047), (11, 0));
    }

    #[test]
    fn dct_matches_libjpeg_islow() {
        // jpeg-encoder's own test vectors for its (libjpeg) DCT.
        const INPUT: [i32; 64] = [
            -70, -71, -70, -68, -67, -67, -67, -67, -72, -73, -72, -70, -69, -69, -68, -69, -75,
            -76, -74, -73, -73, -72, -71, -70, -77, -78, -77, -75, -76, -75, -73, -71, -78, -77,
            -77, -76, -79, -77, -76, -75, -78, -78, -77, -77, -77, -77, -78, -77, -79, -79, -78,
            -78, -78, -78, -79, -78, -80, -79, -78, -78, -81, -80, -78, -76,
        ];
        const OUTPUT: [i32; 64] = [
            -4786, -66, 2, -18, 12, 12, 5, -7, 223, -37, -8, 21, 8, 5, -4, 6, 60, 6, -10, 5, 0, -2,
            -1, 5, 21, 21, -15, 12, -2, -7, 1, 0, -2, -5, 16, -15, 0, 5, -4, -8, 0, -7, -4, 6, 7,
            -4, 5, 4, 3, 0, 1, -5, 0, -1, 4, 1, -5, 7, 0, -3, -6, 1, 1, -4,
        ];
        let mut block = [0i32; 64];
        for y in 0..8 {
            for x in 0..8 {
                block[x * 8 + y] = INPUT[y * 8 + x];
            }
        }
        fdct_transposed(&mut block, false);
        assert_eq!(block, OUTPUT);
    }

    #[test]
    fn bit_writer_stuffs_ff_bytes_and_pads_with_ones() {
        let mut out = Vec::new();
        let mut w = BitWriter::new(&mut out);
        w.put(0xFF, 8);
        w.put(0x12, 8);
        w.put(0xFFFF, 16);
        w.put(0b101, 3);
        w.finish();
        assert_eq!(out, [0xFF, 0x00, 0x12, 0xFF, 0x00, 0xFF, 0x00, 0b1011_1111]);
    }
}

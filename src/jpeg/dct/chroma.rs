//! Chroma downsampling in the DCT domain: a 4:4:4, 4:2:2 or 4:4:0 frame becomes 4:2:0, as the
//! pixel path's output is, without going through pixels. Two or four input chroma blocks make
//! one output block by a fixed linear map on their coefficients (Dugad & Ahuja): each input
//! block's low-frequency half along a merged axis is its 4-point-DCT picture at half the
//! resolution; the halves side by side, through a forward 8-point DCT, are the output block.
//! The map is precomputed per axis (8 × 8), and fused with the requantization: the input's
//! coefficients are dequantized, mapped and quantized to the output's table in one step.
//!
//! The luma is not touched: its blocks move to the 4:2:0 frame's grid, whose partial MCUs may
//! need one more column or row of blocks (outside the picture: the edge block's DC, no AC).
use super::frame::{Component, Frame};
use super::quant::{MAX_COEF, NATURAL_ORDER, upsampled_pair_gain};
use super::refusal::Refusal;
use super::store::Sparse;
use super::store::{position, value};
use super::trellis::Trellis;
use crate::jpeg::header;

/// How many input chroma blocks make one output block, across and down (1 or 2 each).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Merge {
    pub across: usize,
    pub down: usize,
}

/// The merge a three-component frame needs to become 4:2:0: full-resolution luma, both chroma
/// components alike, at full or half resolution along each axis. `None` for the layouts it
/// cannot map (4:1:1: chroma at a quarter of the width would need upsampling).
pub fn merge(frame: &Frame) -> Option<Merge> {
    let [y, cb, cr] = frame.components.as_slice() else {
        return None;
    };
    let hmax = y.h.max(cb.h).max(cr.h);
    let vmax = y.v.max(cb.v).max(cr.v);
    if (y.h, y.v) != (hmax, vmax) || (cb.h, cb.v) != (cr.h, cr.v) {
        return None;
    }
    let ratio = |max: usize, c: usize| match (max % c, max / c) {
        (0, 1) => Some(2),
        (0, 2) => Some(1),
        _ => None,
    };
    Some(Merge {
        across: ratio(hmax, cb.h)?,
        down: ratio(vmax, cb.v)?,
    })
}

/// True when the frame needs no change of grid to be 4:2:0 (it is 4:2:0 as the output writes
/// it: luma 2x2, chroma 1x1).
pub fn is_420(frame: &Frame) -> bool {
    header::is_420(frame.components.iter().map(|c| (c.h, c.v)))
}

/// The 1-D map of one axis, `out[u] = Σ m[u][i] × in[i]`: with two blocks merged, `in` is the
/// first four coefficients of each (block-major); with one, all eight of the block.
fn axis(merged: bool) -> [[f64; 8]; 8] {
    let mut m = [[0.0; 8]; 8];
    if !merged {
        for (u, row) in m.iter_mut().enumerate() {
            row[u] = 1.0;
        }
        return m;
    }
    let c = |k: usize| if k == 0 { 1.0 / 2f64.sqrt() } else { 1.0 };
    let pi = std::f64::consts::PI;
    // Orthonormal DCTs, as JPEG's: dct8[u][x], idct4[x][k].
    let dct8 = |u: usize, x: usize| {
        c(u) * (2.0 / 8.0f64).sqrt() * ((2 * x + 1) as f64 * u as f64 * pi / 16.0).cos()
    };
    let idct4 = |x: usize, k: usize| {
        c(k) * (2.0 / 4.0f64).sqrt() * ((2 * x + 1) as f64 * k as f64 * pi / 8.0).cos()
    };
    for (u, row) in m.iter_mut().enumerate() {
        for block in 0..2 {
            for k in 0..4 {
                // A 4-point inverse of an 8-point block's coefficients is √2 too large (a
                // flat block's DC is 8·a/√8 in 8 points, 4·a/√4 in 4): scaled so that a flat
                // block keeps its DC.
                row[block * 4 + k] = (0..4)
                    .map(|x| dct8(u, block * 4 + x) * idct4(x, k))
                    .sum::<f64>()
                    / 2f64.sqrt();
            }
        }
    }
    m
}

/// An axis map with the smoothing of a decode and re-encode folded in, as gains on its output
/// frequencies: along a merged axis, the encoder's average of two full-resolution samples
/// (response cos(πu/32) at the output's frequency u); along an axis the input has at half
/// resolution already, the decoder's triangle upsampling and that average together (the
/// filter (1, 6, 1) / 8: [`upsampled_pair_gain`]).
fn smoothed(mut m: [[f64; 8]; 8], merged: bool) -> [[f64; 8]; 8] {
    let pi = std::f64::consts::PI;
    for (u, row) in m.iter_mut().enumerate() {
        let gain = if merged {
            (pi * u as f64 / 32.0).cos()
        } else {
            upsampled_pair_gain(u)
        };
        for w in row.iter_mut() {
            *w *= gain;
        }
    }
    m
}

/// A block mirrored left-right (bit 0) and/or top-bottom (bit 1).
#[derive(Clone, Copy, Debug, Default)]
struct Flip(u8);

/// Per zigzag position: bit 0 set for an odd horizontal frequency, bit 1 for an odd vertical one.
const PARITY: [u8; 64] = {
    let mut p = [0u8; 64];
    let mut k = 0;
    while k < 64 {
        let n = NATURAL_ORDER[k];
        p[k] = (n % 2) as u8 | (((n / 8) % 2) as u8) << 1;
        k += 1;
    }
    p
};

/// One input coefficient's contributions, in the sums' order ([`Map::place`]): all 64 when
/// both axes are merged (4:4:4), else one line of 8, since the other axis's map is diagonal
/// (4:2:2: an input column only reaches the same output column; 4:4:0: a row, the same row).
enum Weights {
    All(Box<[f32; 64]>),
    Line(usize, [f32; 8]),
}

/// The fused map of one component: for each input block of a merge group and each of its
/// used coefficients (zigzag order), its contribution to the output block's 64 coefficients
/// (zigzag order), dequantized by the input's table and divided by the output's step.
pub struct Map {
    merge: Merge,
    /// Indexed by `group block × 64 + input zigzag position`; `None` for unused positions.
    weights: Vec<Option<Weights>>,
    /// Per output zigzag position, its place in the sums of [`Map::block`]: lines of 8, a
    /// column of the output block per line when only rows are merged (4:2:2), else a row.
    place: [u8; 64],
    /// The inverse of `place`: per place in the sums, its output zigzag position.
    zigzag: [u8; 64],
    /// Under `--best`: the AC coefficients are chosen by trellis quantization.
    trellis: Option<Box<Trellis>>,
}

impl Map {
    /// The map of a component with input table `input` and output table `output` (zigzag).
    pub fn new(merge: Merge, input: &[u16; 64], output: &[u16; 64], trellis: bool) -> Self {
        let h = smoothed(axis(merge.across == 2), merge.across == 2);
        let v = smoothed(axis(merge.down == 2), merge.down == 2);
        // Coefficients of an input block that the map uses, per axis.
        let (nu, nv) = (8 / merge.across, 8 / merge.down);
        let mut place = [0u8; 64];
        for (slot, &natural) in place.iter_mut().zip(NATURAL_ORDER.iter()) {
            let (ov, ou) = (natural / 8, natural % 8);
            *slot = if merge.down == 2 && merge.across == 1 {
                ou * 8 + ov
            } else {
                ov * 8 + ou
            } as u8;
        }
        let mut weights = Vec::with_capacity(merge.across * merge.down * 64);
        for by in 0..merge.down {
            for bx in 0..merge.across {
                for (k, &natural) in NATURAL_ORDER.iter().enumerate() {
                    let (iv, iu) = (natural / 8, natural % 8);
                    if iv >= nv || iu >= nu {
                        weights.push(None);
                        continue;
                    }
                    let (i, j) = (by * nv + iv, bx * nu + iu);
                    let mut w = [0f32; 64];
                    for o in 0..64 {
                        let (ov, ou) = (NATURAL_ORDER[o] / 8, NATURAL_ORDER[o] % 8);
                        let scale = f64::from(input[k]) / f64::from(output[o].max(1));
                        w[usize::from(place[o])] = (v[ov][i] * h[ou][j] * scale) as f32;
                    }
                    let lines: Vec<usize> = (0..8)
                        .filter(|&l| w[l * 8..l * 8 + 8].iter().any(|&x| x != 0.0))
                        .collect();
                    weights.push(Some(match lines.as_slice() {
                        &[l] => {
                            let mut line = [0f32; 8];
                            line.copy_from_slice(&w[l * 8..l * 8 + 8]);
                            Weights::Line(l, line)
                        }
                        _ => Weights::All(Box::new(w)),
                    }));
                }
            }
        }
        let trellis = trellis.then(|| Box::new(Trellis::new(&[1.0; 64], output, 1)));
        let mut zigzag = [0u8; 64];
        for (k, &p) in place.iter().enumerate() {
            zigzag[usize::from(p) & 63] = k as u8;
        }
        Map {
            merge,
            weights,
            place,
            zigzag,
            trellis,
        }
    }

    /// One output block from its group's input blocks, each a DC value, AC entries and a
    /// mirroring ([`Flip`]), into `out` as sparse entries; returns the DC value.
    fn block(&self, inputs: &[(i32, &[u32], Flip)], out: &mut Vec<u32>) -> i32 {
        let mut sums = [0f32; 64];
        let mut add = |g: usize, k: usize, c: i32, flip: Flip| {
            let Some(w) = &self.weights[g * 64 + k] else {
                return;
            };
            // Mirroring a block negates its odd frequencies along the mirrored axis.
            let odd = (flip.0 & PARITY[k]).count_ones() % 2 == 1;
            let c = if odd { -c as f32 } else { c as f32 };
            let (sums, w): (&mut [f32], &[f32]) = match w {
                Weights::All(w) => (&mut sums[..], &w[..]),
                Weights::Line(l, w) => (&mut sums[(l & 7) * 8..(l & 7) * 8 + 8], &w[..]),
            };
            for (a, w) in sums.iter_mut().zip(w) {
                *a += c * w;
            }
        };
        for (g, &(dc, entries, flip)) in inputs.iter().enumerate() {
            add(g, 0, dc, flip);
            for &e in entries {
                add(g, position(e) as usize, value(e), flip);
            }
        }
        // The sums are in their own order; `place` reads them in zigzag order.
        let at = |k: usize| usize::from(self.place[k & 63]) & 63;
        if let Some(trellis) = &self.trellis {
            // The sums are in output steps; the trellis takes DCT units.
            let mut src = [0f32; 64];
            for (k, s) in src.iter_mut().enumerate() {
                *s = sums[at(k)] * trellis.step(k);
            }
            let mut chosen = [0u32; 64];
            let n = trellis.quantize(&src, &mut chosen);
            out.extend_from_slice(&chosen[..n]);
            return round_away(sums[at(0)]);
        }
        // The sums that round to non-zero (|a| ≥ ½), found in one pass over the block, so that
        // rounding and the zigzag order are work for those few only: a flag byte per sum (a
        // loop the compiler vectorizes), then each 8 flags, read as one little-endian word,
        // become 8 bits by one multiplication (the product's top byte gathers byte i's flag at
        // bit i, no two terms sharing a bit).
        let mut flags = [0u8; 64];
        for (f, a) in flags.iter_mut().zip(&sums) {
            *f = u8::from(a.abs() >= 0.5);
        }
        let mut found = 0u64;
        for (line, &bytes) in flags.as_chunks::<8>().0.iter().enumerate() {
            let word = u64::from_le_bytes(bytes);
            found |= (word.wrapping_mul(0x0102_0408_1020_4080) >> 56) << (line * 8);
        }
        let mut zigzag = 0u64;
        while found != 0 {
            zigzag |= 1 << (self.zigzag[found.trailing_zeros() as usize] & 63);
            found &= found - 1;
        }
        zigzag &= !1;
        while zigzag != 0 {
            let k = zigzag.trailing_zeros() as usize;
            zigzag &= zigzag - 1;
            out.push(Sparse::entry(k, round_away(sums[at(k)])));
        }
        round_away(sums[at(0)])
    }
}

/// `a` rounded (halfway away from zero, as `f32::round`) and clamped to ±[`MAX_COEF`], without
/// a call: `f32::round` is a call to libm's `roundf` on x86-64 without SSE4.1. Adding and
/// taking away 1.5 × 2^23 rounds to an integer (halfway to even, corrected to away from zero);
/// the integer is then the low bits of `x + 1.5 × 2^23`.
#[inline(always)]
fn round_away(a: f32) -> i32 {
    const MAGIC: f32 = 12_582_912.0;
    const LIMIT: f32 = MAX_COEF as f32;
    let a = a.clamp(-LIMIT, LIMIT);
    let even = (a + MAGIC) - MAGIC;
    let d = a - even;
    let away = if d == 0.5 && a > 0.0 {
        even + 1.0
    } else if d == -0.5 && a < 0.0 {
        even - 1.0
    } else {
        even
    };
    (away + MAGIC).to_bits() as i32 - MAGIC.to_bits() as i32
}

/// Turns `frame` and its stores (luma requantized, chroma as the input has them) into the
/// 4:2:0 frame of the same size and its stores. `maps` are the chroma components' maps.
pub fn to_420(
    frame: Frame,
    mut stores: Vec<Sparse>,
    maps: &[Map; 2],
) -> Result<(Frame, Vec<Sparse>), Refusal> {
    let (width, height) = (frame.width, frame.height);
    let mcus_x = width.div_ceil(16);
    let mcus_y = height.div_ceil(16);
    let mut components = frame.components;
    if components.len() != 3 || stores.len() != 3 {
        return Err(Refusal::unsupported(
            "chroma downsampling of a non-YCbCr frame",
        ));
    }
    let chroma_stores = stores.split_off(1);
    let luma_store = stores
        .pop()
        .ok_or_else(|| Refusal::unsupported("no luma"))?;
    let mut out = Vec::with_capacity(3);
    out.push(regrid(luma_store, &components[0], 2 * mcus_x, 2 * mcus_y)?);
    for ((comp, store), map) in components[1..].iter().zip(&chroma_stores).zip(maps) {
        out.push(downsample(store, comp, map, mcus_x, mcus_y)?);
    }
    for (i, c) in components.iter_mut().enumerate() {
        let (h, v) = if i == 0 { (2, 2) } else { (1, 1) };
        c.h = h;
        c.v = v;
        c.coded_w = (width * h).div_ceil(2).div_ceil(8);
        c.coded_h = (height * v).div_ceil(2).div_ceil(8);
        c.blocks_w = mcus_x * h;
        c.blocks_h = mcus_y * v;
    }
    Ok((
        Frame {
            components,
            mcus_x,
            mcus_y,
            ..frame
        },
        out,
    ))
}

/// The luma's blocks on a grid of `w` × `h` blocks: those of the picture as they are, the
/// ones past it (partial MCUs) the edge block's DC with no AC, which costs two symbols. The
/// entries are not copied.
fn regrid(store: Sparse, comp: &Component, w: usize, h: usize) -> Result<Sparse, Refusal> {
    let (cw, ch) = (comp.coded_w.max(1), comp.coded_h.max(1));
    let mut out = Sparse::new(0)?;
    let n = w * h;
    out.dc = super::store::zeroed(n)?;
    out.start = super::store::zeroed(n)?;
    out.len = super::store::zeroed(n)?;
    for by in 0..h {
        for bx in 0..w {
            let from = by.min(ch - 1) * comp.blocks_w + bx.min(cw - 1);
            let to = by * w + bx;
            let (Some(&dc), Some(&start), Some(&len)) = (
                store.dc.get(from),
                store.start.get(from),
                store.len.get(from),
            ) else {
                continue;
            };
            out.dc[to] = dc;
            if bx < cw && by < ch {
                out.start[to] = start;
                out.len[to] = len;
            }
        }
    }
    out.ac = store.ac;
    Ok(out)
}

/// A chroma component's output blocks (`w` × `h`), each from its merge group of input blocks;
/// group blocks past the input's picture are its edge blocks mirrored, a smooth continuation
/// as libjpeg's replicated edge samples are (a plain copy would put an edge in the middle of
/// the output block, and ringing on the picture's side of it).
fn downsample(
    store: &Sparse,
    comp: &Component,
    map: &Map,
    w: usize,
    h: usize,
) -> Result<Sparse, Refusal> {
    let (cw, ch) = (comp.coded_w.max(1), comp.coded_h.max(1));
    let Merge { across, down } = map.merge;
    let mut out = Sparse::new(w * h)?;
    let mut entries = Vec::with_capacity(64);
    let mut inputs: Vec<(i32, &[u32], Flip)> = Vec::with_capacity(4);
    for oy in 0..h {
        for ox in 0..w {
            inputs.clear();
            for dy in 0..down {
                for dx in 0..across {
                    let (x, y) = (ox * across + dx, oy * down + dy);
                    let flip = Flip(u8::from(x >= cw) | u8::from(y >= ch) << 1);
                    let b = y.min(ch - 1) * comp.blocks_w + x.min(cw - 1);
                    match store.dc.get(b) {
                        Some(&dc) => inputs.push((i32::from(dc), store.entries(b), flip)),
                        None => inputs.push((0, &[], flip)),
                    }
                }
            }
            entries.clear();
            let dc = map.block(&inputs, &mut entries);
            let b = oy * w + ox;
            out.begin(b, dc);
            out.ac.extend_from_slice(&entries);
            out.end(b);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat_map(merge: Merge) -> Map {
        Map::new(merge, &[1; 64], &[1; 64], false)
    }

    #[test]
    fn rounding_matches_f32_round_clamped() {
        let mut values = vec![
            0.5f32,
            -0.5,
            1.5,
            -1.5,
            2.5,
            0.49999997,
            -0.49999997,
            1e9,
            -1e9,
        ];
        values.extend((-4000..4000).map(|i| i as f32 * 0.125 + 0.0625 * (i % 3) as f32));
        values.extend([
            f32::from_bits(0x3eff_ffff),
            8_388_607.5,
            -8_388_607.5,
            16_777_215.0,
        ]);
        for chunk in values.chunks(64) {
            let mut acc = [0f32; 64];
            acc[..chunk.len()].copy_from_slice(chunk);
            for &a in &acc {
                let q = round_away(a);
                let want = (a.round() as i32).clamp(-MAX_COEF, MAX_COEF);
                assert_eq!(q, want, "{a}");
            }
        }
    }

    #[test]
    fn a_flat_picture_keeps_its_dc() {
        for merge in [
            Merge { across: 2, down: 2 },
            Merge { across: 2, down: 1 },
            Merge { across: 1, down: 2 },
        ] {
            let map = flat_map(merge);
            let inputs = vec![(400, &[][..], Flip(0)); merge.across * merge.down];
            let mut out = Vec::new();
            assert_eq!(map.block(&inputs, &mut out), 400, "{merge:?}");
            assert!(out.is_empty(), "{merge:?}: {out:?}");
        }
    }

    #[test]
    fn a_step_between_blocks_is_a_horizontal_ramp() {
        // Left block dark, right block light: the output's DC is their mean, and the energy
        // goes to the first horizontal frequencies only.
        let map = flat_map(Merge { across: 2, down: 1 });
        let mut out = Vec::new();
        let dc = map.block(&[(-200, &[], Flip(0)), (200, &[], Flip(0))], &mut out);
        assert_eq!(dc, 0);
        assert!(!out.is_empty());
        for &e in &out {
            let natural = NATURAL_ORDER[position(e) as usize];
            assert_eq!(natural / 8, 0, "vertical frequency in {out:?}");
        }
        // The first AC coefficient is negative (dark to light) and the largest: a step of
        // ±25 levels over 8 rows, 8 × 25 × (cos π/16 + … + cos 7π/16) / √8 ≈ 181, smoothed
        // as the pixel path's average of two samples smooths it (× cos(π/32)): 180.
        assert_eq!(position(out[0]), 1);
        assert_eq!(value(out[0]), -180);
        assert!(out.iter().all(|&e| value(e).abs() <= 180));
    }

    #[test]
    fn a_block_beside_its_mirror_image_is_symmetric() {
        // A horizontal ramp (zigzag 1: u = 1) beside its mirror image: a tent, symmetric about
        // the output block's middle, so no odd horizontal frequency is left.
        let map = flat_map(Merge { across: 2, down: 1 });
        let ramp = [Sparse::entry(1, -120)];
        let mut out = Vec::new();
        let dc = map.block(&[(80, &ramp, Flip(0)), (80, &ramp, Flip(1))], &mut out);
        assert_eq!(dc, 80);
        assert!(!out.is_empty());
        for &e in &out {
            let natural = NATURAL_ORDER[position(e) as usize];
            assert_eq!(natural % 2, 0, "odd horizontal frequency in {out:?}");
        }
    }

    #[test]
    fn the_axis_map_is_the_pixel_average_for_smooth_blocks() {
        // A 1-D ramp over 16 samples: its two 8-point DCTs, low halves mapped, give the DCT of
        // the 8 pair averages up to the truncated high frequencies (small for a ramp).
        let pixels: Vec<f64> = (0..16).map(|x| x as f64 * 4.0).collect();
        let dct = |s: &[f64], u: usize| {
            let c = if u == 0 { 1.0 / 2f64.sqrt() } else { 1.0 };
            c * 0.5
                * s.iter()
                    .enumerate()
                    .map(|(x, v)| {
                        v * ((2 * x + 1) as f64 * u as f64 * std::f64::consts::PI / 16.0).cos()
                    })
                    .sum::<f64>()
        };
        let mut input = [0.0; 8];
        for block in 0..2 {
            for k in 0..4 {
                input[block * 4 + k] = dct(&pixels[block * 8..block * 8 + 8], k);
            }
        }
        let averages: Vec<f64> = pixels.chunks(2).map(|p| (p[0] + p[1]) / 2.0).collect();
        let m = axis(true);
        for (u, row) in m.iter().enumerate() {
            let got: f64 = row.iter().zip(&input).map(|(w, x)| w * x).sum();
            let want = dct(&averages, u);
            assert!((got - want).abs() < 1.0, "u {u}: {got} vs {want}");
        }
    }
}

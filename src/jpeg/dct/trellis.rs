//! Trellis quantization of a block's AC coefficients, as mozjpeg does it on the pixels' DCT
//! (`quantize_trellis` in its `jcdctmgr.c`, mode 1), here on the input's dequantized
//! coefficients: for each position, the candidates are the rounded value and the largest
//! value of each smaller size category (1, 3, 7, …); a dynamic programme over the zigzag
//! order picks, for each position, the run of zeros before it and its value that minimize
//! rate (bits) + λ × distortion, then where the block ends (EOB). Distortion is squared error
//! weighted by 1/q²; λ = 2^14.75 / (2^16.5 + mean squared AC value), mozjpeg's defaults, so
//! busy blocks are quantized more coarsely than flat ones. The rate is the code length in the
//! Annex K example tables ([`super::prune::ac_lengths`]). The DC value is rounded.
use super::prune::ac_lengths;
use super::store::{Sparse, position, value};

/// Largest output magnitude (8-bit JPEG AC).
const MAX: i32 = 1023;

/// mozjpeg's `lambda_log_scale1` and `lambda_log_scale2` defaults, 14.75 and 16.5, as powers
/// of two.
const LAMBDA_SCALE1: f32 = 27554.494;
const LAMBDA_SCALE2: f32 = 92681.9;

#[derive(Clone)]
pub struct Trellis {
    /// Per zigzag position: input value → libjpeg's DCT units (q_in × gain × 8).
    scale: [f32; 64],
    /// The output step in those units (8 × q_out).
    step: [f32; 64],
    /// Distortion weight, 1 / q_out².
    weight: [f32; 64],
    len: &'static [u8; 256],
}

impl Trellis {
    /// For output table `output` (zigzag), table class `class` (0 luminance, 1 chrominance);
    /// input values scaled by `scale` (zigzag: the input step × any gain).
    pub fn new(scale: &[f32; 64], output: &[u16; 64], class: usize) -> Self {
        let mut t = Trellis {
            scale: [0.0; 64],
            step: [0.0; 64],
            weight: [0.0; 64],
            len: ac_lengths(class),
        };
        for k in 0..64 {
            let q = f32::from(output[k].max(1));
            t.scale[k] = scale[k] * 8.0;
            t.step[k] = 8.0 * q;
            t.weight[k] = 1.0 / (q * q);
        }
        t
    }

    /// The output step of zigzag position `k` in DCT units (8 × q_out).
    pub fn step(&self, k: usize) -> f32 {
        self.step[k & 63]
    }

    /// Replaces a block's `n` entries, raw input values, by the output's; returns their number.
    pub fn requantize(&self, entries: &mut [u32; 64], n: usize) -> usize {
        let mut input = [0u32; 64];
        let n = n.min(64);
        input[..n].copy_from_slice(&entries[..n]);
        let src = input[..n].iter().map(|&e| {
            let k = position(e) as usize & 63;
            (k, value(e) as f32 * self.scale[k])
        });
        self.choose(src, entries)
    }

    /// Quantizes the AC values `src` (zigzag, DCT units; `src[0]` unused) into `out` as
    /// sparse entries; returns their number.
    pub fn quantize(&self, src: &[f32; 64], out: &mut [u32; 64]) -> usize {
        let nonzero = src
            .iter()
            .copied()
            .enumerate()
            .skip(1)
            .filter(|&(_, x)| x != 0.0);
        self.choose(nonzero, out)
    }

    /// The trellis over the non-zero AC values `src` (ascending zigzag positions, values in
    /// DCT units): positions between them are zero and only add to the distortion of zeroing.
    /// `src` is gone through twice (its mean square, then the trellis); the node arrays are
    /// small (bytes for positions) so that starting each block costs no `memset` call.
    fn choose(
        &self,
        src: impl Iterator<Item = (usize, f32)> + Clone,
        out: &mut [u32; 64],
    ) -> usize {
        let mut any = false;
        let norm = src
            .clone()
            .map(|(_, x)| {
                any = true;
                x * x
            })
            .sum::<f32>()
            / 63.0;
        if !any {
            return 0;
        }
        let lambda = LAMBDA_SCALE1 / (LAMBDA_SCALE2 + norm);
        let len = |symbol: u32| f32::from(self.len[symbol as usize & 255]);
        let zrl = len(0xF0);
        // Nodes: 0 is the DC position, then each position that may hold a non-zero value,
        // with its best value, the cost of the best coding of the block up to and including
        // it, the node before it, and the distortion of zeroing every position up to it.
        let mut pos = [0u8; 64];
        let mut chosen = [0i16; 64];
        let mut cost = [0f32; 64];
        let mut back = [0u8; 64];
        let mut zeroed = [0f32; 64];
        let mut nodes = 1;
        // The distortion of zeroing every position so far.
        let mut all_zero = 0f32;
        for (i, v) in src {
            let i = i & 63;
            let x = v.abs();
            let w = lambda * self.weight[i];
            let before = all_zero;
            all_zero += x * x * w;
            let q = self.step[i];
            // Truncation is the floor here (non-negative), without a call to `floorf`.
            let rounded = ((x / q + 0.5) as i32).min(MAX);
            if rounded < 1 {
                continue;
            }
            let categories = 32 - rounded.leading_zeros();
            let (mut best, mut best_value, mut best_back) = (f32::MAX, 0, 0);
            for c in 0..categories {
                let candidate = if c + 1 < categories {
                    (2 << c) - 1
                } else {
                    rounded
                };
                let bits = c + 1;
                let delta = candidate as f32 * q - x;
                let dist = delta * delta * w + before;
                for j in 0..nodes {
                    let run = (i - 1 - usize::from(pos[j])) as u32;
                    let rate =
                        (run >> 4) as f32 * zrl + len(((run & 15) << 4) | bits) + bits as f32;
                    let total = rate + dist - zeroed[j] + cost[j];
                    if total < best {
                        (best, best_value, best_back) = (total, candidate, j);
                    }
                }
            }
            pos[nodes] = i as u8;
            chosen[nodes] = (if v < 0.0 { -best_value } else { best_value }) as i16;
            cost[nodes] = best;
            back[nodes] = best_back as u8;
            zeroed[nodes] = all_zero;
            nodes += 1;
        }
        // Where the block ends: after the node whose cost, with the zeros after it and an
        // EOB, is least (node 0: no AC at all).
        let eob = len(0x00);
        let mut last = 0;
        let mut best = all_zero + eob;
        for node in 1..nodes {
            let end = if pos[node] < 63 { eob } else { 0.0 };
            let total = cost[node] + all_zero - zeroed[node] + end;
            if total < best {
                best = total;
                last = node;
            }
        }
        // The chain of nodes back from `last`, written in ascending order.
        let mut chain = [0u8; 64];
        let mut n = 0;
        let mut node = last;
        while node > 0 && n < 64 {
            chain[n] = node as u8;
            n += 1;
            node = usize::from(back[node]);
        }
        for (slot, &node) in out.iter_mut().zip(chain[..n].iter().rev()) {
            let node = usize::from(node);
            *slot = Sparse::entry(usize::from(pos[node]), i32::from(chosen[node]));
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jpeg::dct::store::{position, value};

    #[test]
    fn lambda_scales_are_mozjpegs() {
        assert!((LAMBDA_SCALE1 - 2f32.powf(14.75)).abs() < 0.01);
        assert!((LAMBDA_SCALE2 - 2f32.powf(16.5)).abs() < 0.01);
    }

    fn trellis(q: u16) -> Trellis {
        Trellis::new(&[1.0; 64], &[q; 64], 0)
    }

    fn quantized(t: &Trellis, src: &[f32; 64]) -> Vec<(u32, i32)> {
        let mut out = [0u32; 64];
        let n = t.quantize(src, &mut out);
        out[..n].iter().map(|&e| (position(e), value(e))).collect()
    }

    #[test]
    fn large_values_keep_their_rounding() {
        // Far above the step: the rounded value is the cheapest by far.
        let t = trellis(10);
        let mut src = [0f32; 64];
        src[1] = 80.0 * 41.0;
        src[2] = -80.0 * 17.0;
        assert_eq!(quantized(&t, &src), vec![(1, 41), (2, -17)]);
    }

    #[test]
    fn a_lone_small_value_far_out_is_dropped() {
        // 0.6 steps at zigzag 50 after a value at 1: plain rounding keeps a 1 that costs a
        // ZRL, a long symbol and an EOB; its distortion is worth less than those bits.
        let t = trellis(10);
        let mut src = [0f32; 64];
        src[1] = 80.0 * 20.0;
        src[50] = 80.0 * 0.6;
        assert_eq!(quantized(&t, &src), vec![(1, 20)]);
    }

    #[test]
    fn nothing_in_gives_nothing_out() {
        assert!(quantized(&trellis(10), &[0.0; 64]).is_empty());
    }

    #[test]
    fn raw_input_values_are_scaled_by_the_input_step() {
        // Input step 4, output step 8: 10 × 4 / 8 = 5.
        let t = Trellis::new(&[4.0; 64], &[8; 64], 1);
        let mut entries = [0u32; 64];
        entries[0] = Sparse::entry(1, 10);
        entries[1] = Sparse::entry(3, -60);
        let n = t.requantize(&mut entries, 2);
        let got: Vec<(u32, i32)> = entries[..n]
            .iter()
            .map(|&e| (position(e), value(e)))
            .collect();
        assert_eq!(got, vec![(1, 5), (3, -30)]);
    }
}

//! The Gaussian blur of SSIMULACRA 2 (sigma 1.5): libjxl's recursive approximation
//! ("Recursive Implementation of the Gaussian Filter Using Truncated Cosine Functions",
//! Charalampidis 2016), three second-order filters summed, the picture padded with zeros.
//! Constants as the `ssimulacra2` crate's build script derives them (f32).
//!
//! Samples are blurred several quantities at a time (up to [`LANES`]: the products of
//! `terms::Quantities`), interleaved by pixel, so that a row's recursion runs on whole
//! vectors. The row's output is written by groups of [`GROUP`] pixels, each group lane by
//! lane: the vertical pass does not care, and the SSIM terms then read each quantity of a
//! group's pixels as one vector (gathering them one by one took a third of a score).

// Lane loops index several arrays at once, which is what the compiler vectorizes best.
#![allow(clippy::needless_range_loop)]
use super::transpose::{Block, Transpose};

/// The filter's "N" (57): each output takes the inputs `RADIUS + 1` before and
/// `RADIUS - 1` after it.
pub const RADIUS: isize = 5;
/// The most quantities blurred together per pixel.
pub const LANES: usize = 16;
/// (33) `n2` for k = 1, 3, 5.
const N2: [f32; 3] = [0.055_295_236, -0.058_836_687, 0.012_955_819];
/// (33) `d1 = -2 cos(omega)` for k = 1, 3, 5.
const D1: [f32; 3] = [
    -1.902_113_1,
    -1.175_570_5,
    -0.000_000_000_000_000_122_464_69,
];

/// One step of the three recursions for `L` lanes: `sum` the two inputs added, the states
/// moved on, the new outputs in `out`. The reference writes the same recursion in two forms,
/// one for each pass (`DOWN`: the vertical one), and the forms round differently; the
/// filters have their poles on the unit circle, so rounding differences do not fade along a
/// row, and only the same operations give the same score.
#[inline(always)]
fn step<const L: usize, const DOWN: bool>(
    sum: &[f32; L],
    prev: &mut [[f32; L]; 3],
    prev2: &mut [[f32; L]; 3],
    out: &mut [f32; L],
) {
    *out = [0.0; L];
    for k in 0..3 {
        for l in 0..L {
            let o = if DOWN {
                sum[l].mul_add(N2[k], -prev[k][l].mul_add(D1[k], prev2[k][l]))
            } else {
                (-D1[k]).mul_add(prev[k][l], sum[l] * N2[k] - prev2[k][l])
            };
            prev2[k][l] = prev[k][l];
            prev[k][l] = o;
            out[l] += o;
        }
    }
}

/// Pixels per group of the output, which holds a group's quantities by lane, then pixel.
pub const GROUP: usize = 8;

/// Zero pixels on each side of a row given to [`horizontal`].
pub const MARGIN: usize = 2 * RADIUS as usize;

/// Blurs one row of `width` pixels of `N` quantities each along the row. `input` has
/// [`MARGIN`] zero pixels before and after the row's (the picture's zero padding), so that
/// the loop has no bounds to test. The output goes by groups of [`GROUP`] pixels, group `g`
/// at `output[g * stride..]`, each group's pixels turned into lanes by `transpose` (`N` a
/// multiple of 8). (No closures here: one that is not inlined is compiled without the
/// vector instructions `pulp` chose.)
#[inline(always)]
pub fn horizontal<const N: usize>(
    input: &[f32],
    output: &mut [f32],
    width: usize,
    stride: usize,
    transpose: Transpose,
) {
    const { assert!(N.is_multiple_of(8) && GROUP == 8) };
    let mut row = Along::<N> {
        input: &input[..(width + 2 * MARGIN) * N],
        i: 0,
        prev: [[0.0f32; N]; 3],
        prev2: [[0.0f32; N]; 3],
    };
    // Outputs start at step 0, the loop's i = RADIUS - 1.
    for _ in 0..RADIUS - 1 {
        row.next();
    }
    let whole = width / GROUP;
    let mut pixels = [[0.0f32; N]; GROUP];
    for g in 0..width.div_ceil(GROUP) {
        let group = &mut output[g * stride..][..GROUP * N];
        if g < whole {
            for p in 0..GROUP {
                pixels[p] = row.next();
            }
        } else {
            // Past the row's end, the group's pixels are zeros.
            for p in 0..GROUP {
                pixels[p] = if p < width % GROUP {
                    row.next()
                } else {
                    [0.0; N]
                };
            }
        }
        // Lanes `8c..8c + 8` of the group's pixels, as the group's rows `8c..8c + 8`.
        for (c, rows) in group.chunks_exact_mut(GROUP * 8).enumerate() {
            let mut block: Block = [[0.0; 8]; 8];
            for p in 0..GROUP {
                if let Some(lanes) = pixels[p][c * 8..].first_chunk::<8>() {
                    block[p] = *lanes;
                }
            }
            let lanes = transpose.block(&block);
            for (to, lanes) in rows.as_chunks_mut::<GROUP>().0.iter_mut().zip(&lanes) {
                *to = *lanes;
            }
        }
    }
}

/// The recursion along a row: step `i` (output pixel `i - (RADIUS - 1)`) and the state.
struct Along<'a, const N: usize> {
    input: &'a [f32],
    i: usize,
    prev: [[f32; N]; 3],
    prev2: [[f32; N]; 3],
}

impl<const N: usize> Along<'_, N> {
    /// Step n (from 1 - RADIUS) reads pixels n - RADIUS - 1 and n + RADIUS - 1, which are
    /// i and i + 2 RADIUS of the padded row, i = n + RADIUS - 1.
    #[inline(always)]
    fn next(&mut self) -> [f32; N] {
        let left = &self.input[self.i * N..][..N];
        let right = &self.input[(self.i + 2 * RADIUS as usize) * N..][..N];
        let mut sum = [0.0f32; N];
        for l in 0..N {
            sum[l] = left[l] + right[l];
        }
        let mut out = [0.0f32; N];
        step::<N, false>(&sum, &mut self.prev, &mut self.prev2, &mut out);
        self.i += 1;
        out
    }
}

/// The recursion's state down a band of `L` columns: two previous outputs of each filter.
pub struct Column<const L: usize> {
    prev: [[f32; L]; 3],
    prev2: [[f32; L]; 3],
}

impl<const L: usize> Column<L> {
    pub fn new() -> Self {
        Column {
            prev: [[0.0; L]; 3],
            prev2: [[0.0; L]; 3],
        }
    }

    /// The state, flattened (`6 * L` values), kept between bands of rows.
    #[inline(always)]
    pub fn save(&self, to: &mut [f32]) {
        for (chunk, lanes) in to
            .chunks_exact_mut(L)
            .zip(self.prev.iter().chain(&self.prev2))
        {
            chunk.copy_from_slice(lanes);
        }
    }

    #[inline(always)]
    pub fn load(&mut self, from: &[f32]) {
        for (chunk, lanes) in from
            .chunks_exact(L)
            .zip(self.prev.iter_mut().chain(self.prev2.iter_mut()))
        {
            lanes.copy_from_slice(chunk);
        }
    }

    /// One step down the columns: `top` is the row `RADIUS + 1` above the output row,
    /// `bottom` the row `RADIUS - 1` below it (zeros outside the picture).
    #[inline(always)]
    pub fn step(&mut self, top: &[f32], bottom: &[f32], out: &mut [f32; L]) {
        let mut sum = [0.0f32; L];
        for ((s, t), b) in sum.iter_mut().zip(top).zip(bottom) {
            *s = t + b;
        }
        step::<L, true>(&sum, &mut self.prev, &mut self.prev2, out);
    }
}

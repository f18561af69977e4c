//! Quantization: the output's tables (libjpeg's quality scaling of the JPEG Annex K tables,
//! as the pixel path's encoder sets them) and the requantization of input coefficients to them.
//! Everything is in zigzag order, the order of the coefficients in the file.
use super::prune::prune;
use super::store::Sparse;
use super::trellis::Trellis;

/// Zigzag position → natural (row-major) position in the 8×8 block.
pub const NATURAL_ORDER: [usize; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

const LUMINANCE: [u16; 64] = [
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113,
    92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];

const CHROMINANCE: [u16; 64] = [
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99,
    47, 66, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
];

/// The output's luminance and chrominance tables for `quality` (1..=100), in zigzag order:
/// `jpeg_set_quality(quality, force_baseline = FALSE)` on the Annex K tables.
pub fn output_tables(quality: u8) -> [[u16; 64]; 2] {
    let quality = u32::from(quality.clamp(1, 100));
    let scale = if quality < 50 {
        5000 / quality
    } else {
        200 - 2 * quality
    };
    let scaled = |base: &[u16; 64]| {
        let mut table = [0u16; 64];
        for (k, slot) in table.iter_mut().enumerate() {
            let v = (u32::from(base[NATURAL_ORDER[k]]) * scale + 50) / 100;
            *slot = v.clamp(1, 32767) as u16;
        }
        table
    };
    [scaled(&LUMINANCE), scaled(&CHROMINANCE)]
}

/// The output's tables clamped to 8 bits (a baseline file) the way the pixel path's encoder
/// gets them below quality 24, where libjpeg's scaled tables pass 255: mozjpeg's
/// `QTable::scaled(q, q)` (`round(base × 50 / q)` in `f32`, clamped to 1..=255). At 24 and
/// above every value fits and the tables are [`output_tables`]'s.
pub fn baseline_tables(quality: u8) -> [[u16; 64]; 2] {
    if quality >= 24 {
        return output_tables(quality);
    }
    let scaling = 50.0f32 / f32::from(quality.max(1));
    let scaled = |base: &[u16; 64]| {
        let mut table = [0u16; 64];
        for (k, slot) in table.iter_mut().enumerate() {
            let v = (f32::from(base[NATURAL_ORDER[k]]) * scaling).round();
            *slot = v.clamp(1.0, 255.0) as u16;
        }
        table
    };
    [scaled(&LUMINANCE), scaled(&CHROMINANCE)]
}

/// N. Robidoux's table (libjpeg's `quant_tbl_master_idx` 3), which mozjpeg's `--best`
/// defaults use for luminance and chrominance alike (natural order).
const ROBIDOUX: [u16; 64] = [
    16, 16, 16, 18, 25, 37, 56, 85, 16, 17, 20, 27, 34, 40, 53, 75, 16, 20, 24, 31, 43, 62, 91,
    135, 18, 27, 31, 40, 53, 74, 106, 156, 25, 34, 43, 53, 69, 94, 131, 189, 37, 40, 62, 74, 94,
    124, 169, 238, 56, 53, 91, 106, 131, 169, 226, 311, 85, 75, 135, 156, 189, 238, 311, 418,
];

/// The tables of `--best` at `quality`, as the pixel path's encoder sets them: mozjpeg's
/// `NRobidoux.scaled(q, q)` (`round(base × s)` in `f32`, s = 50 / q below 50 and
/// (100 - q) / 50 from there, clamped to 1..=255), in zigzag order.
pub fn best_tables(quality: u8) -> [[u16; 64]; 2] {
    let q = f32::from(quality.clamp(1, 100));
    let scaling = if q < 50.0 {
        50.0 / q
    } else {
        (100.0 - q) / 50.0
    };
    let mut table = [0u16; 64];
    for (k, slot) in table.iter_mut().enumerate() {
        *slot = (f32::from(ROBIDOUX[NATURAL_ORDER[k]]) * scaling)
            .round()
            .clamp(1.0, 255.0) as u16;
    }
    [table, table]
}

/// The output's quantization tables: the distinct tables (at most 4) and the one each
/// component uses.
pub struct QuantTables {
    pub tables: Vec<[u16; 64]>,
    pub of_component: Vec<usize>,
}

impl QuantTables {
    /// Luminance and chrominance tables: the first component uses the one, the others the
    /// other (gray: the luminance table only).
    pub fn requantized(tables: &[[u16; 64]; 2], components: usize) -> Self {
        let used = if components == 1 { 1 } else { 2 };
        QuantTables {
            tables: tables[..used].to_vec(),
            of_component: (0..components).map(|i| usize::from(i > 0)).collect(),
        }
    }

    /// Each component's own table, identical ones written once (`--lossless`: the input's
    /// tables, so that a file whose Cb and Cr use different tables stays exact).
    pub fn per_component(tables: &[[u16; 64]]) -> Self {
        let mut distinct: Vec<[u16; 64]> = Vec::new();
        let mut of_component = Vec::with_capacity(tables.len());
        for table in tables {
            let index = match distinct.iter().position(|t| t == table) {
                Some(i) => i,
                None => {
                    distinct.push(*table);
                    distinct.len() - 1
                }
            };
            of_component.push(index);
        }
        QuantTables {
            tables: distinct,
            of_component,
        }
    }

    /// Some value needs 16 bits (an extended, not a baseline, sequential file).
    pub fn wide(&self) -> bool {
        self.tables.iter().flatten().any(|&q| q > 255)
    }
}

/// Largest magnitude of a requantized AC coefficient (8-bit JPEG: size category 10) and DC
/// value (differences then stay within category 11).
pub const MAX_COEF: i32 = 1023;

/// Requantizes coefficients of one input table to one output table: `round(c × in / out)`,
/// or `round(c × in × gain / out)` with a per-position gain (the chroma smoothing, below).
///
/// Rounding is to nearest, halfway away from zero; an AC coefficient exactly halfway between
/// 0 and ±1 is reported as a tie, which `prune` may make 0 where that saves enough bits.
#[derive(Clone)]
pub struct Requant {
    steps: [Step; 64],
    /// Under `--best`: the AC coefficients are chosen by [`Trellis`] instead.
    trellis: Option<Box<Trellis>>,
    /// The output's table is the input's, every step at least 1: each value is kept, clamped
    /// (the chroma to downsample, and `--lossless`), which [`BlockEntries::push`] does
    /// without the arithmetic.
    identity: bool,
}

/// One position's figures, together in memory: `round(a × in × gain / out)` is
/// `(a × num + half) / div` with `num = 2 × in × G`, `half = out × 2^GAIN_BITS`,
/// `div = 2 × out × 2^GAIN_BITS` and `G` the gain in units of `2^-GAIN_BITS` (a gain of 1
/// gives the exact quotient); `div`'s reciprocal is `recip / 2^64`. `tie` is the `a × num +
/// half` of a value halfway between 0 and 1 (`div`; 0 for the DC value, which never ties so).
#[derive(Clone, Copy, Default)]
struct Step {
    num: u64,
    half: u64,
    recip: u64,
    tie: u64,
}

/// A gain applies only where the step gets coarser: at -q 100 the coefficients are kept.
fn effective_gain(qin: u64, qout: u64, gain: f32) -> f32 {
    if qout > qin {
        gain.clamp(0.0, 1.0)
    } else {
        1.0
    }
}

/// Fractional bits of a gain.
const GAIN_BITS: u32 = 8;

/// Input coefficients are clamped to this magnitude (an 8-bit JPEG has none larger).
const MAX_INPUT: u32 = 2047;

impl Requant {
    pub fn new(input: &[u16; 64], output: &[u16; 64]) -> Self {
        Self::with_gains(input, output, &[1.0; 64])
    }

    /// Each coefficient also scaled by `gains[k]` (zigzag, each in 0..=1) before rounding,
    /// where the output's step is coarser than the input's.
    pub fn with_gains(input: &[u16; 64], output: &[u16; 64], gains: &[f32; 64]) -> Self {
        let mut steps = [Step::default(); 64];
        for (k, step) in steps.iter_mut().enumerate() {
            let qin = u64::from(input[k]);
            let qout = u64::from(output[k].max(1));
            let gain =
                (effective_gain(qin, qout, gains[k]) * (1 << GAIN_BITS) as f32).round() as u64;
            let div = (2 * qout) << GAIN_BITS;
            // floor(n × recip / 2^64) = floor(n / div) when n × div < 2^64: n is below
            // 2^11 × 2^17 × 2^8 + 2^24 < 2^37 and div below 2^25.
            *step = Step {
                num: 2 * qin * gain,
                half: qout << GAIN_BITS,
                recip: (u64::MAX / div) + 1,
                tie: if k == 0 { 0 } else { div },
            };
        }
        Requant {
            steps,
            trellis: None,
            identity: input == output && input.iter().all(|&q| q >= 1),
        }
    }

    /// The same requantization with the AC coefficients chosen by trellis quantization
    /// (`class`: the output's table class, 0 luminance, 1 chrominance).
    pub fn with_trellis(
        input: &[u16; 64],
        output: &[u16; 64],
        gains: &[f32; 64],
        class: usize,
    ) -> Self {
        let mut scale = [0f32; 64];
        for (k, s) in scale.iter_mut().enumerate() {
            let (qin, qout) = (u64::from(input[k]), u64::from(output[k].max(1)));
            *s = qin as f32 * effective_gain(qin, qout, gains[k]);
        }
        Requant {
            trellis: Some(Box::new(Trellis::new(&scale, output, class))),
            ..Self::with_gains(input, output, gains)
        }
    }

    /// The coefficient `value` at zigzag position `k`, requantized and clamped, rounded to
    /// nearest (halfway away from zero), and whether it was a tie between 0 and ±1 (then ±1).
    #[inline(always)]
    pub fn apply_ac(&self, value: i32, k: usize) -> (i32, bool) {
        let (q, tie) = self.magnitude(value, k);
        let q = q.min(MAX_COEF);
        (if value < 0 { -q } else { q }, tie)
    }

    /// A DC value, requantized and clamped to the 8-bit range, `-1024..=1023` (a black block
    /// at a DC step of 1 is -1024; differences then stay within category 11).
    #[inline(always)]
    pub fn apply_dc(&self, value: i32) -> i32 {
        let (q, _) = self.magnitude(value, 0);
        if value < 0 {
            -q.min(MAX_COEF + 1)
        } else {
            q.min(MAX_COEF)
        }
    }

    #[inline(always)]
    fn magnitude(&self, value: i32, k: usize) -> (i32, bool) {
        let step = &self.steps[k & 63];
        let a = u64::from(value.unsigned_abs().min(MAX_INPUT));
        let n = a * step.num + step.half;
        let q = ((u128::from(n) * u128::from(step.recip)) >> 64) as i32;
        (q, n == step.tie)
    }
}

/// One block's AC entries as its coefficients are read: requantized with the 0/±1 ties
/// marked, then weighed by [`prune`] at the end; or, under a trellis, the input's values,
/// which the trellis then chooses from. Both readers (baseline scans, and the dense store of
/// progressive ones) fill it the same way.
pub struct BlockEntries {
    pub entries: [u32; 64],
    n: usize,
    ties: u64,
}

impl Default for BlockEntries {
    fn default() -> Self {
        BlockEntries {
            entries: [0; 64],
            n: 0,
            ties: 0,
        }
    }
}

impl BlockEntries {
    /// The input value `value` at zigzag position `k` (ascending within the block).
    #[inline(always)]
    pub fn push(&mut self, requant: &Requant, k: usize, value: i32) {
        let (q, tie) = if requant.trellis.is_some() {
            (value, false)
        } else if requant.identity {
            (value.clamp(-MAX_COEF, MAX_COEF), false)
        } else {
            requant.apply_ac(value, k)
        };
        // Written always, kept when non-zero: no branch to mispredict on the value.
        self.entries[self.n & 63] = Sparse::entry(k, q);
        self.ties |= u64::from(tie) << (k & 63);
        self.n += usize::from(q != 0);
    }

    /// Ends the block: the number of output entries now at the start of `entries`, for
    /// table class `class` (0 luminance, 1 chrominance). The next block starts empty.
    #[inline(always)]
    pub fn finish(&mut self, requant: &Requant, class: usize) -> usize {
        let (n, ties) = (self.n.min(64), self.ties);
        (self.n, self.ties) = (0, 0);
        if let Some(trellis) = requant.trellis.as_deref() {
            trellis.requantize(&mut self.entries, n)
        } else if ties != 0 {
            prune(&mut self.entries[..n], n, ties, class)
        } else {
            n
        }
    }

    /// Requantizes one block into block `b` of `sparse`: its DC value `dc` and its AC
    /// `values` (zigzag position, input value; ascending positions).
    #[inline(always)]
    pub fn requantize_into(
        &mut self,
        requant: &Requant,
        class: usize,
        (dc, values): (i32, impl Iterator<Item = (usize, i32)>),
        sparse: &mut Sparse,
        b: usize,
    ) {
        sparse.begin(b, requant.apply_dc(dc));
        for (k, value) in values {
            self.push(requant, k, value);
        }
        let n = self.finish(requant, class);
        sparse.ac.extend_from_slice(&self.entries[..n]);
        sparse.end(b);
    }
}

/// The response of the filter (1, 6, 1) / 8 at the 8-point DCT's frequency `u`:
/// (6 + 2 cos(πu/8)) / 8. That filter is libjpeg's triangle upsampling of a halved axis
/// followed by the encoder's average of each pair of samples.
pub fn upsampled_pair_gain(u: usize) -> f64 {
    (6.0 + 2.0 * (std::f64::consts::PI * u as f64 / 8.0).cos()) / 8.0
}

/// The smoothing of chroma that a decode and re-encode applies, as gains per zigzag position:
/// libjpeg's decoder upsamples subsampled chroma with a triangle filter (¾, ¼) and the encoder
/// averages pairs back, together the filter (1, 6, 1) / 8 along each halved axis, whose
/// response at the 8-point DCT's frequency u is (6 + 2 cos(πu/8)) / 8 (the DCT's basis
/// functions are that symmetric filter's eigenvectors within a block). Requantizing with
/// these gains gives the DCT-domain output the low-pass the pixel path's output has, so its
/// chroma costs what the pixel path's does instead of keeping detail that a decode and
/// re-encode smooths away (0.26 % of the corpus's bytes at quality 30, the score unchanged
/// to the fifth decimal).
pub fn chroma_gains(halved_across: bool, halved_down: bool) -> [f32; 64] {
    let along = |halved: bool, u: usize| if halved { upsampled_pair_gain(u) } else { 1.0 };
    let mut gains = [1.0f32; 64];
    for (k, gain) in gains.iter_mut().enumerate() {
        let (v, u) = (NATURAL_ORDER[k] / 8, NATURAL_ORDER[k] % 8);
        *gain = (along(halved_across, u) * along(halved_down, v)) as f32;
    }
    gains
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Requant {
        fn apply(&self, value: i32, k: usize) -> i32 {
            self.apply_ac(value, k).0
        }
    }

    #[test]
    fn requantization_rounds_to_nearest() {
        let mut input = [0u16; 64];
        let mut output = [0u16; 64];
        for k in 0..64 {
            input[k] = 1 + k as u16 % 5;
            output[k] = 3 + k as u16 * 3;
        }
        let r = Requant::new(&input, &output);
        let mut ties = 0;
        for k in 0..64 {
            for v in -1023..=1023i32 {
                let exact = f64::from(v) * f64::from(input[k]) / f64::from(output[k]);
                let want = (exact.abs() + 0.5).floor().min(f64::from(MAX_COEF));
                // Halfway between 0 and 1: ±1, reported as a tie.
                assert_eq!(r.apply_ac(v, k).1, exact.abs() == 0.5, "v {v} k {k}");
                ties += usize::from(exact.abs() == 0.5);
                assert_eq!(
                    f64::from(r.apply(v, k)),
                    want * exact.signum(),
                    "v {v} k {k}"
                );
            }
        }
        assert!(ties > 0, "the tables give some ties");
        // Ties round away from zero; the DC value's as well.
        let r = Requant::new(&[1; 64], &[2; 64]);
        assert_eq!(
            (r.apply_ac(1, 5), r.apply_ac(-1, 5)),
            ((1, true), (-1, true))
        );
        assert!(!r.apply_ac(3, 5).1);
        assert_eq!((r.apply(3, 5), r.apply(-5, 5)), (2, -3));
        assert_eq!((r.apply_dc(1), r.apply_dc(-1)), (1, -1));
    }

    #[test]
    fn a_table_onto_itself_keeps_each_value_as_the_arithmetic_does() {
        // The shortcut of `BlockEntries::push` for an identity, against `apply_ac`; a table
        // with a zero step is not an identity (its values all become 0).
        let mut table = [0u16; 64];
        for (k, q) in table.iter_mut().enumerate() {
            *q = 1 + (k as u16 * 37) % 255;
        }
        let r = Requant::new(&table, &table);
        assert!(r.identity);
        for k in 1..64 {
            let values = (-3000..=3000i32)
                .step_by(7)
                .chain([-2048, -1024, 1023, 1024, 2047]);
            let mut entries = BlockEntries::default();
            let mut want = Vec::new();
            for v in values {
                entries.push(&r, k, v);
                let (q, tie) = r.apply_ac(v, k);
                assert!(!tie);
                if q != 0 {
                    want.push(Sparse::entry(k, q));
                }
                assert_eq!(
                    &entries.entries[..entries.n.min(64)],
                    &want[..],
                    "v {v} k {k}"
                );
                if entries.n == 64 {
                    entries.finish(&r, 0);
                    want.clear();
                }
            }
        }
        table[9] = 0;
        assert!(!Requant::new(&table, &table).identity);
        assert!(!Requant::new(&[2; 64], &[3; 64]).identity);
    }

    #[test]
    fn sixteen_bit_tables_divide_exactly() {
        let input = [65535u16; 64];
        let output = [40000u16; 64];
        let r = Requant::new(&input, &output);
        assert_eq!(r.apply(2, 5), 3);
        assert_eq!(r.apply(-2, 5), -3);
        assert_eq!(r.apply(2047, 5), MAX_COEF);
        let r = Requant::new(&[65535; 64], &[1; 64]);
        assert_eq!(r.apply_dc(-2047), -(MAX_COEF + 1));
    }

    #[test]
    fn gains_scale_before_rounding() {
        let mut gains = [1.0f32; 64];
        gains[3] = 0.5;
        let r = Requant::with_gains(&[10; 64], &[10; 64], &gains);
        assert_eq!(r.apply(7, 3), 7, "not at the input's own step");
        let r = Requant::with_gains(&[10; 64], &[5; 64], &gains);
        assert_eq!(r.apply(7, 3), 14, "nor at a finer one");
        // At a coarser one, v × 10 × 0.5 / 20 = v / 4: 3.5, 2.5 and 0.5 round away from
        // zero (0.5 a tie); without a gain, v / 2.
        let r = Requant::with_gains(&[10; 64], &[20; 64], &gains);
        assert_eq!(r.apply(14, 2), 7);
        assert_eq!(r.apply(14, 3), 4);
        assert_eq!(r.apply(-10, 3), -3);
        assert_eq!(r.apply(8, 3), 2);
        assert_eq!(r.apply_ac(2, 3), (1, true));
        let smooth = chroma_gains(true, true);
        assert_eq!(smooth[0], 1.0);
        // The highest frequency along both axes: ((6 - 2 cos(π/8)) / 8)².
        let top = (6.0 - 2.0 * (std::f64::consts::PI / 8.0).cos()) / 8.0;
        assert!((f64::from(smooth[63]) - top * top).abs() < 1e-6);
        let across = chroma_gains(true, false);
        // Zigzag 1 is (u 1, v 0), zigzag 2 is (u 0, v 1).
        assert!(across[1] < 1.0 && across[2] == 1.0);
    }

    #[test]
    fn quality_scaling_matches_libjpeg() {
        let [luma, chroma] = output_tables(30);
        // 16 × 166 / 100, rounded; 99 × 166 / 100.
        assert_eq!(luma[0], 27);
        assert_eq!(chroma[63], 164);
        let [luma, _] = output_tables(100);
        assert!(luma.iter().all(|&q| q == 1));
        let [luma, _] = output_tables(1);
        assert_eq!(luma[63], 4950);
    }
}

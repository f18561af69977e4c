//! Quantization: the output's tables (libjpeg's quality scaling of the JPEG Annex K tables,
//! as the pixel path's encoder sets them) and the requantization of input coefficients to them.
//! Everything is in zigzag order, the order of the coefficients in the file.

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

/// Requantizes coefficients of one input table to one output table: `round(c × in / out)`.
pub struct Requant {
    steps: [Step; 64],
    /// Every quotient is exact with the reciprocal (always so for 8-bit tables).
    by_reciprocal: bool,
}

/// One position's figures, together in memory: `round(a × in / out)` is
/// `(a × num + half) / div`, and `div`'s reciprocal is `recip / 2^32`.
#[derive(Clone, Copy, Default)]
struct Step {
    num: u32,
    half: u32,
    recip: u64,
    div: u32,
}

/// Input coefficients are clamped to this magnitude (an 8-bit JPEG has none larger).
const MAX_INPUT: u32 = 2047;

impl Requant {
    pub fn new(input: &[u16; 64], output: &[u16; 64]) -> Self {
        let mut r = Requant {
            steps: [Step::default(); 64],
            by_reciprocal: true,
        };
        for (k, step) in r.steps.iter_mut().enumerate() {
            let qin = u32::from(input[k]);
            let qout = u32::from(output[k].max(1));
            *step = Step {
                num: 2 * qin,
                half: qout,
                recip: (1u64 << 32) / u64::from(2 * qout) + 1,
                div: 2 * qout,
            };
            // floor(n × recip / 2^32) = floor(n / div) when n × div < 2^32.
            let max_n = u64::from(MAX_INPUT * 2 * qin + qout);
            if max_n * u64::from(2 * qout) >= 1 << 32 {
                r.by_reciprocal = false;
            }
        }
        r
    }

    /// The coefficient `value` at zigzag position `k`, requantized and clamped.
    #[inline(always)]
    pub fn apply(&self, value: i32, k: usize) -> i32 {
        let q = self.magnitude(value, k).min(MAX_COEF);
        if value < 0 { -q } else { q }
    }

    /// A DC value, requantized and clamped to the 8-bit range, `-1024..=1023` (a black block
    /// at a DC step of 1 is -1024; differences then stay within category 11).
    #[inline(always)]
    pub fn apply_dc(&self, value: i32) -> i32 {
        let q = self.magnitude(value, 0);
        if value < 0 {
            -q.min(MAX_COEF + 1)
        } else {
            q.min(MAX_COEF)
        }
    }

    #[inline(always)]
    fn magnitude(&self, value: i32, k: usize) -> i32 {
        let step = &self.steps[k & 63];
        let a = value.unsigned_abs().min(MAX_INPUT);
        let n = a * step.num + step.half;
        if self.by_reciprocal {
            ((u64::from(n) * step.recip) >> 32) as i32
        } else {
            (n / step.div) as i32
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requantization_rounds_to_nearest() {
        let mut input = [0u16; 64];
        let mut output = [0u16; 64];
        for k in 0..64 {
            input[k] = 1 + k as u16 * 4;
            output[k] = 3 + k as u16 * 3;
        }
        let r = Requant::new(&input, &output);
        for k in 0..64 {
            for v in -1023..=1023i32 {
                let exact = f64::from(v) * f64::from(input[k]) / f64::from(output[k]);
                let want = (exact.abs() + 0.5).floor().min(f64::from(MAX_COEF)) * exact.signum();
                assert_eq!(f64::from(r.apply(v, k)), want, "v {v} k {k}");
            }
        }
    }

    #[test]
    fn sixteen_bit_tables_divide_exactly() {
        let input = [65535u16; 64];
        let output = [40000u16; 64];
        let r = Requant::new(&input, &output);
        assert!(!r.by_reciprocal);
        assert_eq!(r.apply(2, 5), 3);
        assert_eq!(r.apply(-2, 5), -3);
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

//! sRGB bytes to linear light, and linear RGB to SSIMULACRA 2's "positive XYB" (libjxl's
//! opsin absorbance, cube root, then `MakePositiveXYB`), as `tools/ssimulacra2.cc` does.
//! Everything here is written so that the compiler vectorizes it (no calls, no branches).

/// The opsin absorbance matrix (libjxl `kOpsinAbsorbanceMatrix`).
const M: [[f32; 3]; 3] = [
    [0.30, 1.0 - 0.078 - 0.30, 0.078],
    [0.23, 1.0 - 0.078 - 0.23, 0.078],
    [
        0.243_422_69,
        0.204_767_45,
        1.0 - 0.243_422_69 - 0.204_767_45,
    ],
];
/// `kOpsinAbsorbanceBias`, the same for the three cones.
const BIAS: f32 = 0.003_793_073_4;

/// sRGB byte to linear light (the sRGB transfer function), by table.
pub struct Linear([f32; 256]);

impl Linear {
    pub fn new() -> Self {
        let mut table = [0.0; 256];
        // The reference's sRGB curve (its constants adjusted for a continuous slope), in f32.
        const ALPHA: f32 = 1.055_010_7;
        const BETA: f32 = 0.003_041_282_5;
        for (v, out) in table.iter_mut().enumerate() {
            let x = v as f32 / 255.0;
            *out = if x < 12.92 * BETA {
                x / 12.92
            } else {
                pow((x + (ALPHA - 1.0)) / ALPHA, 2.4)
            };
        }
        Linear(table)
    }

    /// One row of interleaved sRGB bytes into three planes of linear light.
    #[inline(always)]
    pub fn row(&self, rgb: &[u8], out: [&mut [f32]; 3]) {
        let [r, g, b] = out;
        for (((p, r), g), b) in rgb.chunks_exact(3).zip(r).zip(g).zip(b) {
            *r = self.0[usize::from(p[0])];
            *g = self.0[usize::from(p[1])];
            *b = self.0[usize::from(p[2])];
        }
    }
}

/// `x^y` as the reference computes its sRGB curve (`yuvxyb-math`'s fast `powf`:
/// `exp2(y log2 x)` by polynomials, BSD-2-Clause, rust-av), so that linear values are the
/// same to the bit; only used to fill the table.
fn pow(x: f32, y: f32) -> f32 {
    let poly = |x: f32, c: [f32; 6]| c.iter().rev().fold(0.0f32, |acc, &k| x * acc + k);
    let log2 = |x: f32| {
        let bits = x.to_bits() as i32;
        let exp = (((bits & 0x7F80_0000) >> 23) - 127) as f32;
        let mant = f32::from_bits(((bits & 0x007F_FFFF) | 1f32.to_bits() as i32) as u32);
        let c = [
            3.115_79,
            -3.324_199,
            2.598_845_2,
            -1.231_530_3,
            3.182_133_7E-1,
            -3.443_600_6E-2,
        ];
        poly(mant, c) * (mant - 1.0) + exp
    };
    let exp2 = |x: f32| {
        let x = x.clamp(-126.99999, 129.0);
        let ipart = (x - 0.5) as i32;
        let fpart = x - ipart as f32;
        let expi = f32::from_bits(((ipart + 127) << 23) as u32);
        let c = [
            9.999_999_4E-1,
            6.931_531E-1,
            2.401_536_1E-1,
            5.582_631_8E-2,
            8.989_34E-3,
            1.877_576_7E-3,
        ];
        expi * poly(fpart, c)
    };
    exp2(log2(x) * y)
}

/// Cube root, correctly rounded: FreeBSD's `cbrtf` (an estimate from the exponent's bits,
/// then two Newton steps in f64), as the reference computes it. Vectorizes, unlike
/// `f32::cbrt`. For `x >= 0`.
#[inline(always)]
pub fn cbrt(x: f32) -> f32 {
    // The first step only needs 16 bits: in f32, on twice the lanes.
    let t = f32::from_bits(x.to_bits() / 3 + 709_958_130);
    let r = t * t * t;
    let t = f64::from(t * (x + x + r) / (x + r + r));
    let x = f64::from(x);
    let r = t * t * t;
    (t * (x + x + r) / (x + r + r)) as f32
}

/// Linear RGB planes (one row) to positive XYB planes, in place.
#[inline(always)]
pub fn to_xyb(r: &mut [f32], g: &mut [f32], b: &mut [f32]) {
    let bias_cbrt = cbrt(BIAS);
    for ((r, g), b) in r.iter_mut().zip(g.iter_mut()).zip(b.iter_mut()) {
        let mixed = |m: [f32; 3]| {
            let v = m[0].mul_add(*r, m[1].mul_add(*g, m[2].mul_add(*b, BIAS)));
            cbrt(v.max(0.0)) - bias_cbrt
        };
        let (m0, m1, m2) = (mixed(M[0]), mixed(M[1]), mixed(M[2]));
        let x = 0.5 * (m0 - m1);
        let y = 0.5 * (m0 + m1);
        // MakePositiveXYB.
        *b = (m2 - y) + 0.55;
        *r = x.mul_add(14.0, 0.42);
        *g = y + 0.01;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cube_roots_are_within_a_few_ulps() {
        let mut worst = 0.0f64;
        for i in 0..=200_000u32 {
            let x = i as f32 / 100_000.0;
            let exact = f64::from(x).cbrt();
            let err = (f64::from(cbrt(x)) - exact).abs() / exact.max(1e-3);
            worst = worst.max(err);
        }
        assert!(worst < 5e-7, "relative error {worst}");
    }
}

//! What a scale blurs and adds up: the quantities of a pixel (products of the two pictures'
//! XYB values), and the SSIM and edge terms read from their blurred values, summed per
//! channel.
//!
//! Two sets of quantities ([`Quantities`]): [`All`] fifteen, for every scale but the first;
//! [`First`] eight, for the first scale of a picture with all six, where the weights read
//! no SSIM term of X nor of B (so none of their variances), and the reference's own variance
//! of Y is blurred once, when it is prepared. The first scale holds three quarters of a
//! score's pixels.
// Lane loops index several arrays at once, which is what the compiler vectorizes best.
#![allow(clippy::needless_range_loop)]
/// Pixels per column band of the vertical pass, and per group of a blurred row.
pub const COLUMNS: usize = 8;
/// Values kept per pixel of a raw row: three channels of each picture.
pub const RAW: usize = 6;

/// The sums one scale adds up, per channel: 1 - SSIM and its 4th power, then the edge
/// artifact and detail-lost terms and their 4th powers.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sums {
    pub ssim: [[f64; 2]; 3],
    pub edge: [[f64; 4]; 3],
    pub pixels: u64,
}

/// Which quantities a scale blurs, `N` lanes a pixel, and how its terms read them back.
pub trait Quantities<const N: usize> {
    /// Lane `l` is the product of values `LEFT[l]` and `RIGHT[l]` of
    /// `[a.x a.y a.b b.x b.y b.b 1 0]` (`a` the reference, `b` the candidate; x * 1 is x).
    const LEFT: [usize; N];
    const RIGHT: [usize; N];
    /// Lanes blurred down the columns (those after hold zeros).
    const BLURRED: usize;
    /// Channels whose SSIM term is added, by bit.
    const SSIM: u8;
    /// A group's blurred values into `v` (per channel: mu1, mu2, sigma11, sigma22, sigma12);
    /// `sigma` is the reference's blurred a.y² of the group when the scale has it (else
    /// empty).
    fn read(blurred: &[[f32; COLUMNS]; N], sigma: &[f32], v: &mut [[[f32; COLUMNS]; 7]; 3]);
}

/// Every quantity: per channel a, b, a², b², ab, then a zero lane.
pub struct All;

impl Quantities<16> for All {
    const LEFT: [usize; 16] = [0, 3, 0, 3, 0, 1, 4, 1, 4, 1, 2, 5, 2, 5, 2, 7];
    const RIGHT: [usize; 16] = [6, 6, 0, 3, 3, 6, 6, 1, 4, 4, 6, 6, 2, 5, 5, 7];
    const BLURRED: usize = 15;
    const SSIM: u8 = 0b111;

    #[inline(always)]
    fn read(blurred: &[[f32; COLUMNS]; 16], _: &[f32], v: &mut [[[f32; COLUMNS]; 7]; 3]) {
        for c in 0..3 {
            for k in 0..5 {
                v[c][k] = blurred[5 * c + k];
            }
        }
    }
}

/// The first scale's quantities: a and b of each channel, then b.y² and a.y b.y; the
/// reference's a.y² comes blurred with the reference. (The metric checks that the weights
/// read no other SSIM term there: `weights::FIRST_SCALE_SSIM`.)
pub struct First;

impl Quantities<8> for First {
    const LEFT: [usize; 8] = [0, 1, 2, 3, 4, 5, 4, 1];
    const RIGHT: [usize; 8] = [6, 6, 6, 6, 6, 6, 4, 4];
    const BLURRED: usize = 8;
    const SSIM: u8 = 0b010;

    #[inline(always)]
    fn read(blurred: &[[f32; COLUMNS]; 8], sigma: &[f32], v: &mut [[[f32; COLUMNS]; 7]; 3]) {
        for c in 0..3 {
            v[c][0] = blurred[c];
            v[c][1] = blurred[3 + c];
        }
        v[1][2].copy_from_slice(&sigma[..COLUMNS]);
        v[1][3] = blurred[6];
        v[1][4] = blurred[7];
    }
}

/// A column band's terms per channel: 1 - SSIM and its 4th power, the edge artifact and its
/// 4th power, the detail lost and its 4th power; one value per pixel of the band.
pub type Terms<T> = [[[T; COLUMNS]; 6]; 3];

/// The sums of one scale so far, one per pixel of a column band (added up at the end, so
/// that the per-pixel work runs on vectors).
pub struct LaneSums(Terms<f64>);

impl LaneSums {
    pub fn new() -> Self {
        LaneSums(Terms::default())
    }

    #[inline(always)]
    pub fn add(&mut self, terms: &Terms<f32>) {
        for (sums, terms) in self.0.iter_mut().flatten().zip(terms.iter().flatten()) {
            for (sum, term) in sums.iter_mut().zip(terms) {
                *sum += f64::from(*term);
            }
        }
    }

    pub fn total(&self, pixels: u64) -> Sums {
        let add = |c: usize, k: usize| self.0[c][k].iter().sum::<f64>();
        Sums {
            ssim: std::array::from_fn(|c| std::array::from_fn(|k| add(c, k))),
            edge: std::array::from_fn(|c| std::array::from_fn(|k| add(c, 2 + k))),
            pixels,
        }
    }
}

/// Adds the SSIM and edge terms of a column band's pixels: `blurred` their blurred
/// quantities (read by `Q`), `raw` their positive XYB, each by quantity then pixel. Columns
/// past the picture hold zeros, whose terms are zero.
///
/// The terms are computed in f32 and added up in f32 over at most a band of rows (then in
/// f64): the reference computes the edge ratio and the sums in f64, but each term here is
/// within a few f32 roundings of its value relative to it (the edge ratio minus one is
/// computed as one quotient, `(|b - mu2| - |a - mu1|) / (1 + |a - mu1|)`, not as the
/// reference's difference), so a score moves by about 1e-9: nothing the recursion's own
/// rounding does not dwarf.
#[inline(always)]
pub fn add_terms<const N: usize, Q: Quantities<N>>(
    blurred: &[[f32; COLUMNS]; N],
    raw: &[f32],
    sigma: &[f32],
    terms: &mut Terms<f32>,
) {
    const C2: f32 = 0.0009;
    // By channel, then pixel.
    let mut v = [[[0.0f32; COLUMNS]; 7]; 3];
    Q::read(blurred, sigma, &mut v);
    for c in 0..3 {
        for i in 0..COLUMNS {
            v[c][5][i] = raw[c * COLUMNS + i];
            v[c][6][i] = raw[(3 + c) * COLUMNS + i];
        }
    }
    for c in 0..3 {
        let [mu1, mu2, s11, s22, s12, a, b] = &v[c];
        let t = &mut terms[c];
        if Q::SSIM & (1 << c) != 0 {
            for i in 0..COLUMNS {
                let (mu11, mu22, mu12) = (mu1[i] * mu1[i], mu2[i] * mu2[i], mu1[i] * mu2[i]);
                let mu_diff = mu1[i] - mu2[i];
                let num_m = mu_diff.mul_add(-mu_diff, 1.0);
                let num_s = 2.0f32.mul_add(s12[i] - mu12, C2);
                let denom_s = (s11[i] - mu11) + (s22[i] - mu22) + C2;
                let d = (1.0 - (num_m * num_s) / denom_s).max(0.0);
                t[0][i] += d;
                t[1][i] += (d * d) * (d * d);
            }
        }
        for i in 0..COLUMNS {
            // The reference's (1 + |b - mu2|) / (1 + |a - mu1|) - 1, in f32 but as precise
            // relative to its value: one rounding of a difference, one of a quotient.
            let (eb, ea) = ((b[i] - mu2[i]).abs(), (a[i] - mu1[i]).abs());
            let d1 = (eb - ea) / (1.0 + ea);
            let (artifact, lost) = (d1.max(0.0), (-d1).max(0.0));
            for (k, v) in [artifact, lost].into_iter().enumerate() {
                t[2 + 2 * k][i] += v;
                t[3 + 2 * k][i] += (v * v) * (v * v);
            }
        }
    }
}

//! One scale of SSIMULACRA 2, streamed: rows of both pictures go in once, in order; each is
//! converted to positive XYB, its fifteen quantities (per channel: a, b, a², b², ab) blurred
//! along the row, then down the columns a band of rows at a time, and the SSIM and edge
//! terms of each output row are added up as soon as it is out. Nothing of the size of the
//! picture is kept but the next scale's linear RGB (a quarter of the pixels): the working
//! memory is a few rows and that quarter, not the picture's planes.
// Lane loops index several arrays at once, which is what the compiler vectorizes best.
#![allow(clippy::needless_range_loop)]
use super::blur::{self, Column, LANES, MARGIN, RADIUS};
use super::xyb;

/// Lanes the vertical recursion runs on at a time: an AVX2 vector.
const VECTOR: usize = 8;
/// Output rows per band of the vertical pass.
const BAND: usize = 32;
/// Rows of blurred input a band needs beyond its own: `RADIUS + 1` above, `RADIUS - 1` below.
const HALO: usize = 2 * RADIUS as usize;
/// Pixels per column band of the vertical pass.
const COLUMNS: usize = 8;
/// The blurred rows' groups are the column bands.
const _: () = assert!(blur::GROUP == COLUMNS);
/// Values kept per pixel of a raw row: three channels of each picture.
const RAW: usize = 6;
/// Floats a scale keeps per pixel of width: the band's blurred and raw rows, the vertical
/// recursion's state, a row of linear RGB of both pictures and of quantities.
pub const FLOATS_PER_COLUMN: usize = (BAND + HALO) * (LANES + RAW) + 6 * LANES + 6 + LANES;

/// The sums one scale adds up, per channel: 1 - SSIM and its 4th power, then the edge
/// artifact and detail-lost terms and their 4th powers.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sums {
    pub ssim: [[f64; 2]; 3],
    pub edge: [[f64; 4]; 3],
    pub pixels: u64,
}

/// Linear RGB of one picture at one scale, planar.
pub struct Planes {
    pub width: usize,
    pub height: usize,
    pub planes: [Vec<f32>; 3],
}

/// The reference's positive XYB at one scale, planar: made once per reference
/// ([`prepare`]), read by every candidate's score.
pub struct Xyb {
    pub width: usize,
    pub height: usize,
    pub planes: [Vec<f32>; 3],
}

/// Where a scale's rows come from.
pub trait Rows {
    /// Linear RGB of row `y` of one picture into `out`.
    fn row(&self, y: usize, out: &mut [Vec<f32>; 3]);
}

impl Rows for Planes {
    #[inline(always)]
    fn row(&self, y: usize, out: &mut [Vec<f32>; 3]) {
        for (o, p) in out.iter_mut().zip(&self.planes) {
            o.copy_from_slice(&p[y * self.width..][..self.width]);
        }
    }
}

/// The reference's side of one scale, once: its XYB planes, and the next scale's linear RGB
/// when `downscale`.
#[inline(always)]
pub fn prepare(
    width: usize,
    height: usize,
    rows: &impl Rows,
    downscale: bool,
) -> (Xyb, Option<Planes>) {
    let mut planes: [Vec<f32>; 3] = std::array::from_fn(|_| vec![0.0; width * height]);
    let mut linear: [Vec<f32>; 3] = std::array::from_fn(|_| vec![0.0; width]);
    let mut next = downscale.then(|| Downscale::new(width, height));
    for y in 0..height {
        xyb_row(y, rows, &mut linear, next.as_mut());
        for (plane, row) in planes.iter_mut().zip(&linear) {
            plane[y * width..][..width].copy_from_slice(row);
        }
    }
    let xyb = Xyb {
        width,
        height,
        planes,
    };
    (xyb, next.map(|n| n.next))
}

/// The next scale's planes, made by 2x2 averages of linear RGB (the last row and column
/// repeated when the size is odd), added up as rows arrive.
struct Downscale {
    next: Planes,
    width: usize,
    height: usize,
}

impl Downscale {
    fn new(width: usize, height: usize) -> Self {
        let (w, h) = (width.div_ceil(2), height.div_ceil(2));
        Downscale {
            next: Planes {
                width: w,
                height: h,
                planes: std::array::from_fn(|_| vec![0.0; w * h]),
            },
            width,
            height,
        }
    }

    /// Adds input row `y` (as the `ssimulacra2` crate does: the four samples added in order,
    /// then a quarter taken).
    #[inline(always)]
    fn add(&mut self, y: usize, row: &[Vec<f32>; 3]) {
        let w = self.next.width;
        let last = self.width - 1;
        let oy = y / 2;
        let times = if y.is_multiple_of(2) && y + 1 == self.height {
            2
        } else {
            1
        };
        for (plane, input) in self.next.planes.iter_mut().zip(row) {
            let out = &mut plane[oy * w..][..w];
            let pairs = self.width / 2;
            for _ in 0..times {
                for (o, pair) in out.iter_mut().zip(input.chunks_exact(2)) {
                    *o = (*o + pair[0]) + pair[1];
                }
                if pairs < w {
                    // An odd width: the last column counts twice.
                    out[pairs] = (out[pairs] + input[last]) + input[last];
                }
            }
            if !y.is_multiple_of(2) || y + 1 == self.height {
                for o in out.iter_mut() {
                    *o *= 0.25;
                }
            }
        }
    }
}

/// Scores one scale of a candidate against the reference's `xyb` of the same scale: `rows`
/// gives the candidate's rows; when `downscale`, its next scale's planes are made on the way.
#[inline(always)]
pub fn scale(xyb_a: &Xyb, rows: &impl Rows, downscale: bool) -> (Sums, Option<Planes>) {
    let (width, height) = (xyb_a.width, xyb_a.height);
    let padded = width.div_ceil(COLUMNS) * COLUMNS;
    let slots = BAND + HALO;
    // Blurred-along-the-row quantities and raw XYB, `slots` rows each; slot `i` holds row
    // `base + i`. Rows outside the picture and columns past its width stay zero.
    let mut blurred = vec![0.0f32; slots * padded * LANES];
    let mut raw = vec![0.0f32; slots * padded * RAW];
    let mut state = vec![0.0f32; padded * LANES * 6];
    let mut linear: [Vec<f32>; 3] = std::array::from_fn(|_| vec![0.0; width]);
    let mut quantities = vec![0.0f32; (width + 2 * MARGIN) * LANES];
    let mut next = downscale.then(|| Downscale::new(width, height));
    let mut sums = LaneSums([[[0.0; COLUMNS]; 6]; 3]);

    // The vertical recursion starts RADIUS - 1 rows above the picture (its first outputs
    // are not kept); band `m0..m0 + BAND` of steps reads rows `m0 - RADIUS - 1` to
    // `m0 + BAND + RADIUS - 2`. Slots 0..HALO hold the rows before the band: zeros (above
    // the picture) for the first, the previous band's last rows after.
    const L: usize = COLUMNS * LANES;
    // A column band's vertical outputs for the band's rows.
    let mut outputs = vec![[0.0f32; L]; BAND];
    let mut m0 = 1 - RADIUS;
    loop {
        let base = m0 - RADIUS - 1;
        for slot in HALO..slots {
            let out = Filled::slot(&mut blurred, &mut raw, slot, padded);
            fill_row(
                base + slot as isize,
                xyb_a,
                rows,
                &mut linear,
                &mut quantities,
                next.as_mut(),
                out,
            );
        }
        let end = (m0 + BAND as isize).min(height as isize);
        for x0 in (0..padded).step_by(COLUMNS) {
            // Down the band one vector of lanes at a time, so that the recursion's state
            // stays in registers (the whole band's is 96 vectors).
            for v in 0..L / VECTOR {
                let saved = &mut state[(x0 * LANES + v * VECTOR) * 6..][..VECTOR * 6];
                let mut column = Column::<VECTOR>::new();
                column.load(saved);
                for (m, out) in (m0..end).zip(outputs.iter_mut()) {
                    let top = (m - m0) as usize;
                    let at = |slot: usize| (slot * padded + x0) * LANES + v * VECTOR;
                    let mut lanes = [0.0f32; VECTOR];
                    column.step(
                        &blurred[at(top)..][..VECTOR],
                        &blurred[at(top + HALO)..][..VECTOR],
                        &mut lanes,
                    );
                    out[v * VECTOR..][..VECTOR].copy_from_slice(&lanes);
                }
                column.save(saved);
            }
            // This column band's terms over the band's rows, in f32 (at most BAND values
            // a lane), then added to the scale's sums in f64.
            let mut terms: Terms<f32> = [[[0.0; COLUMNS]; 6]; 3];
            for (m, out) in (m0..end).zip(&outputs) {
                if m >= 0 {
                    let top = (m - m0) as usize;
                    let raw_row = &raw[((top + RADIUS as usize + 1) * padded + x0) * RAW..];
                    add_terms(out, &raw_row[..COLUMNS * RAW], &mut terms);
                }
            }
            sums.add(&terms);
        }
        m0 += BAND as isize;
        if m0 >= height as isize {
            break;
        }
        // Keep the last HALO rows for the next band.
        blurred.copy_within(BAND * padded * LANES.., 0);
        raw.copy_within(BAND * padded * RAW.., 0);
    }
    (sums.total((width * height) as u64), next.map(|n| n.next))
}

/// One slot of the bands: a row blurred along, and its raw XYB.
struct Filled<'a> {
    blurred: &'a mut [f32],
    raw: &'a mut [f32],
}

impl<'a> Filled<'a> {
    #[inline(always)]
    fn slot(blurred: &'a mut [f32], raw: &'a mut [f32], slot: usize, padded: usize) -> Self {
        Filled {
            blurred: &mut blurred[slot * padded * LANES..][..padded * LANES],
            raw: &mut raw[slot * padded * RAW..][..padded * RAW],
        }
    }
}

/// Row `y` of `rows` into `linear`, added to the next scale (when there is one) as linear RGB,
/// then turned to positive XYB in place: one picture's part of a row, the reference's once
/// ([`prepare`]), a candidate's at each score ([`fill_row`]).
#[inline(always)]
fn xyb_row(y: usize, rows: &impl Rows, linear: &mut [Vec<f32>; 3], next: Option<&mut Downscale>) {
    rows.row(y, linear);
    if let Some(next) = next {
        next.add(y, linear);
    }
    let [r, g, b] = linear;
    xyb::to_xyb(r, g, b);
}

/// Fills `out` with row `row` (zeros outside the picture), adding it to the next scale.
#[inline(always)]
fn fill_row(
    row: isize,
    xyb_a: &Xyb,
    rows: &impl Rows,
    linear: &mut [Vec<f32>; 3],
    quantities: &mut [f32],
    next: Option<&mut Downscale>,
    out: Filled<'_>,
) {
    if row < 0 || row as usize >= xyb_a.height {
        out.blurred.fill(0.0);
        out.raw.fill(0.0);
        return;
    }
    let width = xyb_a.width;
    let y = row as usize;
    xyb_row(y, rows, linear, next);
    // Per pixel, the six values [a.r a.g a.b b.r b.g b.b], a one and a zero, shuffled into
    // two vectors whose product is the quantities (x * 1 is x, exactly).
    const LEFT: [usize; LANES] = [0, 3, 0, 3, 0, 1, 4, 1, 4, 1, 2, 5, 2, 5, 2, 7];
    const RIGHT: [usize; LANES] = [6, 6, 0, 3, 3, 6, 6, 1, 4, 4, 6, 6, 2, 5, 5, 7];
    let [br, bg, bb] = &*linear;
    let [ar, ag, ab] = &xyb_a.planes;
    let (ar, ag, ab) = (
        &ar[y * width..][..width],
        &ag[y * width..][..width],
        &ab[y * width..][..width],
    );
    let (br, bg, bb) = (&br[..width], &bg[..width], &bb[..width]);
    let row = &mut quantities[MARGIN * LANES..][..width * LANES];
    let raw = &mut out.raw[..];
    let inputs = ar.iter().zip(ag).zip(ab).zip(br).zip(bg).zip(bb);
    for (q, (((((ar, ag), ab), br), bg), bb)) in row.chunks_exact_mut(LANES).zip(inputs) {
        let v: [f32; 8] = [*ar, *ag, *ab, *br, *bg, *bb, 1.0, 0.0];
        for k in 0..LANES {
            q[k] = v[LEFT[k]] * v[RIGHT[k]];
        }
    }
    // The raw values by column band, channel, then pixel (what `add_terms` reads); whole
    // groups copied value by value, which compiles to vector moves (not a memcpy call).
    let planes = [ar, ag, ab, br, bg, bb];
    for (g, group) in raw.chunks_exact_mut(COLUMNS * RAW).enumerate() {
        let x = g * COLUMNS;
        if x + COLUMNS <= width {
            for (k, plane) in planes.iter().enumerate() {
                for j in 0..COLUMNS {
                    group[k * COLUMNS + j] = plane[x + j];
                }
            }
        } else {
            // The last, partial group (its columns past the picture stay zero).
            for (k, plane) in planes.iter().enumerate() {
                let tail = &plane[x..];
                group[k * COLUMNS..][..tail.len()].copy_from_slice(tail);
            }
        }
    }
    blur::horizontal(quantities, out.blurred, width);
}

/// A column band's terms per channel: 1 - SSIM and its 4th power, the edge artifact and its
/// 4th power, the detail lost and its 4th power; one value per pixel of the band.
type Terms<T> = [[[T; COLUMNS]; 6]; 3];

/// The sums of one scale so far, one per pixel of a column band (added up at the end, so
/// that the per-pixel work runs on vectors).
struct LaneSums(Terms<f64>);

impl LaneSums {
    #[inline(always)]
    fn add(&mut self, terms: &Terms<f32>) {
        for (sums, terms) in self.0.iter_mut().flatten().zip(terms.iter().flatten()) {
            for (sum, term) in sums.iter_mut().zip(terms) {
                *sum += f64::from(*term);
            }
        }
    }

    fn total(&self, pixels: u64) -> Sums {
        let add = |c: usize, k: usize| self.0[c][k].iter().sum::<f64>();
        Sums {
            ssim: std::array::from_fn(|c| std::array::from_fn(|k| add(c, k))),
            edge: std::array::from_fn(|c| std::array::from_fn(|k| add(c, 2 + k))),
            pixels,
        }
    }
}

/// Adds the SSIM and edge terms of a column band's pixels: `blurred` their blurred
/// quantities, `raw` their positive XYB, each by quantity then pixel. Columns past the
/// picture hold zeros, whose terms are zero.
///
/// The terms are computed in f32 and added up in f32 over at most a band of rows (then in
/// f64): the reference computes the edge ratio and the sums in f64, but each term here is
/// within a few f32 roundings of its value relative to it (the edge ratio minus one is
/// computed as one quotient, `(|b - mu2| - |a - mu1|) / (1 + |a - mu1|)`, not as the
/// reference's difference), so a score moves by about 1e-9: nothing the recursion's own
/// rounding does not dwarf.
#[inline(always)]
fn add_terms(blurred: &[f32; COLUMNS * LANES], raw: &[f32], terms: &mut Terms<f32>) {
    const C2: f32 = 0.0009;
    // By channel, then pixel.
    let mut v = [[[0.0f32; COLUMNS]; 7]; 3];
    for i in 0..COLUMNS {
        for c in 0..3 {
            for k in 0..5 {
                v[c][k][i] = blurred[(5 * c + k) * COLUMNS + i];
            }
            v[c][5][i] = raw[c * COLUMNS + i];
            v[c][6][i] = raw[(3 + c) * COLUMNS + i];
        }
    }
    for c in 0..3 {
        let [mu1, mu2, s11, s22, s12, a, b] = &v[c];
        for i in 0..COLUMNS {
            let (mu11, mu22, mu12) = (mu1[i] * mu1[i], mu2[i] * mu2[i], mu1[i] * mu2[i]);
            let mu_diff = mu1[i] - mu2[i];
            let num_m = mu_diff.mul_add(-mu_diff, 1.0);
            let num_s = 2.0f32.mul_add(s12[i] - mu12, C2);
            let denom_s = (s11[i] - mu11) + (s22[i] - mu22) + C2;
            let d = (1.0 - (num_m * num_s) / denom_s).max(0.0);
            // The reference's (1 + |b - mu2|) / (1 + |a - mu1|) - 1, in f32 but as precise
            // relative to its value: one rounding of a difference, one of a quotient.
            let (eb, ea) = ((b[i] - mu2[i]).abs(), (a[i] - mu1[i]).abs());
            let d1 = (eb - ea) / (1.0 + ea);
            let (artifact, lost) = (d1.max(0.0), (-d1).max(0.0));
            let t = &mut terms[c];
            for (k, v) in [d, artifact, lost].into_iter().enumerate() {
                t[2 * k][i] += v;
                t[2 * k + 1][i] += (v * v) * (v * v);
            }
        }
    }
}

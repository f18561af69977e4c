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

/// Output rows per band of the vertical pass.
const BAND: usize = 32;
/// Rows of blurred input a band needs beyond its own: `RADIUS + 1` above, `RADIUS - 1` below.
const HALO: usize = 2 * RADIUS as usize;
/// Pixels per column band of the vertical pass.
const COLUMNS: usize = 8;
/// Pixels per column tile: a band's rows of one tile, blurred along, stay in the L2 cache
/// (`(BAND + HALO) * TILE * LANES` floats: 344 KB).
const TILE: usize = 128;
/// Values kept per pixel of a raw row: three channels of each picture, padded.
const RAW: usize = 8;
/// Floats a scale keeps per pixel of width: the band's raw rows, the blurred rows kept between
/// bands, the vertical recursion's state, a row of linear RGB (the tile's own buffers are a
/// few hundred KB whatever the width).
pub const FLOATS_PER_COLUMN: usize = (BAND + HALO) * RAW + HALO * LANES + 6 * LANES + 6;
/// The tile's own buffers, in bytes, whatever the width: its rows blurred along and its
/// quantities.
pub const TILE_BYTES: u64 = 4 * ((BAND + HALO) * TILE * LANES + (TILE + 2 * MARGIN) * LANES) as u64;

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
///
/// A band of rows at a time: each new row converted to XYB (`raw`); then the band is blurred
/// a column tile at a time — each row along the tile (its recursion resumed from the tile
/// before), then down the tile's columns — so that the tile's blurred rows stay in the cache
/// (a whole band of a 6000-pixel-wide row is 16 MB). The steps are the same, in the same
/// order, as a row at a time, and the terms are added in the same order: the same score.
#[inline(always)]
pub fn scale(xyb_a: &Xyb, rows: &impl Rows, downscale: bool) -> (Sums, Option<Planes>) {
    let (width, height) = (xyb_a.width, xyb_a.height);
    let padded = width.div_ceil(COLUMNS) * COLUMNS;
    let slots = BAND + HALO;
    // Raw XYB of both pictures, `slots` rows; slot `i` holds row `base + i`. Rows outside the
    // picture and columns past its width stay zero.
    let mut raw = vec![0.0f32; slots * padded * RAW];
    // The last HALO rows of the band before, blurred along (zeros above the picture).
    let mut halo = vec![0.0f32; HALO * padded * LANES];
    // One tile of the band's rows, blurred along; the tile's quantities; each new row's
    // recursion state.
    let mut tile = vec![0.0f32; slots * TILE * LANES];
    let mut quantities = vec![0.0f32; (TILE + 2 * MARGIN) * LANES];
    let mut row_state: Vec<blur::Row> = (0..BAND).map(|_| blur::Row::new()).collect();
    let mut state = vec![0.0f32; padded * LANES * 6];
    let mut linear: [Vec<f32>; 3] = std::array::from_fn(|_| vec![0.0; width]);
    let mut next = downscale.then(|| Downscale::new(width, height));
    let mut sums = LaneSums {
        ssim: [[[0.0; COLUMNS]; 2]; 3],
        edge: [[[0.0; COLUMNS]; 4]; 3],
    };

    // The vertical recursion starts RADIUS - 1 rows above the picture (its first outputs
    // are not kept); band `m0..m0 + BAND` of steps reads rows `m0 - RADIUS - 1` to
    // `m0 + BAND + RADIUS - 2`. Slots 0..HALO hold the rows before the band: zeros (above
    // the picture) for the first, the previous band's last rows after.
    const L: usize = COLUMNS * LANES;
    let mut column = Column::<L>::new();
    let mut out = [0.0f32; L];
    let mut m0 = 1 - RADIUS;
    loop {
        let base = m0 - RADIUS - 1;
        for slot in HALO..slots {
            let row = base + slot as isize;
            let raw_row = &mut raw[slot * padded * RAW..][..padded * RAW];
            if row < 0 || row as usize >= height {
                raw_row.fill(0.0);
            } else {
                fill_raw(row as usize, xyb_a, rows, &mut linear, next.as_mut(), raw_row);
            }
        }
        row_state.iter_mut().for_each(|r| *r = blur::Row::new());
        let end = (m0 + BAND as isize).min(height as isize);
        for t0 in (0..padded).step_by(TILE) {
            let t1 = (t0 + TILE).min(padded);
            let tw = t1 - t0;
            for r in 0..HALO {
                tile[r * TILE * LANES..][..tw * LANES]
                    .copy_from_slice(&halo[(r * padded + t0) * LANES..][..tw * LANES]);
            }
            for slot in HALO..slots {
                let row = base + slot as isize;
                let out_row = &mut tile[slot * TILE * LANES..][..tw * LANES];
                if row < 0 || row as usize >= height {
                    out_row.fill(0.0);
                    continue;
                }
                let raw_row = &raw[slot * padded * RAW..][..padded * RAW];
                blur_tile(
                    raw_row,
                    xyb_a,
                    (t0, t1),
                    &mut quantities,
                    &mut row_state[slot - HALO],
                    out_row,
                );
            }
            for x0 in (t0..t1).step_by(COLUMNS) {
                let saved = &mut state[x0 * LANES * 6..][..L * 6];
                column.load(saved);
                let x = x0 - t0;
                for m in m0..end {
                    let top = (m - m0) as usize;
                    column.step(
                        &tile[(top * TILE + x) * LANES..][..L],
                        &tile[((top + HALO) * TILE + x) * LANES..][..L],
                        &mut out,
                    );
                    if m >= 0 {
                        let raw_row = &raw[((top + RADIUS as usize + 1) * padded + x0) * RAW..];
                        add_terms(&out, &raw_row[..COLUMNS * RAW], &mut sums);
                    }
                }
                column.save(saved);
            }
            for r in 0..HALO {
                halo[(r * padded + t0) * LANES..][..tw * LANES]
                    .copy_from_slice(&tile[(BAND + r) * TILE * LANES..][..tw * LANES]);
            }
        }
        m0 += BAND as isize;
        if m0 >= height as isize {
            break;
        }
        // Keep the last HALO rows for the next band.
        raw.copy_within(BAND * padded * RAW.., 0);
    }
    (sums.total((width * height) as u64), next.map(|n| n.next))
}

/// Row `y` of `rows` into `linear`, added to the next scale (when there is one) as linear RGB,
/// then turned to positive XYB in place: one picture's part of a row, the reference's once
/// ([`prepare`]), a candidate's at each score ([`fill_raw`]).
#[inline(always)]
fn xyb_row(y: usize, rows: &impl Rows, linear: &mut [Vec<f32>; 3], next: Option<&mut Downscale>) {
    rows.row(y, linear);
    if let Some(next) = next {
        next.add(y, linear);
    }
    let [r, g, b] = linear;
    xyb::to_xyb(r, g, b);
}

/// Row `y` of both pictures' positive XYB into `raw` (8 values a pixel: the reference's three,
/// the candidate's three, two zeros), adding the candidate's row to the next scale.
#[inline(always)]
fn fill_raw(
    y: usize,
    xyb_a: &Xyb,
    rows: &impl Rows,
    linear: &mut [Vec<f32>; 3],
    next: Option<&mut Downscale>,
    raw: &mut [f32],
) {
    let width = xyb_a.width;
    xyb_row(y, rows, linear, next);
    let [br, bg, bb] = &*linear;
    let [ar, ag, ab] = &xyb_a.planes;
    let (ar, ag, ab) = (
        &ar[y * width..][..width],
        &ag[y * width..][..width],
        &ab[y * width..][..width],
    );
    let (br, bg, bb) = (&br[..width], &bg[..width], &bb[..width]);
    let inputs = ar.iter().zip(ag).zip(ab).zip(br).zip(bg).zip(bb);
    for (px, (((((ar, ag), ab), br), bg), bb)) in raw[..width * RAW].chunks_exact_mut(RAW).zip(inputs) {
        px.copy_from_slice(&[*ar, *ag, *ab, *br, *bg, *bb, 0.0, 0.0]);
    }
}

/// Blurs row `y` along the columns `t0..t1` of a tile into `out`: its quantities (per
/// channel: a, b, a², b², ab) from `raw`, the recursion resumed from `state` (the tile before
/// it on the same row). Outputs past the picture's width are zeros.
#[inline(always)]
fn blur_tile(
    raw: &[f32],
    xyb_a: &Xyb,
    (t0, t1): (usize, usize),
    quantities: &mut [f32],
    state: &mut blur::Row,
    out: &mut [f32],
) {
    let width = xyb_a.width;
    let r = RADIUS as usize;
    // Outputs n in t0..n_end come from steps i = n + RADIUS - 1 (the row's first tile also
    // runs the warm-up steps from 0).
    let n_end = t1.min(width);
    if n_end > t0 {
        let first = if t0 == 0 { 0 } else { t0 + r - 1 };
        let last = n_end + r - 1;
        // Step i reads padded pixels i and i + 2 RADIUS: picture pixels i - MARGIN and i.
        // Per pixel, the six values [a.r a.g a.b b.r b.g b.b], a one and a zero, shuffled
        // into two vectors whose product is the quantities (x * 1 is x, exactly).
        const LEFT: [usize; LANES] = [0, 3, 0, 3, 0, 1, 4, 1, 4, 1, 2, 5, 2, 5, 2, 7];
        const RIGHT: [usize; LANES] = [6, 6, 0, 3, 3, 6, 6, 1, 4, 4, 6, 6, 2, 5, 5, 7];
        let span = last + 2 * r - first;
        let quantities = &mut quantities[..span * LANES];
        // Padded pixels first.. are picture pixels first - MARGIN..: zeros before the picture
        // and after it, the picture's pixels between.
        let lead = MARGIN.saturating_sub(first).min(span);
        let p0 = (first + lead) - MARGIN;
        let inside = width.saturating_sub(p0).min(span - lead);
        quantities[..lead * LANES].fill(0.0);
        quantities[(lead + inside) * LANES..].fill(0.0);
        let pixels = raw[p0 * RAW..][..inside * RAW].chunks_exact(RAW);
        for (q, px) in quantities[lead * LANES..][..inside * LANES]
            .chunks_exact_mut(LANES)
            .zip(pixels)
        {
            let v: [f32; RAW] = [px[0], px[1], px[2], px[3], px[4], px[5], 1.0, 0.0];
            for l in 0..LANES {
                q[l] = v[LEFT[l]] * v[RIGHT[l]];
            }
        }
        state.steps(quantities, first..last, out, t0);
    }
    out[(n_end.max(t0) - t0) * LANES..].fill(0.0);
}
/// The sums of one scale so far, one per pixel of a column band (added up at the end, so
/// that the per-pixel work runs on vectors).
#[derive(Clone, Copy)]
struct LaneSums {
    ssim: [[[f64; COLUMNS]; 2]; 3],
    edge: [[[f64; COLUMNS]; 4]; 3],
}

impl LaneSums {
    fn total(&self, pixels: u64) -> Sums {
        let add = |lanes: &[f64; COLUMNS]| lanes.iter().sum::<f64>();
        Sums {
            ssim: self.ssim.map(|c| c.map(|n| add(&n))),
            edge: self.edge.map(|c| c.map(|n| add(&n))),
            pixels,
        }
    }
}

/// Adds the SSIM and edge terms of a column band's pixels: `blurred` their blurred
/// quantities, `raw` their positive XYB. Columns past the picture hold zeros, whose terms
/// are zero.
#[inline(always)]
fn add_terms(blurred: &[f32; COLUMNS * LANES], raw: &[f32], sums: &mut LaneSums) {
    const C2: f32 = 0.0009;
    // By channel, then pixel.
    let mut v = [[[0.0f32; COLUMNS]; 7]; 3];
    for i in 0..COLUMNS {
        for c in 0..3 {
            for k in 0..5 {
                v[c][k][i] = blurred[i * LANES + 5 * c + k];
            }
            v[c][5][i] = raw[i * RAW + c];
            v[c][6][i] = raw[i * RAW + 3 + c];
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
            let d = (1.0 - f64::from((num_m * num_s) / denom_s)).max(0.0);
            let s = &mut sums.ssim[c];
            s[0][i] += d;
            s[1][i] += (d * d) * (d * d);
            let d1 = (1.0 + f64::from((b[i] - mu2[i]).abs()))
                / (1.0 + f64::from((a[i] - mu1[i]).abs()))
                - 1.0;
            let (artifact, lost) = (d1.max(0.0), (-d1).max(0.0));
            let e = &mut sums.edge[c];
            e[0][i] += artifact;
            e[1][i] += (artifact * artifact) * (artifact * artifact);
            e[2][i] += lost;
            e[3][i] += (lost * lost) * (lost * lost);
        }
    }
}

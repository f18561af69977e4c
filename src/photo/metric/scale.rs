//! One scale of SSIMULACRA 2, streamed: rows of both pictures go in once, in order; each is
//! converted to positive XYB, its quantities (`terms::Quantities`: per channel a, b, a², b²,
//! ab, or the few of them the first scale needs) blurred along the row, then down the
//! columns a band of rows at a time, and the SSIM and edge terms of each output row are
//! added up as soon as it is out. Nothing of the candidate's size is kept but its next
//! scale's linear RGB (a quarter of the pixels): the working memory is a few rows and that
//! quarter, not the picture's planes.
// Lane loops index several arrays at once, which is what the compiler vectorizes best.
#![allow(clippy::needless_range_loop)]
use super::blur::{self, Column, LANES, MARGIN, RADIUS};
use super::terms::{self, COLUMNS, LaneSums, Quantities, RAW, Sums, Terms};
use super::transpose::{Block, Transpose};
use super::xyb;

/// Lanes the vertical recursion runs on at a time: an AVX2 vector.
const VECTOR: usize = 8;
/// Vectors the vertical recursion runs on together: two chains hide each other's latency
/// where AVX-512's 32 registers hold both (8 % faster a score); with AVX2's 16 it is as fast
/// as one.
const PAIR: usize = 2;
/// Output rows per band of the vertical pass. The band's rows, blurred along and the
/// candidate's XYB, are the working set of a scale (on a 4896-pixel row at the first scale,
/// 5.6 MB at 16 rows; 7.1 MB when the raw rows of both pictures were kept): with 32 a score
/// of an 18 MP photo took 11 % and 45 % longer in two alternations, with 64 46 %.
const BAND: usize = 16;
/// Rows of blurred input a band needs beyond its own: `RADIUS + 1` above, `RADIUS - 1` below.
const HALO: usize = 2 * RADIUS as usize;
/// The blurred rows' groups are the column bands, and a vector is one quantity of a group.
const _: () = assert!(blur::GROUP == COLUMNS && VECTOR == COLUMNS);
/// Floats a scale keeps per pixel of width: the band's blurred rows and the candidate's XYB
/// rows (3 floats a pixel), the vertical recursion's state, a row of quantities, and a row
/// of linear RGB and of the next scale's sums (the reference's preparation).
pub const FLOATS_PER_COLUMN: usize = (BAND + HALO) * (LANES + 3) + 6 * LANES + LANES + 6;

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
    /// The blurred a.y² for the first scale's shortcut (`terms::First`), empty at the other
    /// scales: one float a pixel of the rows padded to whole column bands, in the order the
    /// blur gives its output (band of rows, column band, row, pixel), which is the order a
    /// candidate's terms read it in.
    pub sigma: Vec<f32>,
}

/// Where a scale's rows come from.
pub trait Rows {
    /// Linear RGB of row `y` of one picture into `out` (a row's length each).
    fn row(&self, y: usize, out: [&mut [f32]; 3]);
}

impl Rows for Planes {
    #[inline(always)]
    fn row(&self, y: usize, out: [&mut [f32]; 3]) {
        for (o, p) in out.into_iter().zip(&self.planes) {
            o.copy_from_slice(&p[y * self.width..][..self.width]);
        }
    }
}

/// The reference's side of one scale, once: its XYB planes (no `sigma`: see
/// [`blurred_square`]), and the next scale's linear RGB when `downscale`.
#[inline(always)]
pub fn prepare(
    width: usize,
    height: usize,
    rows: &impl Rows,
    downscale: bool,
) -> (Xyb, Option<Planes>) {
    // Filled row by row, not zeroed first.
    let mut planes: [Vec<f32>; 3] = std::array::from_fn(|_| Vec::with_capacity(width * height));
    let mut linear: [Vec<f32>; 3] = std::array::from_fn(|_| vec![0.0; width]);
    let mut next = downscale.then(|| Downscale::new(width, height));
    for y in 0..height {
        let [r, g, b] = &mut linear;
        xyb_row(y, rows, [r, g, b], next.as_mut());
        for (plane, row) in planes.iter_mut().zip(&linear) {
            plane.extend_from_slice(row);
        }
    }
    let xyb = Xyb {
        width,
        height,
        planes,
        sigma: Vec::new(),
    };
    (xyb, next.map(|n| n.next))
}

/// The next scale's planes, made by 2x2 averages of linear RGB (the last row and column
/// repeated when the size is odd), added up as rows arrive: an output row is summed in
/// `row`, then appended to its plane (the planes are not zeroed first).
struct Downscale {
    next: Planes,
    row: [Vec<f32>; 3],
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
                planes: std::array::from_fn(|_| Vec::with_capacity(w * h)),
            },
            row: std::array::from_fn(|_| vec![0.0; w]),
            width,
            height,
        }
    }

    /// Adds input row `y` (as the `ssimulacra2` crate does: the four samples added in order
    /// to zero, then a quarter taken).
    #[inline(always)]
    fn add(&mut self, y: usize, row: [&[f32]; 3]) {
        let last = self.width - 1;
        let times = if y.is_multiple_of(2) && y + 1 == self.height {
            2
        } else {
            1
        };
        let done = !y.is_multiple_of(2) || y + 1 == self.height;
        for ((plane, out), input) in self.next.planes.iter_mut().zip(&mut self.row).zip(row) {
            if y.is_multiple_of(2) {
                out.fill(0.0);
            }
            let pairs = self.width / 2;
            for _ in 0..times {
                for (o, pair) in out.iter_mut().zip(input.chunks_exact(2)) {
                    *o = (*o + pair[0]) + pair[1];
                }
                if let Some(o) = out.get_mut(pairs) {
                    // An odd width: the last column counts twice.
                    *o = (*o + input[last]) + input[last];
                }
            }
            if done {
                for o in out.iter_mut() {
                    *o *= 0.25;
                }
                plane.extend_from_slice(out);
            }
        }
    }
}

/// The blurred a.y² of a prepared scale, for [`Xyb::sigma`] (in the order of the blur's
/// output): the same recursion, lane for lane, as a candidate's blur of that quantity, with
/// one quantity instead of eight: along the rows, 8 rows at a time as the 8 lanes; down the
/// columns, a column band's 8 pixels as the lanes.
#[inline(always)]
pub fn blurred_square(xyb: &Xyb) -> Vec<f32> {
    const ROWS: usize = 8;
    // A band's new rows (slots HALO.., rows from a multiple of BAND) are whole groups of ROWS.
    const { assert!(BAND.is_multiple_of(ROWS)) };
    let (width, height) = (xyb.width, xyb.height);
    let plane = &xyb.planes[1];
    let padded = width.div_ceil(COLUMNS) * COLUMNS;
    let slots = BAND + HALO;
    // The rows blurred along, one float a pixel, `slots` rows; slot `i` holds row `base + i`.
    let mut blurred = vec![0.0f32; slots * padded];
    let mut state = vec![0.0f32; padded * 6];
    // ROWS rows' squares by pixel, then row, between zero margins; their blur by column
    // band, row, then pixel.
    let mut squares = vec![0.0f32; (width + 2 * MARGIN) * ROWS];
    let mut along = vec![0.0f32; padded * ROWS];
    let mut sigma = Vec::with_capacity(padded * height);
    let transpose = Transpose::new();
    let mut m0 = 1 - RADIUS;
    loop {
        let base = m0 - RADIUS - 1;
        for slot in (HALO..slots).step_by(ROWS) {
            let out = &mut blurred[slot * padded..][..ROWS * padded];
            let first = usize::try_from(base + slot as isize).unwrap_or(usize::MAX);
            if first >= height {
                out.fill(0.0);
                continue;
            }
            for j in 0..ROWS {
                let y = first + j;
                match plane.get(y * width..(y + 1) * width).filter(|_| y < height) {
                    Some(row) => {
                        for (x, a) in row.iter().enumerate() {
                            squares[(MARGIN + x) * ROWS + j] = a * a;
                        }
                    }
                    None => {
                        for x in 0..width {
                            squares[(MARGIN + x) * ROWS + j] = 0.0;
                        }
                    }
                }
            }
            blur::horizontal::<ROWS>(&squares, &mut along, width, COLUMNS * ROWS, transpose);
            for (g, group) in along.chunks_exact(ROWS * COLUMNS).enumerate() {
                for (j, pixels) in group.chunks_exact(COLUMNS).enumerate() {
                    out[j * padded + g * COLUMNS..][..COLUMNS].copy_from_slice(pixels);
                }
            }
        }
        let end = (m0 + BAND as isize).min(height as isize);
        for x0 in (0..padded).step_by(COLUMNS) {
            let saved = &mut state[x0 * 6..][..COLUMNS * 6];
            let mut column = Column::<COLUMNS>::new();
            column.load(saved);
            for m in m0..end {
                let top = (m - m0) as usize;
                let mut lanes = [0.0f32; COLUMNS];
                column.step(
                    &blurred[top * padded + x0..][..COLUMNS],
                    &blurred[(top + HALO) * padded + x0..][..COLUMNS],
                    &mut lanes,
                );
                if m >= 0 {
                    sigma.extend_from_slice(&lanes);
                }
            }
            column.save(saved);
        }
        m0 += BAND as isize;
        if m0 >= height as isize {
            break;
        }
        // Keep the last HALO rows for the next band.
        blurred.copy_within(BAND * padded.., 0);
    }
    sigma
}

/// Where the blur's input rows come from.
trait Fill<const N: usize> {
    /// Row `y`'s `N` quantities a pixel into `quantities` (the row, without the zero margins
    /// the horizontal pass reads); its raw values are kept in `slot` of a ring of
    /// `BAND + HALO` rows until the row's terms are added.
    fn fill(&mut self, y: usize, slot: usize, quantities: &mut [f32]);
    /// Row `y`'s raw values (kept in `slot`) of the column band from `x0`, by channel (both
    /// pictures' three), then pixel; zeros past the picture's width.
    fn raw(&self, y: usize, slot: usize, x0: usize) -> [[f32; COLUMNS]; RAW];
}

/// Where the blur's output rows go, a column band at a time, each band's rows in order.
trait Sink<const N: usize> {
    /// The next output row of the current column band: its blurred quantities by lane, then
    /// pixel, and its raw values by channel, then pixel.
    fn row(&mut self, blurred: &[[f32; COLUMNS]; N], raw: &[[f32; COLUMNS]; RAW]);
    /// The end of a column band's rows in one band of rows.
    fn flush(&mut self);
}

/// The blur of one scale, streamed: `rows` gives each row's `N` quantities a pixel and its
/// raw values; the first `vectors` lanes are blurred down the columns (the others are left
/// zero), and `sink` gets every output row. (Traits, not closures: a closure that is not
/// inlined is compiled without the vector instructions `pulp` chose.)
#[inline(always)]
fn blur_rows<const N: usize>(
    width: usize,
    height: usize,
    vectors: usize,
    rows: &mut impl Fill<N>,
    sink: &mut impl Sink<N>,
) {
    // The vertical pass takes whole pairs of vectors (of quantities).
    const { assert!(N.is_multiple_of(PAIR)) };
    let padded = width.div_ceil(COLUMNS) * COLUMNS;
    let groups = padded / COLUMNS;
    let slots = BAND + HALO;
    // Blurred-along-the-row quantities, `slots` rows each, by column band (the
    // band's rows one after the other, so that the vertical pass reads on in memory, not a
    // row's length further at each step): a ring, slot `i` of column band `g` (at
    // `(g * slots + i) * COLUMNS` pixels) holding the rows `r` with `slot(r) == i`, each band
    // of rows writing its new rows over the oldest (no halo copied from band to band). Rows
    // outside the picture and columns past its width are zeros.
    let mut blurred = vec![0.0f32; slots * padded * N];
    let mut state = vec![0.0f32; padded * N * 6];
    let mut quantities = vec![0.0f32; (width + 2 * MARGIN) * N];
    // A column band's vertical outputs for the band's rows.
    let mut outputs = vec![[[0.0f32; COLUMNS]; N]; BAND];
    let transpose = Transpose::new();

    // The vertical recursion starts RADIUS - 1 rows above the picture (its first outputs
    // are not kept); band `m0..m0 + BAND` of steps reads rows `m0 - RADIUS - 1` to
    // `m0 + BAND + RADIUS - 2`, `slots` rows, each in its own slot. The first band's HALO
    // rows above the picture are the ring's first slots, zeros.
    let slot = |row: isize| (row + HALO as isize).rem_euclid(slots as isize) as usize;
    // Per step of a band, the slots of the rows it reads (above, below) and of its own row.
    let mut reads = [(0usize, 0usize, 0usize); BAND];
    let mut m0 = 1 - RADIUS;
    loop {
        let base = m0 - RADIUS - 1;
        for (i, r) in reads.iter_mut().enumerate() {
            let m = m0 + i as isize;
            *r = (slot(m - RADIUS - 1), slot(m + RADIUS - 1), slot(m));
        }
        for row in base + HALO as isize..base + slots as isize {
            let slot = slot(row);
            if row < 0 || row as usize >= height {
                for g in 0..groups {
                    blurred[(g * slots + slot) * COLUMNS * N..][..COLUMNS * N].fill(0.0);
                }
                continue;
            }
            rows.fill(
                row as usize,
                slot,
                &mut quantities[MARGIN * N..][..width * N],
            );
            blur::horizontal::<N>(
                &quantities,
                &mut blurred[slot * COLUMNS * N..],
                width,
                slots * COLUMNS * N,
                transpose,
            );
        }
        let end = (m0 + BAND as isize).min(height as isize);
        for g in 0..groups {
            let x0 = g * COLUMNS;
            let band = &blurred[g * slots * COLUMNS * N..][..slots * COLUMNS * N];
            // Down the band two vectors (two quantities of the column band) at a time, so
            // that the recursion's state stays in registers.
            for v in (0..vectors).step_by(PAIR) {
                let saved = &mut state[(x0 * N + v * VECTOR) * 6..][..PAIR * VECTOR * 6];
                let mut column = Column::<{ PAIR * VECTOR }>::new();
                column.load(saved);
                for ((_, out), &(top, bottom, _)) in (m0..end).zip(outputs.iter_mut()).zip(&reads) {
                    let mut lanes = [0.0f32; PAIR * VECTOR];
                    column.step(
                        &band[top * COLUMNS * N + v * VECTOR..][..PAIR * VECTOR],
                        &band[bottom * COLUMNS * N + v * VECTOR..][..PAIR * VECTOR],
                        &mut lanes,
                    );
                    for (k, half) in lanes.chunks_exact(VECTOR).enumerate() {
                        if let Some(o) = out.get_mut(v + k) {
                            o.copy_from_slice(half);
                        }
                    }
                }
                column.save(saved);
            }
            for ((m, out), &(_, _, own)) in (m0..end).zip(&outputs).zip(&reads) {
                if m >= 0 {
                    sink.row(out, &rows.raw(m as usize, own, x0));
                }
            }
            sink.flush();
        }
        m0 += BAND as isize;
        if m0 >= height as isize {
            break;
        }
    }
}

/// A candidate's terms, added up: a column band's in f32 over a band of rows (at most BAND
/// values a lane), then into the scale's sums in f64.
struct Added<'a, const N: usize, Q> {
    /// The reference's blurred a.y² still to read (see [`Xyb::sigma`]), when `Q` reads it.
    sigma: &'a [f32],
    terms: Terms<f32>,
    sums: LaneSums,
    quantities: std::marker::PhantomData<Q>,
}

impl<const N: usize, Q: Quantities<N>> Sink<N> for Added<'_, N, Q> {
    #[inline(always)]
    fn row(&mut self, blurred: &[[f32; COLUMNS]; N], raw: &[[f32; COLUMNS]; RAW]) {
        let (sigma, rest) = self.sigma.split_at(self.sigma.len().min(COLUMNS));
        terms::add_terms::<N, Q>(blurred, raw.as_flattened(), sigma, &mut self.terms);
        self.sigma = rest;
    }

    #[inline(always)]
    fn flush(&mut self) {
        self.sums.add(&self.terms);
        self.terms = Terms::default();
    }
}

/// Scores one scale of a candidate against the reference's `xyb` of the same scale, with the
/// quantities `Q` (`terms::First` needs the reference's `sigma`): `rows` gives the
/// candidate's rows; when `downscale`, its next scale's planes are made on the way.
#[inline(always)]
pub fn scale<const N: usize, Q: Quantities<N>>(
    xyb_a: &Xyb,
    rows: &impl Rows,
    downscale: bool,
) -> (Sums, Option<Planes>) {
    let (width, height) = (xyb_a.width, xyb_a.height);
    let mut candidate = Candidate::<_, Q> {
        xyb_a,
        rows,
        ring: std::array::from_fn(|_| vec![0.0; (BAND + HALO) * width]),
        next: downscale.then(|| Downscale::new(width, height)),
        transpose: Transpose::new(),
        quantities: std::marker::PhantomData,
    };
    let mut sink = Added::<N, Q> {
        sigma: &xyb_a.sigma,
        terms: Terms::default(),
        sums: LaneSums::new(),
        quantities: std::marker::PhantomData,
    };
    blur_rows::<N>(width, height, Q::BLURRED, &mut candidate, &mut sink);
    let next = candidate.next.map(|n| n.next);
    (sink.sums.total((width * height) as u64), next)
}

/// A candidate's rows at one scale, with the reference's: what the blur of a score reads.
struct Candidate<'a, R, Q> {
    xyb_a: &'a Xyb,
    rows: &'a R,
    /// The candidate's XYB rows, `BAND + HALO` of them (a row's length apart) per channel.
    ring: [Vec<f32>; 3],
    next: Option<Downscale>,
    transpose: Transpose,
    quantities: std::marker::PhantomData<Q>,
}

impl<const N: usize, R: Rows, Q: Quantities<N>> Fill<N> for Candidate<'_, R, Q> {
    #[inline(always)]
    fn fill(&mut self, y: usize, slot: usize, quantities: &mut [f32]) {
        let width = self.xyb_a.width;
        let [r, g, b] = &mut self.ring;
        let [r, g, b] = [r, g, b].map(|p| &mut p[slot * width..][..width]);
        xyb_row(y, self.rows, [r, g, b], self.next.as_mut());
        let [r, g, b] = &self.ring;
        let b = [r, g, b].map(|p| &p[slot * width..][..width]);
        fill_row::<N, Q>(y, self.xyb_a, b, quantities, self.transpose);
    }

    #[inline(always)]
    fn raw(&self, y: usize, slot: usize, x0: usize) -> [[f32; COLUMNS]; RAW] {
        let width = self.xyb_a.width;
        let mut raw = [[0.0f32; COLUMNS]; RAW];
        let rows = self.xyb_a.planes.iter().map(|p| &p[y * width..][..width]);
        let rows = rows.chain(self.ring.iter().map(|p| &p[slot * width..][..width]));
        for (to, row) in raw.iter_mut().zip(rows) {
            match row[x0..].first_chunk::<COLUMNS>() {
                Some(from) => *to = *from,
                // The last, partial column band (its columns past the picture stay zero).
                None => to[..width - x0].copy_from_slice(&row[x0..]),
            }
        }
        raw
    }
}

/// Row `y` of `rows` into `linear`, added to the next scale (when there is one) as linear RGB,
/// then turned to positive XYB in place: one picture's part of a row, the reference's once
/// ([`prepare`]), a candidate's at each score ([`scale`]).
#[inline(always)]
fn xyb_row(y: usize, rows: &impl Rows, linear: [&mut [f32]; 3], next: Option<&mut Downscale>) {
    let [r, g, b] = linear;
    rows.row(y, [&mut *r, &mut *g, &mut *b]);
    if let Some(next) = next {
        next.add(y, [r, g, b]);
    }
    xyb::to_xyb(r, g, b);
}

/// Quantities `k..k + 8` of `Q` (those past `N` zero) for the eight pixels of `v` (a vector
/// per value of `[a.x a.y a.b b.x b.y b.b 1 0]`), a vector per quantity. Called with a
/// constant `k` and written out, so that every index is a constant once inlined: in a loop
/// over the quantities the compiler looked them up at run time.
#[inline(always)]
fn products<const N: usize, Q: Quantities<N>>(v: &[[f32; 8]; 8], k: usize) -> Block {
    #[inline(always)]
    fn product<const N: usize, Q: Quantities<N>>(v: &[[f32; 8]; 8], k: usize) -> [f32; 8] {
        if k >= N {
            return [0.0; 8];
        }
        let (left, right) = (&v[Q::LEFT[k]], &v[Q::RIGHT[k]]);
        let mut out = [0.0f32; 8];
        for p in 0..8 {
            out[p] = left[p] * right[p];
        }
        out
    }
    [
        product::<N, Q>(v, k),
        product::<N, Q>(v, k + 1),
        product::<N, Q>(v, k + 2),
        product::<N, Q>(v, k + 3),
        product::<N, Q>(v, k + 4),
        product::<N, Q>(v, k + 5),
        product::<N, Q>(v, k + 6),
        product::<N, Q>(v, k + 7),
    ]
}

/// Row `y`'s quantities (`Q`'s products of the reference's XYB and the candidate's, `b`)
/// into `quantities`.
#[inline(always)]
fn fill_row<const N: usize, Q: Quantities<N>>(
    y: usize,
    xyb_a: &Xyb,
    b: [&[f32]; 3],
    quantities: &mut [f32],
    transpose: Transpose,
) {
    // Blocks 0 and 8 (`products` is called with those two constants).
    const { assert!(N == 8 || N == 16) };
    let width = xyb_a.width;
    let [br, bg, bb] = b;
    let [ar, ag, ab] = &xyb_a.planes;
    let (ar, ag, ab) = (
        &ar[y * width..][..width],
        &ag[y * width..][..width],
        &ab[y * width..][..width],
    );
    let (br, bg, bb) = (&br[..width], &bg[..width], &bb[..width]);
    let planes = [ar, ag, ab, br, bg, bb];
    // Eight pixels at a time: each product as a vector of the eight, then turned into the
    // pixels' vectors of quantities, eight quantities a block.
    let whole = width / 8;
    let (blocks, tail) = quantities[..width * N].split_at_mut(whole * 8 * N);
    for (x, pixels) in (0..).step_by(8).zip(blocks.chunks_exact_mut(8 * N)) {
        let mut v = [[1.0f32; 8]; 8];
        v[7] = [0.0; 8];
        for (values, plane) in v.iter_mut().zip(planes) {
            if let Some(from) = plane[x..].first_chunk::<8>() {
                *values = *from;
            }
        }
        for c in 0..N / 8 {
            // The block's quantities, `c` spelt out as a constant.
            let block: Block = if c == 0 {
                products::<N, Q>(&v, 0)
            } else {
                products::<N, Q>(&v, 8)
            };
            let pixel_lanes = transpose.block(&block);
            for (p, lanes) in pixel_lanes.iter().enumerate() {
                if let Some(to) = pixels[p * N + c * 8..].first_chunk_mut::<8>() {
                    *to = *lanes;
                }
            }
        }
    }
    let inputs = ar
        .iter()
        .zip(ag)
        .zip(ab)
        .zip(br)
        .zip(bg)
        .zip(bb)
        .skip(whole * 8);
    for (q, (((((ar, ag), ab), br), bg), bb)) in tail.chunks_exact_mut(N).zip(inputs) {
        let v: [f32; 8] = [*ar, *ag, *ab, *br, *bg, *bb, 1.0, 0.0];
        for k in 0..N {
            q[k] = v[Q::LEFT[k]] * v[Q::RIGHT[k]];
        }
    }
}

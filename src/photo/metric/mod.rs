//! The perceptual score of a candidate output against its input (`--target-quality`):
//! SSIMULACRA 2 (Cloudinary's metric, as libjxl's `tools/ssimulacra2.cc` and the
//! `ssimulacra2` crate compute it), implemented here to be fast and small:
//! - rows are streamed through each scale (`scale.rs`): the working memory is the next
//!   scale's linear RGB and a band of rows, about [`BYTES_PER_PIXEL`] bytes a pixel, where
//!   the crate keeps about 160;
//! - the fifteen blurred quantities of a pixel are blurred together as one vector
//!   (`blur.rs`), in code the compiler vectorizes, compiled for AVX2+FMA and chosen at run
//!   time where the processor has them (`pulp`), portable elsewhere;
//! - it compares pictures, not files: the caller decodes them (`pixel::decode_rgb`, the
//!   decoder `djpeg` is), so this module depends on nothing of the pipeline.
//!
//! Scores agree with the crate's `compute_frame_ssimulacra2` within a few thousandths (the
//! test pins reference values). A [`Reference`] holds the input decoded once.
mod blur;
mod scale;
mod weights;
mod xyb;

use crate::error::ImageError;
use scale::{Planes, Rows, Sums};

/// How far above the target a full-size score must be for a search to accept it: how far
/// this implementation may be from the reference one (the `ssimulacra2` crate on
/// libjpeg-turbo's decode, the tests' and bench's independent scorer). They do the same
/// operations in the same order; the tests find them equal to 1e-4.
pub const AGREEMENT: f64 = 0.001;

/// A decoded picture, what the metric compares (`jpeg::pixel::decode_rgb` makes them).
pub use crate::jpeg::pixel::Rgb;

/// Smallest side the metric accepts.
pub const MIN_SIDE: usize = 8;
/// Scales of the metric (1:1 to 1:32).
const SCALES: usize = 6;

/// Bytes of working memory the metric needs per pixel of the picture, beyond the decoded
/// pictures themselves (3 bytes a pixel each): the next scale's linear RGB of both pictures
/// (6 floats per 4 pixels), rounded up; plus [`BYTES_PER_COLUMN`] per pixel of width.
pub const BYTES_PER_PIXEL: u64 = 8;
/// Bytes per pixel of width: the band of blurred rows, the raw rows and the vertical state.
pub const BYTES_PER_COLUMN: u64 = 4 * scale::FLOATS_PER_COLUMN as u64;

/// Memory a target search takes for a `width` x `height` photo beyond the codec's: the
/// reference and one candidate decoded (3 bytes a pixel each), the metric's working memory.
pub fn search_memory(width: usize, height: usize) -> u64 {
    let pixels = (width * height) as u64;
    pixels * (6 + BYTES_PER_PIXEL) + (width.max(height) as u64 + 8) * BYTES_PER_COLUMN
}

/// The SSIMULACRA 2 score of `distorted` against `source` (same size, at least 8x8):
/// 100 identical, 90 visually lossless, 70 high quality, 50 medium; below 0 for very
/// distorted pictures.
pub fn ssimulacra2(source: &Rgb, distorted: &Rgb) -> Result<f64, ImageError> {
    if (source.width, source.height) != (distorted.width, distorted.height) {
        return Err(ImageError::Encode(format!(
            "the candidate is {}x{}, the input {}x{}",
            distorted.width, distorted.height, source.width, source.height
        )));
    }
    check_sides(source)?;
    let needed = source.width * source.height * 3;
    if source.pixels.len() < needed || distorted.pixels.len() < needed {
        return Err(ImageError::Decode(
            "the picture has fewer pixels than its size".into(),
        ));
    }
    Ok(pulp::Arch::new().dispatch(Score(source, distorted)))
}

/// The score as a `pulp` operation: its body, and everything it inlines (the whole metric is
/// `#[inline(always)]`), is compiled for each instruction set `pulp` dispatches to.
struct Score<'a>(&'a Rgb, &'a Rgb);

impl pulp::WithSimd for Score<'_> {
    type Output = f64;

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) -> f64 {
        score_pictures(self.0, self.1)
    }
}

/// Scale 0's rows: sRGB bytes of both pictures, to linear light by table.
struct Bytes<'a> {
    a: &'a [u8],
    b: &'a [u8],
    width: usize,
    linear: xyb::Linear,
}

impl Rows for Bytes<'_> {
    #[inline(always)]
    fn row(&self, y: usize, out: &mut [Vec<f32>; 6]) {
        let bytes = self.width * 3;
        let [ar, ag, ab, br, bg, bb] = out;
        self.linear.row(
            &self.a[y * bytes..][..bytes],
            [&mut ar[..], &mut ag[..], &mut ab[..]],
        );
        self.linear.row(
            &self.b[y * bytes..][..bytes],
            [&mut br[..], &mut bg[..], &mut bb[..]],
        );
    }
}

#[inline(always)]
fn score_pictures(source: &Rgb, distorted: &Rgb) -> f64 {
    let (width, height) = (source.width, source.height);
    let bytes = Bytes {
        a: &source.pixels,
        b: &distorted.pixels,
        width,
        linear: xyb::Linear::new(),
    };
    let mut sums: Vec<Sums> = Vec::with_capacity(SCALES);
    // As the reference does: a scale is made (and scored) when the one before it had both
    // sides of at least 8 pixels.
    let more = |w: usize, h: usize, s: usize| s + 1 < SCALES && w >= MIN_SIDE && h >= MIN_SIDE;
    let (first, mut next) = scale::scale(width, height, &bytes, more(width, height, 0));
    sums.push(first);
    while let Some(planes) = next.take() {
        let (w, h) = (planes.width, planes.height);
        let (s, n) = scale::scale(w, h, &planes as &Planes, more(w, h, sums.len()));
        sums.push(s);
        next = n;
    }
    weights::score(&sums)
}

/// Refuses a picture too small for the metric.
fn check_sides(picture: &Rgb) -> Result<(), ImageError> {
    if picture.width < MIN_SIDE || picture.height < MIN_SIDE {
        return Err(ImageError::Unsupported(format!(
            "{}x{} is too small for {} (SSIMULACRA 2 needs {MIN_SIDE}x{MIN_SIDE} pixels)",
            picture.width,
            picture.height,
            crate::names::name(crate::names::Setting::TargetQuality)
        )));
    }
    Ok(())
}

/// The input of a target search, decoded once, that candidates are scored against.
pub struct Reference {
    picture: Rgb,
}

impl Reference {
    /// The reference `picture`, refused at once when it is too small for the metric.
    pub fn new(picture: Rgb) -> Result<Self, ImageError> {
        check_sides(&picture)?;
        Ok(Reference { picture })
    }

    /// The picture's size.
    pub fn size(&self) -> (usize, usize) {
        (self.picture.width, self.picture.height)
    }

    /// The score of `candidate` against the reference.
    pub fn score(&self, candidate: &Rgb) -> Result<f64, ImageError> {
        ssimulacra2(&self.picture, candidate)
    }
}

#[cfg(test)]
mod tests;

//! The perceptual score of a candidate output against its input (`--target-quality`):
//! SSIMULACRA 2 (Cloudinary's metric, as libjxl's `tools/ssimulacra2.cc` and the
//! `ssimulacra2` crate compute it), implemented here to be fast and small:
//! - the reference is prepared once per search ([`Reference`]: its positive XYB at every
//!   scale, which each candidate's score reads instead of converting it again);
//! - a candidate's rows are streamed through each scale (`scale.rs`): the working memory is
//!   the reference's XYB, the candidate's next scale's linear RGB and a band of rows, about
//!   [`BYTES_PER_PIXEL`] bytes a pixel, where the crate keeps about 160;
//! - the blurred quantities of a pixel (per channel a, b, a², b², ab) are blurred together
//!   as one vector (`blur.rs`); at the first scale of a picture with all six, which holds
//!   three quarters of the pixels, only the eight the weights read (`terms.rs`: no SSIM of X
//!   nor of B), the reference's a.y² blurred once when it is prepared;
//! - all of it in code the compiler vectorizes, compiled for AVX-512 and for AVX2+FMA and
//!   chosen at run time where the processor has them (`pulp`), portable elsewhere;
//! - it compares pictures, not files: the caller decodes them (`pixel::decode_rgb`, the
//!   decoder `djpeg` is), so this module depends on nothing of the pipeline.
//!
//! Scores agree with the crate's `compute_frame_ssimulacra2` within a few thousandths (the
//! test pins reference values), because the blur is the reference's recursion, in the same
//! operations and order. That matters more than it seems: the recursion's poles lie on the
//! unit circle, so its f32 rounding noise grows along a row, and SSIM's clamp at zero turns
//! that noise into a bias. The blur written as the finite 9-tap filter it equals (2.1x to
//! 2.5x faster here) scored 0.2 higher than the crate on a 21 MP photo at q70 and up to 3 points
//! higher on a smooth gradient at q90: closer to the exact metric, but the guarantee is the
//! reference tools' score, so the recursion stays.
mod blur;
mod scale;
mod terms;
mod transpose;
mod weights;
mod xyb;

use crate::error::ImageError;
use scale::{Planes, Rows, Xyb};
use terms::{All, First, Quantities, Sums};

/// The weights the first scale's shortcut rests on: with six scales, the SSIM terms of X and
/// of B at the first scale weigh nothing, so `First` does not blur their variances.
const _: () = assert!(weights::FIRST_SCALE_SSIM == <First as Quantities<8>>::SSIM);

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
/// pictures themselves (3 bytes a pixel each): the reference's XYB at every scale (3 floats a
/// pixel, and a third more for the smaller scales), its blurred a.y² at the first scale (a
/// float a pixel) and the candidate's next scale's linear RGB (3 floats per 4 pixels),
/// rounded up; plus [`BYTES_PER_COLUMN`] per pixel of width (which also covers the rows'
/// padding to whole column bands).
pub const BYTES_PER_PIXEL: u64 = 24;
/// Bytes per pixel of width: the band of blurred rows, the candidate's XYB rows and the
/// vertical state.
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
    Reference::prepare(source)?.score(distorted)
}

/// Scale 0's rows: sRGB bytes, to linear light by table.
struct Bytes<'a> {
    pixels: &'a [u8],
    width: usize,
    linear: xyb::Linear,
}

impl<'a> Bytes<'a> {
    fn new(picture: &'a Rgb) -> Self {
        Bytes {
            pixels: &picture.pixels,
            width: picture.width,
            linear: xyb::Linear::new(),
        }
    }
}

impl Rows for Bytes<'_> {
    #[inline(always)]
    fn row(&self, y: usize, out: [&mut [f32]; 3]) {
        let bytes = self.width * 3;
        self.linear.row(&self.pixels[y * bytes..][..bytes], out);
    }
}

/// Checks that `picture` holds its pixels.
fn check_pixels(picture: &Rgb) -> Result<(), ImageError> {
    if picture.pixels.len() < picture.width * picture.height * 3 {
        return Err(ImageError::Decode(
            "the picture has fewer pixels than its size".into(),
        ));
    }
    Ok(())
}

/// The reference's preparation as a `pulp` operation: its body, and everything it inlines
/// (the whole metric is `#[inline(always)]`), is compiled for each instruction set `pulp`
/// dispatches to.
struct Prepare<'a>(&'a Rgb);

impl pulp::WithSimd for Prepare<'_> {
    type Output = Vec<Xyb>;

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) -> Vec<Xyb> {
        let picture = self.0;
        let bytes = Bytes::new(picture);
        let mut scales = Vec::with_capacity(SCALES);
        let (w, h) = (picture.width, picture.height);
        let (first, mut next) = scale::prepare(w, h, &bytes, more(w, h, 0));
        scales.push(first);
        while let Some(planes) = next.take() {
            let (w, h) = (planes.width, planes.height);
            let (s, n) = scale::prepare(w, h, &planes, more(w, h, scales.len()));
            scales.push(s);
            next = n;
        }
        // With all the scales, the first needs fewer quantities (`terms::First`), and the
        // reference's blurred a.y².
        if scales.len() == SCALES
            && let Some(first) = scales.first_mut()
        {
            first.sigma = scale::blurred_square(first);
        }
        scales
    }
}

/// As the reference does: a scale is made (and scored) when the one before it, `s`, was
/// `w` x `h` with both sides at least 8 pixels.
fn more(w: usize, h: usize, s: usize) -> bool {
    s + 1 < SCALES && w >= MIN_SIDE && h >= MIN_SIDE
}

/// A candidate's score as a `pulp` operation.
struct Score<'a>(&'a [Xyb], &'a Rgb);

impl pulp::WithSimd for Score<'_> {
    type Output = f64;

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) -> f64 {
        let (scales, picture) = (self.0, self.1);
        let bytes = Bytes::new(picture);
        let mut sums: Vec<Sums> = Vec::with_capacity(scales.len());
        let last = scales.len().saturating_sub(1);
        let mut next = None;
        for (i, reference) in scales.iter().enumerate() {
            let downscale = i < last;
            // The reference has the blurred a.y² when the shortcut applies (all six scales).
            let (s, n) = match next.take() {
                None if !reference.sigma.is_empty() => {
                    scale::scale::<8, First>(reference, &bytes, downscale)
                }
                None => scale::scale::<16, All>(reference, &bytes, downscale),
                Some(planes) => scale::scale::<16, All>(reference, &planes as &Planes, downscale),
            };
            sums.push(s);
            next = n;
        }
        weights::score(&sums)
    }
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

/// The input of a target search, prepared once (its XYB planes at every scale) for the
/// candidates to be scored against.
pub struct Reference {
    width: usize,
    height: usize,
    scales: Vec<Xyb>,
}

impl Reference {
    /// The reference `picture`, refused at once when it is too small for the metric. The
    /// picture itself is not kept.
    pub fn new(picture: Rgb) -> Result<Self, ImageError> {
        Self::prepare(&picture)
    }

    fn prepare(picture: &Rgb) -> Result<Self, ImageError> {
        check_sides(picture)?;
        check_pixels(picture)?;
        Ok(Reference {
            width: picture.width,
            height: picture.height,
            scales: pulp::Arch::new().dispatch(Prepare(picture)),
        })
    }

    /// The picture's size.
    pub fn size(&self) -> (usize, usize) {
        (self.width, self.height)
    }

    /// The score of `candidate` against the reference.
    pub fn score(&self, candidate: &Rgb) -> Result<f64, ImageError> {
        if (self.width, self.height) != (candidate.width, candidate.height) {
            return Err(ImageError::Encode(format!(
                "the candidate is {}x{}, the input {}x{}",
                candidate.width, candidate.height, self.width, self.height
            )));
        }
        check_pixels(candidate)?;
        Ok(pulp::Arch::new().dispatch(Score(&self.scales, candidate)))
    }
}

#[cfg(test)]
mod tests;

//! Resizing: which size an image comes out at (`--long-edge`, `--width`, `--height`,
//! `--upscale`), which of libjpeg's DCT scalings gets there fastest, and the Lanczos3 filter
//! that takes the scaled picture to the exact size.
//!
//! Sizes are the picture as a viewer shows it, after its EXIF orientation; the pixels stay as
//! they are stored (the tag still turns them), so the stored picture is resized to the
//! displayed size with its axes swapped for the quarter turns.
//!
//! The filter works on gamma-encoded sRGB values, as libjpeg's DCT scaling before it does: the
//! bulk of the reduction (2 to 8 times) is done there, in the same space, so a linear-light
//! last step would not make the whole linear, and would cost a conversion each way on 16-bit
//! samples.
use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::metadata::Orientation;

use crate::jpeg::header::{self, FrameHeader};

/// The largest side a JPEG can have (libjpeg's `JPEG_MAX_DIMENSION`): the bound of each limit.
pub const MAX_SIDE: u32 = 65_500;

/// The size limits an output must fit, as a viewer shows it. Each is a number of pixels,
/// 1..=[`MAX_SIDE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Resize {
    /// The longer side at most this. Default none.
    pub long_edge: Option<u32>,
    /// The displayed width at most this. Default none.
    pub width: Option<u32>,
    /// The displayed height at most this. Default none.
    pub height: Option<u32>,
    /// Enlarge a smaller picture until one limit is met. Default false: a picture already
    /// within the limits keeps its size.
    pub upscale: bool,
}

impl Resize {
    /// Checks that each limit is a size a JPEG can have.
    pub fn validate(&self) -> Result<(), String> {
        use crate::names::{Setting, name as named};
        for (name, value) in [
            (named(Setting::LongEdge), self.long_edge),
            (named(Setting::Width), self.width),
            (named(Setting::Height), self.height),
        ] {
            if let Some(v) = value
                && !(1..=MAX_SIDE).contains(&v)
            {
                return Err(format!("{name} must be between 1 and {MAX_SIDE}, got {v}"));
            }
        }
        if self.long_edge.is_none() && self.width.is_none() && self.height.is_none() {
            return Err(format!(
                "{} needs {}, {} or {}",
                named(Setting::Upscale),
                named(Setting::LongEdge),
                named(Setting::Width),
                named(Setting::Height)
            ));
        }
        Ok(())
    }

    /// The settings as text, for the settings hash of outputs and manifests.
    pub fn describe(&self) -> String {
        let side = |v: Option<u32>| v.map_or("-".to_string(), |v| v.to_string());
        format!(
            "long_edge={};width={};height={};upscale={}",
            side(self.long_edge),
            side(self.width),
            side(self.height),
            u8::from(self.upscale)
        )
    }

    /// The size a `width` x `height` picture (as displayed) comes out at, or `None` when it
    /// keeps its size. The picture is scaled by the smallest of the ratios the limits ask for
    /// (never above 1 without `upscale`); the side that sets the ratio gets its limit exactly,
    /// the other side its length times the ratio rounded to the nearest pixel (halves up), at
    /// least 1. Rounding never passes a limit: each side's exact length is within its limits,
    /// and they are whole numbers.
    pub fn fit(&self, (width, height): (u32, u32)) -> Option<(u32, u32)> {
        if width == 0 || height == 0 {
            return None;
        }
        // The ratio as a fraction num/den: the smallest of limit/side.
        let long = width.max(height);
        let mut ratio: Option<(u64, u64)> = None;
        for (limit, side) in [
            (self.long_edge, long),
            (self.width, width),
            (self.height, height),
        ] {
            if let Some(limit) = limit {
                let candidate = (u64::from(limit), u64::from(side));
                ratio = match ratio {
                    Some((n, d)) if n * candidate.1 <= candidate.0 * d => Some((n, d)),
                    _ => Some(candidate),
                };
            }
        }
        let (num, den) = ratio?;
        if num >= den && !self.upscale {
            return None;
        }
        let scale = |side: u32| ((u64::from(side) * num * 2 + den) / (den * 2)).max(1);
        let out = (scale(width), scale(height));
        let out = (u32::try_from(out.0).ok()?, u32::try_from(out.1).ok()?);
        (out != (width, height)).then_some(out)
    }
}

/// How one image is resized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// The output's size as stored (before its orientation turns it).
    pub target: (usize, usize),
    /// libjpeg's scaling while decoding, in eighths: 8 (none), 4, 2 or 1.
    pub eighths: u8,
    /// The size libjpeg decodes to at that scaling.
    pub scaled: (usize, usize),
    /// The EXIF orientation of the input.
    pub orientation: Orientation,
}

impl Plan {
    /// The output's size as displayed (after its orientation).
    pub fn displayed(&self) -> (usize, usize) {
        if swaps_axes(self.orientation) {
            (self.target.1, self.target.0)
        } else {
            self.target
        }
    }
}

/// How the image `input` (whose frame is `frame`) is resized under `resize`; `None` when it
/// keeps its size.
pub fn plan(input: &[u8], frame: &FrameHeader, resize: &Resize) -> Option<Plan> {
    let stored = (
        u32::try_from(frame.width).ok()?,
        u32::try_from(frame.height).ok()?,
    );
    let orientation = exif_orientation(input);
    let swap = |(w, h): (u32, u32)| {
        if swaps_axes(orientation) {
            (h, w)
        } else {
            (w, h)
        }
    };
    let target = swap(resize.fit(swap(stored))?);
    let target = (target.0 as usize, target.1 as usize);
    let eighths = dct_scale((frame.width, frame.height), target);
    Some(Plan {
        target,
        eighths,
        scaled: scaled_size((frame.width, frame.height), eighths),
        orientation,
    })
}

/// The smallest of libjpeg's fast scalings (1/8, 1/4, 1/2, none: the ones its SIMD code
/// covers) whose picture is at least `target` on both sides.
pub fn dct_scale(size: (usize, usize), target: (usize, usize)) -> u8 {
    [1u8, 2, 4]
        .into_iter()
        .find(|&eighths| {
            let (w, h) = scaled_size(size, eighths);
            w >= target.0 && h >= target.1
        })
        .unwrap_or(8)
}

/// The size libjpeg decodes a `size` picture to at `eighths`/8: each side rounded up
/// (`jdiv_round_up` in `jpeg_core_output_dimensions`).
pub fn scaled_size((width, height): (usize, usize), eighths: u8) -> (usize, usize) {
    let e = usize::from(eighths);
    ((width * e).div_ceil(8), (height * e).div_ceil(8))
}

/// Resamples `src`, `size` pixels of `channels` (1, 3 or 4) bytes each, to `target` with a
/// Lanczos3 filter (SIMD where the CPU has it).
pub fn lanczos3(
    src: &[u8],
    size: (usize, usize),
    channels: usize,
    target: (usize, usize),
) -> Result<Vec<u8>, String> {
    let pixel_type = match channels {
        1 => PixelType::U8,
        3 => PixelType::U8x3,
        4 => PixelType::U8x4,
        n => return Err(format!("cannot resize pixels of {n} channels")),
    };
    let side = |v: usize| u32::try_from(v).map_err(|_| format!("{v} pixels is too large"));
    let source =
        ImageRef::new(side(size.0)?, side(size.1)?, src, pixel_type).map_err(|e| e.to_string())?;
    let mut pixels = Vec::new();
    pixels
        .try_reserve_exact(target.0 * target.1 * channels)
        .map_err(|_| "not enough memory for the resized image".to_string())?;
    pixels.resize(target.0 * target.1 * channels, 0);
    let mut resized = Image::from_vec_u8(side(target.0)?, side(target.1)?, pixels, pixel_type)
        .map_err(|e| e.to_string())?;
    // No alpha here: CMYK's fourth channel is ink, not coverage.
    let options = ResizeOptions::new()
        .resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3))
        .use_alpha(false);
    Resizer::new()
        .resize(&source, &mut resized, &options)
        .map_err(|e| e.to_string())?;
    Ok(resized.into_vec())
}

/// True for the orientations that turn the picture a quarter: width and height trade places.
pub fn swaps_axes(orientation: Orientation) -> bool {
    matches!(
        orientation,
        Orientation::Rotate90
            | Orientation::Rotate270
            | Orientation::Rotate90FlipH
            | Orientation::Rotate270FlipH
    )
}

/// The EXIF orientation of a JPEG held in memory (from its first `Exif` APP1 segment, as
/// [`crate::jpeg::pixel::exif_orientation`] reads it from libjpeg's saved markers), or
/// `NoTransforms`.
pub fn exif_orientation(input: &[u8]) -> Orientation {
    let mut pos = 2;
    while let Some((code, after)) = header::next_marker(input, pos) {
        pos = after;
        match code {
            0x01 | 0xD0..=0xD8 => continue,
            0xD9 | 0xDA => break,
            _ => {}
        }
        let Some(len) = input
            .get(pos..pos + 2)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
        else {
            break;
        };
        let Some(body) = input.get(pos + 2..pos + len.max(2)) else {
            break;
        };
        if code == 0xE1
            && let Some(chunk) = body.strip_prefix(b"Exif\0\0")
        {
            return Orientation::from_exif_chunk(chunk).unwrap_or(Orientation::NoTransforms);
        }
        pos += len.max(2);
    }
    Orientation::NoTransforms
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(long_edge: Option<u32>, width: Option<u32>, height: Option<u32>) -> Resize {
        Resize {
            long_edge,
            width,
            height,
            upscale: false,
        }
    }

    #[test]
    fn fit_keeps_the_aspect_and_meets_every_limit() {
        let r = limits(Some(2048), None, None);
        assert_eq!(r.fit((4032, 3024)), Some((2048, 1536)));
        assert_eq!(r.fit((3024, 4032)), Some((1536, 2048)));
        assert_eq!(r.fit((2048, 1000)), None, "already within");
        assert_eq!(r.fit((1000, 500)), None, "never upscaled");
        // 3000 * 1000 / 4000 = 750; 1001 * 1000 / 2001 = 500.2 -> 500; 1003 -> 501.2 -> 501.
        assert_eq!(
            limits(None, Some(1000), None).fit((4000, 3000)),
            Some((1000, 750))
        );
        assert_eq!(
            limits(None, Some(1000), None).fit((2001, 1001)),
            Some((1000, 500))
        );
        // Halves round up: 3 * 1 / 2 = 1.5 -> 2.
        assert_eq!(limits(None, Some(1), None).fit((2, 3)), Some((1, 2)));
        // At least one pixel.
        assert_eq!(limits(Some(10), None, None).fit((10_000, 3)), Some((10, 1)));
        // Several limits: the tightest one wins and the others hold.
        let r = limits(Some(1000), Some(900), Some(300));
        assert_eq!(r.fit((4000, 3000)), Some((400, 300)));
        assert_eq!(r.fit((4000, 1000)), Some((900, 225)));
        let up = Resize {
            upscale: true,
            ..limits(Some(1000), None, None)
        };
        assert_eq!(up.fit((500, 250)), Some((1000, 500)));
        assert_eq!(up.fit((1000, 250)), None, "already the size asked for");
    }

    #[test]
    fn the_smallest_dct_scaling_at_or_above_the_target() {
        assert_eq!(dct_scale((4000, 3000), (2000, 1500)), 4);
        assert_eq!(dct_scale((4000, 3000), (2001, 1500)), 8);
        assert_eq!(dct_scale((4000, 3000), (1000, 750)), 2);
        assert_eq!(dct_scale((4000, 3000), (400, 300)), 1);
        assert_eq!(dct_scale((4000, 3000), (500, 375)), 1);
        assert_eq!(dct_scale((4000, 3000), (600, 450)), 2);
        assert_eq!(dct_scale((4000, 3000), (8000, 6000)), 8);
        // Sides round up: 1001 / 8 -> 126.
        assert_eq!(scaled_size((1001, 999), 1), (126, 125));
    }

    #[test]
    fn lanczos_keeps_a_flat_picture_flat() {
        let src = vec![200u8; 40 * 30 * 3];
        let out = lanczos3(&src, (40, 30), 3, (17, 13)).expect("resize");
        assert_eq!(out.len(), 17 * 13 * 3);
        assert!(out.iter().all(|&v| v == 200));
    }
}

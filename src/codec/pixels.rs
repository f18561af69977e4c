//! Decoding to sRGB pixels (what a viewer shows), for the perceptual metric: libjpeg-turbo's
//! decoder with its default settings (accurate integer IDCT, smooth chroma upsampling), the
//! decode `djpeg` makes, optionally scaled down in the DCT domain.
use std::panic::{AssertUnwindSafe, catch_unwind};

use image::metadata::Orientation;
use mozjpeg::{ALL_MARKERS, ColorSpace, Decompress};

use super::{check_size, classify, error_manager, exif_orientation, orient, panic_message};
use crate::error::ImageError;

/// A decoded picture: `width` x `height` pixels, 3 bytes each (sRGB).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rgb {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<u8>,
}

/// Decodes `input` at `eighths`/8 of its size (8: full size, 4: half, as libjpeg scales:
/// sides rounded up), turned upright by its EXIF orientation when `upright`. Gray pictures
/// come out as three equal channels; CMYK ones are refused (`Unsupported`).
pub fn decode_rgb(input: &[u8], eighths: u8, upright: bool) -> Result<Rgb, ImageError> {
    if input.is_empty() {
        return Err(ImageError::Empty);
    }
    match catch_unwind(AssertUnwindSafe(|| {
        decode_unguarded(input, eighths, upright)
    })) {
        Ok(result) => result,
        Err(payload) => Err(classify(panic_message(payload.as_ref()))),
    }
}

fn decode_unguarded(input: &[u8], eighths: u8, upright: bool) -> Result<Rgb, ImageError> {
    let decode_err = |err: std::io::Error| ImageError::Decode(err.to_string());
    // Lenient: the encoder's own read of this input already applied the run's strictness.
    let mut decoder = Decompress::with_markers(ALL_MARKERS)
        .with_err(error_manager(false))
        .from_mem(input)
        .map_err(decode_err)?;
    let (width, height) = decoder.size();
    check_size(width, height, input.len())?;
    if matches!(
        decoder.color_space(),
        ColorSpace::JCS_CMYK | ColorSpace::JCS_YCCK
    ) {
        return Err(ImageError::Unsupported("CMYK pixels".into()));
    }
    let orientation = if upright {
        exif_orientation(decoder.markers().map(|m| (m.marker, m.data)))
    } else {
        Orientation::NoTransforms
    };
    decoder.scale(eighths.clamp(1, 8));
    let mut decoder = decoder.rgb().map_err(decode_err)?;
    let (width, height) = (decoder.width(), decoder.height());
    let mut pixels = Vec::new();
    pixels
        .try_reserve_exact(width * height * 3)
        .map_err(|_| ImageError::Unsupported("not enough memory for the picture".into()))?;
    pixels.resize(width * height * 3, 0);
    decoder
        .read_scanlines_into(&mut pixels[..])
        .map_err(decode_err)?;
    decoder.finish().map_err(decode_err)?;
    if orientation == Orientation::NoTransforms {
        return Ok(Rgb {
            width,
            height,
            pixels,
        });
    }
    let turned = orient(&pixels, width, height, 3, orientation);
    let (width, height) = if crate::resize::swaps_axes(orientation) {
        (height, width)
    } else {
        (width, height)
    };
    Ok(Rgb {
        width,
        height,
        pixels: turned,
    })
}

//! Decoding to sRGB pixels (what a viewer shows), for the perceptual metric: libjpeg-turbo's
//! decoder with its default settings (accurate integer IDCT, smooth chroma upsampling), the
//! decode `djpeg` makes.
use image::metadata::Orientation;
use mozjpeg::{ALL_MARKERS, ColorSpace, Decompress};

use super::libjpeg::{check_size, error_manager, exif_orientation, guarded, orient};
use crate::error::ImageError;

/// A decoded picture: `width` x `height` pixels, 3 bytes each (sRGB).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rgb {
    /// Width in pixels (upright, when decoded so).
    pub width: usize,
    /// Height in pixels (upright, when decoded so).
    pub height: usize,
    /// The pixels row by row from the top left, `R G B` each: `width * height * 3` bytes.
    pub pixels: Vec<u8>,
}

/// Decodes `input` at full size, turned upright by its EXIF orientation when `upright`. Gray
/// pictures come out as three equal channels; CMYK ones (YCCK included) as RGB by the usual
/// rule for the inverted ink values Adobe writes (R = C x K / 255), as the `image` crate
/// shows them.
pub fn decode_rgb(input: &[u8], upright: bool) -> Result<Rgb, ImageError> {
    guarded(input, || decode_unguarded(input, upright))
}

fn decode_unguarded(input: &[u8], upright: bool) -> Result<Rgb, ImageError> {
    let decode_err = |err: std::io::Error| ImageError::Decode(err.to_string());
    // Lenient: the encoder's own read of this input already applied the run's strictness.
    let decoder = Decompress::with_markers(ALL_MARKERS)
        .with_err(error_manager(false))
        .from_mem(input)
        .map_err(decode_err)?;
    let (width, height) = decoder.size();
    check_size(width, height, input.len())?;
    let cmyk = matches!(
        decoder.color_space(),
        ColorSpace::JCS_CMYK | ColorSpace::JCS_YCCK
    );
    let orientation = if upright {
        exif_orientation(decoder.markers().map(|m| (m.marker, m.data)))
    } else {
        Orientation::NoTransforms
    };
    let space = if cmyk {
        ColorSpace::JCS_CMYK
    } else {
        ColorSpace::JCS_RGB
    };
    let mut decoder = decoder.to_colorspace(space).map_err(decode_err)?;
    let channels = if cmyk { 4 } else { 3 };
    // Decoded into memory reserved, not zeroed first (a pass over the picture saved, for the
    // input and every candidate of a target search); rows the decoder did not give (it gives
    // all, filling what a damaged file lacks) would be zeros.
    let mut pixels = decoder.read_scanlines::<u8>().map_err(|err| {
        if err.kind() == std::io::ErrorKind::OutOfMemory {
            ImageError::Unsupported("not enough memory for the picture".into())
        } else {
            decode_err(err)
        }
    })?;
    pixels.resize(width * height * channels, 0);
    if cmyk {
        let ink = |v: u8, k: u8| ((u16::from(v) * u16::from(k) + 127) / 255) as u8;
        for i in 0..width * height {
            let p = &pixels[i * 4..i * 4 + 4];
            let rgb = [ink(p[0], p[3]), ink(p[1], p[3]), ink(p[2], p[3])];
            pixels[i * 3..i * 3 + 3].copy_from_slice(&rgb);
        }
        pixels.truncate(width * height * 3);
    }
    decoder.finish().map_err(decode_err)?;
    if orientation == Orientation::NoTransforms {
        return Ok(Rgb {
            width,
            height,
            pixels,
        });
    }
    let turned = orient(&pixels, width, height, 3, orientation);
    let (width, height) = if crate::jpeg::resize::swaps_axes(orientation) {
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

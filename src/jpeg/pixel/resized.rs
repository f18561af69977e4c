//! The resizing path: libjpeg decodes at the smallest of its DCT scalings at or above the
//! target (the inverse DCT of a 4x4, 2x2 or 1x1 corner of each block: a fraction of the full
//! decode's work), a Lanczos3 filter takes that picture to the exact size, and the encoder
//! writes it as the pixel path does (4:2:0 for colour).

use image::metadata::Orientation;

use super::libjpeg::{orient, start_encoder};
use crate::error::ImageError;
use crate::jpeg::resize::{self, Plan};

use super::settings::EncodeSettings;

/// Re-encodes a JPEG at the size `plan` says. Returns the new file's bytes. With the metadata
/// kept, the pixels stay as stored and the EXIF tag still turns them; without it (`strip`),
/// the orientation is applied to the pixels.
pub fn recompress_resized(
    input: &[u8],
    settings: &EncodeSettings,
    plan: &Plan,
) -> Result<Vec<u8>, ImageError> {
    super::libjpeg::guarded(input, || resized_unguarded(input, settings, plan))
}

fn resized_unguarded(
    input: &[u8],
    settings: &EncodeSettings,
    plan: &Plan,
) -> Result<Vec<u8>, ImageError> {
    let decode_err = |err: std::io::Error| ImageError::Decode(err.to_string());
    let super::libjpeg::Opened {
        mut decoder,
        pixel_space,
        components,
        kept,
    } = super::libjpeg::open(input, settings)?;
    decoder.scale(plan.eighths);
    let mut decoder = decoder.to_colorspace(pixel_space).map_err(decode_err)?;
    let scaled = (decoder.width(), decoder.height());
    let pixels: Vec<u8> = decoder.read_scanlines().map_err(decode_err)?;
    if pixels.len() != scaled.0 * scaled.1 * components {
        return Err(ImageError::Decode("the image data ended early".into()));
    }
    decoder.finish().map_err(decode_err)?;

    let resized = if scaled == plan.target {
        pixels
    } else {
        let resized = resize::lanczos3(&pixels, scaled, components, plan.target)
            .map_err(ImageError::Encode)?;
        drop(pixels);
        resized
    };
    // Without the EXIF segment a viewer cannot know the photo's orientation, so it is applied
    // to the pixels instead.
    let (upright, size) = if settings.keep_metadata || plan.orientation == Orientation::NoTransforms
    {
        (resized, plan.target)
    } else {
        let (w, h) = plan.target;
        (
            orient(&resized, w, h, components, plan.orientation),
            plan.displayed(),
        )
    };
    let mut encoder = start_encoder(pixel_space, size, settings, &kept, false)?;
    let encode_err = |err: std::io::Error| ImageError::Encode(err.to_string());
    encoder.write_scanlines(&upright).map_err(encode_err)?;
    encoder.finish().map_err(encode_err)
}

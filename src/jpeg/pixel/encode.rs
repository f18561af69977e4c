//! Re-encoding through pixels: the planes straight from decoder to encoder for YCbCr 4:2:0
//! in and out, else pixels streamed in bands of rows.

use image::metadata::Orientation;
use mozjpeg::{ColorSpace, Decompress};

use crate::error::ImageError;
use crate::jpeg::resize::swaps_axes;

use super::libjpeg::*;
use super::settings::EncodeSettings;

/// Rows decoded and encoded at a time when streaming.
pub(super) const BAND_ROWS: usize = 32;

/// Re-encodes a JPEG. Returns the new file's bytes.
pub fn recompress(input: &[u8], settings: &EncodeSettings) -> Result<Vec<u8>, ImageError> {
    guarded(input, || recompress_unguarded(input, settings))
}

pub(super) fn recompress_unguarded(
    input: &[u8],
    settings: &EncodeSettings,
) -> Result<Vec<u8>, ImageError> {
    let Opened {
        decoder,
        pixel_space,
        components,
        kept,
    } = open(input, settings)?;
    let (width, height) = decoder.size();
    // Without the EXIF segment a viewer cannot know the photo's orientation, so it is applied
    // to the pixels instead.
    let orientation = if settings.keep_metadata {
        Orientation::NoTransforms
    } else {
        exif_orientation(decoder.markers().map(|m| (m.marker, m.data)))
    };

    if orientation == Orientation::NoTransforms && is_ycbcr_420(&decoder) {
        return recompress_planes(decoder, (width, height), settings, &kept);
    }

    let mut decoder = decoder
        .to_colorspace(pixel_space)
        .map_err(|err| ImageError::Decode(err.to_string()))?;
    let row_bytes = width * components;
    let out_size = if swaps_axes(orientation) {
        (height, width)
    } else {
        (width, height)
    };
    let mut encoder = start_encoder(pixel_space, out_size, settings, &kept, false)?;

    let decode_err = |err: std::io::Error| ImageError::Decode(err.to_string());
    let encode_err = |err: std::io::Error| ImageError::Encode(err.to_string());
    if orientation == Orientation::NoTransforms {
        let mut band = vec![0u8; row_bytes * BAND_ROWS.min(height)];
        let mut rows_left = height;
        while rows_left > 0 {
            let rows = rows_left.min(BAND_ROWS);
            let band = &mut band[..rows * row_bytes];
            decoder.read_scanlines_into(band).map_err(decode_err)?;
            encoder.write_scanlines(band).map_err(encode_err)?;
            rows_left -= rows;
        }
    } else {
        let pixels: Vec<u8> = decoder.read_scanlines().map_err(decode_err)?;
        if pixels.len() != row_bytes * height {
            return Err(ImageError::Decode("the image data ended early".into()));
        }
        let upright = orient(&pixels, width, height, components, orientation);
        encoder.write_scanlines(&upright).map_err(encode_err)?;
    }
    decoder.finish().map_err(decode_err)?;
    encoder.finish().map_err(encode_err)
}

/// True for a YCbCr JPEG with 4:2:0 chroma: the output's own layout.
pub(super) fn is_ycbcr_420<R>(decoder: &Decompress<R>) -> bool {
    let factors = decoder.components().iter().map(|c| {
        let factor = |f: i32| usize::try_from(f).unwrap_or(0);
        (factor(c.h_samp_factor), factor(c.v_samp_factor))
    });
    decoder.color_space() == ColorSpace::JCS_YCbCr && crate::jpeg::header::is_420(factors)
}

/// The 4:2:0 path: Y, Cb and Cr planes straight from the decoder to the encoder.
pub(super) fn recompress_planes<R>(
    decoder: Decompress<R>,
    (width, height): (usize, usize),
    settings: &EncodeSettings,
    kept: &Kept,
) -> Result<Vec<u8>, ImageError> {
    // Whole rows of MCUs (16 luma lines) are decoded at a time; reserve it all up front.
    let mcu_rows = height.div_ceil(16);
    let strides: Vec<usize> = decoder
        .components()
        .iter()
        .map(|c| c.width_in_blocks as usize * 8)
        .collect();
    let mut planes: [Vec<u8>; 3] = Default::default();
    for (i, plane) in planes.iter_mut().enumerate() {
        let rows = mcu_rows * if i == 0 { 16 } else { 8 };
        plane
            .try_reserve_exact(strides[i] * rows)
            .map_err(|_| ImageError::Unsupported("not enough memory for the image".into()))?;
    }
    let mut decoder = decoder
        .raw()
        .map_err(|err| ImageError::Decode(err.to_string()))?;
    {
        let [y, cb, cr] = &mut planes;
        decoder.read_raw_data(&mut [y, cb, cr]);
    }
    decoder
        .finish()
        .map_err(|err| ImageError::Decode(err.to_string()))?;

    let mut encoder = start_encoder(ColorSpace::JCS_YCbCr, (width, height), settings, kept, true)?;
    if !encoder.write_raw_data(&[&planes[0], &planes[1], &planes[2]]) {
        return Err(ImageError::Encode(
            "the encoder took fewer lines than the image has".into(),
        ));
    }
    encoder
        .finish()
        .map_err(|err| ImageError::Encode(err.to_string()))
}

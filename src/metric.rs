//! The perceptual score of a candidate output against its input (`--target-quality`):
//! SSIMULACRA 2, through the `ssimulacra2` crate (BSD-2, rust-av's port of Cloudinary's
//! metric). Pictures are decoded by the `image` crate's decoder (zune-jpeg: pure Rust, not the
//! codec that made the candidate), as viewers show them before orientation.
use image::ImageDecoder;
use image::metadata::Orientation;
use ssimulacra2::{LinearRgb, compute_frame_ssimulacra2};

use crate::error::ImageError;

/// Smallest side the metric accepts.
const MIN_SIDE: usize = 8;

/// Bytes of working memory the metric needs per pixel, beyond the pictures themselves: the
/// crate's planes (linear RGB and XYB of both pictures, products, five blurred planes) at
/// 4 bytes a sample. Measured peak: see the README's target section.
pub const BYTES_PER_PIXEL: u64 = 160;

/// The input, decoded once and converted to linear light, that each candidate is scored
/// against.
pub struct Reference {
    linear: LinearRgb,
    width: usize,
    height: usize,
}

impl Reference {
    /// Decodes `jpeg`, turned upright by its EXIF orientation when `upright` (the pixel
    /// path's `--strip` turns rotated photos upright, so those candidates are upright).
    pub fn new(jpeg: &[u8], upright: bool) -> Result<Self, ImageError> {
        let decode_err = |err: image::ImageError| ImageError::Decode(err.to_string());
        let mut decoder = image::codecs::jpeg::JpegDecoder::new(std::io::Cursor::new(jpeg))
            .map_err(decode_err)?;
        let orientation = if upright {
            decoder.orientation().map_err(decode_err)?
        } else {
            Orientation::NoTransforms
        };
        let mut picture = image::DynamicImage::from_decoder(decoder).map_err(decode_err)?;
        picture.apply_orientation(orientation);
        let (width, height) = (picture.width() as usize, picture.height() as usize);
        if width < MIN_SIDE || height < MIN_SIDE {
            return Err(ImageError::Unsupported(format!(
                "{width}x{height} is too small for --target-quality (SSIMULACRA 2 needs 8x8 pixels)"
            )));
        }
        Ok(Reference {
            linear: linear(&picture.to_rgb8(), width, height)?,
            width,
            height,
        })
    }

    /// The SSIMULACRA 2 score of the JPEG `candidate` against the reference: 100 identical.
    pub fn score(&self, candidate: &[u8]) -> Result<f64, ImageError> {
        let picture = decode(candidate)?;
        let (width, height) = (picture.width() as usize, picture.height() as usize);
        if (width, height) != (self.width, self.height) {
            return Err(ImageError::Encode(format!(
                "the candidate is {width}x{height}, the input {}x{}",
                self.width, self.height
            )));
        }
        let candidate = linear(&picture.to_rgb8(), width, height)?;
        compute_frame_ssimulacra2(self.linear.clone(), candidate)
            .map_err(|err| ImageError::Encode(format!("SSIMULACRA 2: {err}")))
    }
}

fn decode(jpeg: &[u8]) -> Result<image::DynamicImage, ImageError> {
    image::load_from_memory_with_format(jpeg, image::ImageFormat::Jpeg)
        .map_err(|err| ImageError::Decode(err.to_string()))
}

/// sRGB bytes to linear-light floats (the sRGB transfer function, by table).
fn linear(rgb: &image::RgbImage, width: usize, height: usize) -> Result<LinearRgb, ImageError> {
    let table: Vec<f32> = (0..=255u8)
        .map(|v| {
            let c = f32::from(v) / 255.0;
            if c <= 0.04045 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        })
        .collect();
    let mut data = Vec::new();
    data.try_reserve_exact(width * height)
        .map_err(|_| ImageError::Unsupported("not enough memory for the image".into()))?;
    data.extend(rgb.pixels().map(|p| {
        [
            table[usize::from(p[0])],
            table[usize::from(p[1])],
            table[usize::from(p[2])],
        ]
    }));
    LinearRgb::new(data, width, height)
        .map_err(|err| ImageError::Encode(format!("SSIMULACRA 2: {err:?}")))
}

//! The JPEG codec: decode one JPEG held in memory and encode it again, through mozjpeg
//! (libjpeg-turbo's SIMD code). This is the only module that talks to the C library.
//!
//! Two paths:
//! - YCbCr 4:2:0 in, 4:2:0 out (most camera photos): the planes go from decoder to encoder as
//!   they are (libjpeg's raw-data interface), skipping the colour conversion and chroma
//!   resampling both ways, which are a third of the work and would only blur the chroma again.
//! - anything else: pixels stream through in bands of rows, decoded and encoded back to back
//!   while they are in cache; `--strip` on a rotated photo needs the whole picture (to turn it
//!   upright).
//!
//! And a third for resizing ([`recompress_resized`], in `codec/resized.rs`).
//!
//! libjpeg reports fatal errors by unwinding; every call into it runs under `catch_unwind`,
//! and the unwind becomes that file's error.
mod encode;
mod libjpeg;
mod resized;
mod rgb;
mod settings;

pub use encode::recompress;
pub use libjpeg::{BOMB_MIN_PIXELS, BOMB_PIXELS_PER_BYTE, MAX_PIXELS, exif_orientation, orient};
pub(crate) use libjpeg::{check_size, keep_marker};
pub use resized::recompress_resized;
pub use rgb::{Rgb, decode_rgb};
pub use settings::{BASELINE_QUALITY, EncodeSettings};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ImageError;
    use image::metadata::Orientation;

    #[test]
    fn orient_matches_image_crate() {
        let (w, h) = (5usize, 3usize);
        let src: Vec<u8> = (0..(w * h * 3) as u32).map(|v| (v % 251) as u8).collect();
        for exif in 1..=8u8 {
            let orientation = Orientation::from_exif(exif).expect("valid orientation");
            let mut expected = image::DynamicImage::ImageRgb8(
                image::RgbImage::from_raw(w as u32, h as u32, src.clone()).expect("buffer fits"),
            );
            expected.apply_orientation(orientation);
            let ours = orient(&src, w, h, 3, orientation);
            assert_eq!(ours, expected.to_rgb8().into_raw(), "orientation {exif}");
        }
    }

    #[test]
    fn garbage_is_a_decode_error_not_a_panic() {
        let err = recompress(b"definitely not a jpeg", &EncodeSettings::default());
        assert!(
            matches!(err, Err(ImageError::Decode(ref m)) if m.contains("Not a JPEG")),
            "{err:?}"
        );
        assert!(matches!(
            recompress(b"", &EncodeSettings::default()),
            Err(ImageError::Empty)
        ));
    }
}

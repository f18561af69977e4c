//! libjpeg's plumbing, shared by every pixel-path call: the guard that turns its unwinds into
//! the file's error, the error manager and its messages, opening a decoder with the size
//! checks, starting an encoder with the kept segments, and EXIF orientation. One of the two
//! library modules allowed `unsafe` (the C library's error manager); each block says why it
//! is sound.
#![allow(unsafe_code)]
use std::os::raw::c_int;
use std::panic::{AssertUnwindSafe, catch_unwind};

use image::metadata::Orientation;
use mozjpeg::compress::CompressStarted;
use mozjpeg::{ALL_MARKERS, ColorSpace, Compress, Decompress, Marker};
use mozjpeg_sys as ffi;

use crate::error::ImageError;
use crate::jpeg::resize::swaps_axes;

use super::settings::{BASELINE_QUALITY, EncodeSettings};

/// Largest image accepted, in pixels (libjpeg's own limit is 65500 on a side): its working
/// memory is a few bytes a pixel.
pub const MAX_PIXELS: u64 = 400_000_000;

/// Above this many pixels, an image must not declare more than [`BOMB_PIXELS_PER_BYTE`]
/// pixels per byte of file.
pub const BOMB_MIN_PIXELS: u64 = 16_000_000;

/// See [`BOMB_MIN_PIXELS`].
pub const BOMB_PIXELS_PER_BYTE: u64 = 2_000;

/// Runs `work` on `input` (refused when empty) with libjpeg's unwinding fatal errors turned
/// into that file's error: the one entry of every codec call.
pub(super) fn guarded<T>(
    input: &[u8],
    work: impl FnOnce() -> Result<T, ImageError>,
) -> Result<T, ImageError> {
    if input.is_empty() {
        return Err(ImageError::Empty);
    }
    match catch_unwind(AssertUnwindSafe(work)) {
        Ok(result) => result,
        Err(payload) => Err(classify(panic_message(payload.as_ref()))),
    }
}

/// An input opened for decoding: the decoder (header read), the colour space its pixels are
/// read in and how many bytes a pixel has, and what the output keeps of it.
pub(super) struct Opened<'a> {
    pub(super) decoder: Decompress<&'a [u8]>,
    pub(super) pixel_space: ColorSpace,
    pub(super) components: usize,
    pub(super) kept: Kept,
}

/// Opens `input`: its header read and checked (a size photopress takes, a colour space it
/// writes back), the segments to keep gathered. The one opening of both pixel paths.
pub(super) fn open<'a>(
    input: &'a [u8],
    settings: &EncodeSettings,
) -> Result<Opened<'a>, ImageError> {
    let mut decoder = Decompress::with_markers(ALL_MARKERS)
        .with_err(error_manager(settings.strict))
        .from_mem(input)
        .map_err(|err| ImageError::Decode(err.to_string()))?;
    let (width, height) = decoder.size();
    if width == 0 || height == 0 {
        return Err(ImageError::Decode("the image has no pixels".into()));
    }
    check_size(width, height, input.len())?;
    let (pixel_space, components) = match decoder.color_space() {
        ColorSpace::JCS_GRAYSCALE => (ColorSpace::JCS_GRAYSCALE, 1),
        ColorSpace::JCS_YCbCr | ColorSpace::JCS_RGB => (ColorSpace::JCS_RGB, 3),
        ColorSpace::JCS_CMYK | ColorSpace::JCS_YCCK => (ColorSpace::JCS_CMYK, 4),
        other => {
            return Err(ImageError::Unsupported(format!(
                "colour space {other:?} with {} components",
                decoder.components().len()
            )));
        }
    };
    let kept = Kept {
        markers: decoder
            .markers()
            .filter(|m| keep_marker(m.marker, m.data, settings))
            .map(|m| (m.marker, m.data.to_vec()))
            .collect(),
        density: decoder.pixel_density(),
        capacity: input.len() / 2,
    };
    Ok(Opened {
        decoder,
        pixel_space,
        components,
        kept,
    })
}

/// Refuses sizes photopress does not take: more than [`MAX_PIXELS`], or a decompression bomb.
pub(crate) fn check_size(width: usize, height: usize, file_len: usize) -> Result<(), ImageError> {
    let pixels = (width as u64) * (height as u64);
    // A few hundred bytes can declare hundreds of megapixels (flat blocks cost almost nothing in
    // arithmetic or progressive coding) and cost gigabytes to decode. No photograph comes near
    // this ratio: even a flat Huffman-coded picture needs about a byte per 100 pixels.
    if pixels > BOMB_MIN_PIXELS && pixels > BOMB_PIXELS_PER_BYTE * file_len as u64 {
        return Err(ImageError::Unsupported(format!(
            "declares {width}x{height} pixels in only {file_len} bytes (a decompression bomb?)"
        )));
    }
    if pixels > MAX_PIXELS {
        return Err(ImageError::Unsupported(format!(
            "{width}x{height} is more than the {MAX_PIXELS} pixels photopress accepts"
        )));
    }
    Ok(())
}

/// What the output keeps of the input (its segments and pixel density), and a size hint.
pub(super) struct Kept {
    markers: Vec<(Marker, Vec<u8>)>,
    density: Option<mozjpeg::PixelDensity>,
    capacity: usize,
}

/// The encoder for `input_space` samples (RGB, YCbCr planes when `raw`, gray or CMYK) of a
/// `size` picture, started, with the kept segments written: the one place the output format
/// is decided.
pub(super) fn start_encoder(
    input_space: ColorSpace,
    (width, height): (usize, usize),
    settings: &EncodeSettings,
    kept: &Kept,
    raw: bool,
) -> Result<CompressStarted<Vec<u8>>, ImageError> {
    let mut encoder = Compress::new(input_space);
    if !settings.best {
        encoder.set_fastest_defaults();
    }
    if input_space == ColorSpace::JCS_CMYK {
        // Y/Cb/Cr/K compresses CMYK far better than plain CMYK; libjpeg writes the Adobe
        // segment that says so, and keeps Adobe's inverted-CMYK convention as decoded.
        encoder.set_color_space(ColorSpace::JCS_YCCK);
    }
    encoder.set_size(width, height);
    encoder.set_quality(f32::from(settings.quality));
    if !settings.extended {
        // jpeg_set_quality(force_baseline = FALSE) lets tables pass 255 (below quality 24 with
        // libjpeg's tables; at every quality with mozjpeg's --best tables): the same tables
        // clamped to 8 bits instead (the transcoder's `quant::baseline_tables` are these).
        let q = f32::from(settings.quality);
        if settings.best {
            encoder.set_luma_qtable(&mozjpeg::qtable::NRobidoux.scaled(q, q));
            encoder.set_chroma_qtable(&mozjpeg::qtable::NRobidoux.scaled(q, q));
        } else if settings.quality < BASELINE_QUALITY {
            encoder.set_luma_qtable(&mozjpeg::qtable::AnnexK_Luma.scaled(q, q));
            encoder.set_chroma_qtable(&mozjpeg::qtable::AnnexK_Chroma.scaled(q, q));
        }
    }
    if settings.progressive && !settings.best {
        // libjpeg's standard script (jpeg_simple_progression); --best's defaults already are
        // progressive, with mozjpeg's scan optimization.
        encoder.set_progressive_mode();
    }
    encoder.set_optimize_coding(true);
    if matches!(input_space, ColorSpace::JCS_RGB | ColorSpace::JCS_YCbCr) {
        encoder.set_chroma_sampling_pixel_sizes((2, 2), (2, 2));
    }
    encoder.set_raw_data_in(raw);
    if let Some(density) = &kept.density {
        encoder.set_pixel_density(mozjpeg::PixelDensity { ..*density });
    }
    let mut encoder = encoder
        .start_compress(Vec::with_capacity(kept.capacity))
        .map_err(|err| ImageError::Encode(err.to_string()))?;
    for (marker, data) in &kept.markers {
        encoder.write_marker(*marker, data);
    }
    encoder.write_marker(
        Marker::COM,
        &crate::jpeg::marker::marker(settings.quality, settings.settings_id),
    );
    Ok(encoder)
}

/// Which segments of the input go into the output.
pub(crate) fn keep_marker(marker: Marker, data: &[u8], settings: &EncodeSettings) -> bool {
    match marker {
        // JFIF and Adobe segments are written by the encoder itself, to match what it wrote.
        Marker::APP(0) | Marker::APP(14) => false,
        Marker::APP(2) if data.starts_with(b"ICC_PROFILE\0") => settings.keep_icc,
        // A multi-picture index points at images after the end of the file, which are not
        // copied: keeping it would leave it pointing at nothing.
        Marker::APP(2) if data.starts_with(b"MPF\0") => false,
        // An input's provenance marker: the output gets its own.
        Marker::COM if crate::jpeg::marker::is_marker(data) => false,
        _ => settings.keep_metadata,
    }
}

/// The EXIF orientation among the segments, or `NoTransforms`.
pub fn exif_orientation<'a>(markers: impl Iterator<Item = (Marker, &'a [u8])>) -> Orientation {
    markers
        .filter(|(marker, _)| *marker == Marker::APP(1))
        .find_map(|(_, data)| data.strip_prefix(b"Exif\0\0"))
        .and_then(Orientation::from_exif_chunk)
        .unwrap_or(Orientation::NoTransforms)
}

/// Turns `width` x `height` pixels of `channels` bytes each by `orientation` (EXIF semantics:
/// the result is what a viewer shows).
pub fn orient(
    src: &[u8],
    width: usize,
    height: usize,
    channels: usize,
    orientation: Orientation,
) -> Vec<u8> {
    let swapped = swaps_axes(orientation);
    let out_width = if swapped { height } else { width };
    let out_height = if swapped { width } else { height };
    let mut out = vec![0u8; src.len()];
    for y in 0..out_height {
        for x in 0..out_width {
            // The source pixel that lands at (x, y).
            let (sx, sy) = match orientation {
                Orientation::NoTransforms => (x, y),
                Orientation::FlipHorizontal => (width - 1 - x, y),
                Orientation::Rotate180 => (width - 1 - x, height - 1 - y),
                Orientation::FlipVertical => (x, height - 1 - y),
                Orientation::Rotate90 => (y, height - 1 - x),
                Orientation::Rotate270 => (width - 1 - y, x),
                Orientation::Rotate90FlipH => (y, x),
                Orientation::Rotate270FlipH => (width - 1 - y, height - 1 - x),
            };
            let s = (sy * width + sx) * channels;
            let d = (y * out_width + x) * channels;
            out[d..d + channels].copy_from_slice(&src[s..s + channels]);
        }
    }
    out
}

/// libjpeg's messages become errors; names the unsupported from the broken.
pub(super) fn classify(message: String) -> ImageError {
    let message = message
        .strip_prefix("libjpeg fatal error: ")
        .unwrap_or(&message)
        .to_string();
    let lower = message.to_ascii_lowercase();
    if lower.contains("unsupported")
        || lower.contains("not supported")
        || lower.starts_with("sorry")
    {
        ImageError::Unsupported(message)
    } else {
        ImageError::Decode(message)
    }
}

pub(super) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else if let Some(message) = payload.downcast_ref::<&str>() {
        (*message).to_string()
    } else {
        "the JPEG codec failed".to_string()
    }
}

/// An error manager that unwinds on fatal errors, as mozjpeg's own does, and, when `strict`,
/// also on the warnings that mean the compressed data is cut short or corrupt (libjpeg would
/// otherwise fill the rest of the picture with grey and carry on).
pub(super) fn error_manager(strict: bool) -> ffi::jpeg_error_mgr {
    // SAFETY: jpeg_error_mgr is a plain C struct for which all-zero is a valid value (null
    // pointers, no callbacks); jpeg_std_error fills in the standard callbacks and tables.
    let mut err: ffi::jpeg_error_mgr = unsafe { std::mem::zeroed() };
    // SAFETY: `err` is a valid, exclusively borrowed error manager (see above).
    unsafe { ffi::jpeg_std_error(&mut err) };
    err.error_exit = Some(unwind_on_error);
    err.emit_message = Some(if strict {
        strict_messages
    } else {
        count_messages
    });
    err
}

/// Warnings that mean the picture would be incomplete or wrong: data cut short, a marker in
/// the middle of the data, a restart marker out of place, a bad Huffman code, scan parameters
/// that contradict a sequential frame, an inconsistent progression. (Extraneous bytes count
/// too, but only past the header: see [`is_corrupt`].)
pub(super) const CORRUPT_DATA: [c_int; 6] = [
    ffi::JWRN_JPEG_EOF,
    ffi::JWRN_HIT_MARKER,
    ffi::JWRN_MUST_RESYNC,
    ffi::JWRN_HUFF_BAD_CODE,
    ffi::JWRN_NOT_SEQUENTIAL,
    ffi::JWRN_BOGUS_PROGRESSION,
];

/// libjpeg's state while it reads the header (`DSTATE_INHEADER` in jpegint.h).
const READING_HEADER: c_int = 201;

/// Whether warning `code` means corrupt data. Stray bytes before a marker are benign between
/// the header's segments (libjpeg skips them, and so does every viewer) and corrupt once the
/// scans began (inside or between entropy-coded segments).
fn is_corrupt(cinfo: &ffi::jpeg_common_struct, code: c_int) -> bool {
    CORRUPT_DATA.contains(&code)
        || (code == ffi::JWRN_EXTRANEOUS_DATA && cinfo.global_state != READING_HEADER)
}

unsafe extern "C-unwind" fn unwind_on_error(cinfo: &mut ffi::jpeg_common_struct) {
    let message = format_message(cinfo);
    std::panic::resume_unwind(Box::new(message));
}

unsafe extern "C-unwind" fn strict_messages(cinfo: &mut ffi::jpeg_common_struct, level: c_int) {
    if level < 0 {
        // SAFETY: libjpeg calls this with its error manager installed.
        let code = unsafe { cinfo.err.as_ref() }.map_or(0, |err| err.msg_code);
        if is_corrupt(cinfo, code) {
            let message = format_message(cinfo);
            std::panic::resume_unwind(Box::new(message));
        }
    }
    // SAFETY: the same call libjpeg made, passed on with the same arguments.
    unsafe { count_messages(cinfo, level) }
}

unsafe extern "C-unwind" fn count_messages(cinfo: &mut ffi::jpeg_common_struct, level: c_int) {
    if level < 0 {
        // SAFETY: as above; the error manager outlives the codec object.
        let code = match unsafe { cinfo.err.as_mut() } {
            Some(err) => {
                err.num_warnings += 1;
                err.msg_code
            }
            None => 0,
        };
        if is_corrupt(cinfo, code) {
            crate::jpeg::corruption::note(format_message(cinfo));
        }
    }
}

pub(super) fn format_message(cinfo: &mut ffi::jpeg_common_struct) -> String {
    let mut buffer = [0u8; 80];
    // SAFETY: libjpeg's format_message writes at most 80 bytes (JMSG_LENGTH_MAX), NUL-terminated,
    // into the buffer it is given; the binding declares the buffer shared, but it is written.
    let formatter = unsafe { cinfo.err.as_ref() }.and_then(|err| err.format_message);
    if let Some(formatter) = formatter {
        // SAFETY: the same function pointer with its buffer argument declared mutable: the
        // C function's real signature (`char *buffer`), which the binding declares as shared.
        let formatter: unsafe extern "C-unwind" fn(&mut ffi::jpeg_common_struct, &mut [u8; 80]) =
            unsafe { std::mem::transmute(formatter) };
        // SAFETY: the buffer is JMSG_LENGTH_MAX (80) bytes, as libjpeg requires.
        unsafe { formatter(cinfo, &mut buffer) };
    }
    let text = buffer.split(|&b| b == 0).next().unwrap_or_default();
    let text = String::from_utf8_lossy(text).into_owned();
    if text.is_empty() {
        "the JPEG codec failed".to_string()
    } else {
        text
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use std::os::raw::c_int;

    unsafe extern "C" {
        /// libjpeg-turbo's own query (jsimd.c): 1 when its SIMD inverse DCT is built in and
        /// the processor runs it, 0 when the library was built without SIMD (`jsimd_none.c`).
        fn jsimd_can_idct_islow() -> c_int;
    }

    /// build.rs refuses a codec whose `jconfig.h` lacks `WITH_SIMD` (one built before nasm
    /// was installed stays in the target folder, and decodes about 2.7x slower); this asks the
    /// library linked into the tests itself, which the header only implies.
    #[test]
    fn the_codec_is_built_with_its_simd() {
        if std::env::var_os("PHOTOPRESS_ALLOW_NO_SIMD").is_some_and(|v| v == "1") {
            return;
        }
        // SAFETY: a query without arguments; it reads the processor's features once.
        let simd = unsafe { jsimd_can_idct_islow() };
        assert_eq!(
            simd, 1,
            "libjpeg-turbo was built without its SIMD: install nasm, then `cargo clean -p mozjpeg-sys`"
        );
    }
}

//! Fuzzes the DCT-domain transcoder: `jpeg::dct::recompress` must return `Ok` or `Err` for
//! every input, never panic, hang or abort (it is safe Rust with no `catch_unwind`, so any
//! panic is a bug). When it returns `Ok`, the output must be a JPEG that the `image` crate
//! (zune-jpeg, an independent decoder) decodes, with the width and height that libjpeg reads
//! from the input's header (compared only when that header parses; swapped too where `--strip`
//! turns a rotated photo upright). zune-jpeg is lenient, so the output's frame header is also
//! checked against the rule libjpeg enforces (and zune-jpeg does not): at most 10 blocks in an
//! interleaved scan's MCU. An output with a horizontal sampling factor of 3, which zune-jpeg
//! cannot decode, gets only that check.
//!
//! Input layout: byte 0 picks the settings (quality 1 + byte % 100; bit 7 keep_metadata,
//! bit 6 keep_icc, bit 5 strict, bit 4 any_subsampling), the rest is the JPEG. The bits are
//! those of the `recompress` target, `best` replaced by `any_subsampling`, so either target's
//! corpus seeds the other. The output modes come from the selector's low bits too, so that
//! every seed also reaches them: quality % 3 == 1 writes progressive scans, quality % 5 == 2
//! keeps the coefficients (`lossless`), quality % 7 == 3 is `best` (trellis quantization).
#![no_main]

use std::io::Cursor;

use image::codecs::jpeg::JpegDecoder;
use image::{DynamicImage, ImageDecoder};
use libfuzzer_sys::fuzz_target;
use photopress::jpeg::pixel::EncodeSettings;
use photopress::jpeg::dct::recompress;

/// Larger inputs are skipped: they only slow the fuzzer down.
const MAX_INPUT: usize = 256 * 1024;

/// Outputs up to this many pixels are decoded whole by the `image` crate; larger ones (a small
/// input may declare up to `codec::MAX_PIXELS`, 400 MP) only have their header read, so that
/// the check does not need gigabytes of its own.
const MAX_CHECKED_PIXELS: u64 = 16_000_000;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, jpeg)) = data.split_first() else {
        return;
    };
    if jpeg.len() > MAX_INPUT {
        return;
    }
    #[allow(clippy::needless_update)]
    let settings = EncodeSettings {
        quality: 1 + selector % 100,
        keep_metadata: selector & 0x80 != 0,
        keep_icc: selector & 0x40 != 0,
        strict: selector & 0x20 != 0,
        progressive: (1 + selector % 100) % 3 == 1,
        lossless: (1 + selector % 100) % 5 == 2,
        best: (1 + selector % 100) % 7 == 3,
        // Any setting added later keeps its default.
        ..EncodeSettings::default()
    };
    let any_subsampling = selector & 0x10 != 0;
    let Ok(output) = recompress(jpeg, &settings, any_subsampling) else {
        return;
    };
    assert!(
        output.starts_with(&[0xFF, 0xD8]) && output.ends_with(&[0xFF, 0xD9]),
        "transcode::recompress returned {} bytes that are not a JPEG",
        output.len()
    );
    let factors = check_frame(&output);
    // zune-jpeg refuses a horizontal sampling factor of 3 ("Horizontal sample is not a power of
    // two(3) cannot decode"), which JPEG allows and libjpeg decodes.
    if factors.iter().any(|&(h, _)| h == 3) {
        return;
    }
    let decoder = match JpegDecoder::new(Cursor::new(output.as_slice())) {
        Ok(decoder) => decoder,
        Err(err) => panic!(
            "the image crate cannot read the header of the {}-byte output: {err}",
            output.len()
        ),
    };
    let (width, height) = decoder.dimensions();
    // The input's size as libjpeg reads its header (the pixel path's reader, and the reference
    // for malformed headers: zune-jpeg reads some of those differently, e.g. a TEM marker
    // followed by bytes it takes for a length). libjpeg's errors unwind (as the pixel path
    // catches them); a header it refuses is one the transcoder must refuse too.
    let header = std::panic::catch_unwind(|| mozjpeg::Decompress::new_mem(jpeg).map(|d| d.size()));
    // Under --strip (not lossless) a photo with an EXIF orientation is turned upright: a
    // quarter turn swaps the sides.
    let turns = !settings.keep_metadata && !settings.lossless;
    match header {
        Ok(Ok((w, h))) => assert!(
            (width, height) == (w as u32, h as u32)
                || (turns && (width, height) == (h as u32, w as u32)),
            "output size {width}x{height} differs from the input header's size as libjpeg reads \
             it ({w}x{h})"
        ),
        Ok(Err(_)) => {}
        Err(_) => panic!("the transcoder took an input whose header libjpeg refuses"),
    }
    if u64::from(width) * u64::from(height) <= MAX_CHECKED_PIXELS
        && let Err(err) = DynamicImage::from_decoder(decoder)
    {
        panic!(
            "the image crate cannot decode the {}-byte {width}x{height} output: {err}",
            output.len()
        );
    }
});

/// Checks the sampling factors of the output's frame header (JPEG B.2.2, B.2.3): each 1..=4 and,
/// since the output is one interleaved scan, at most 10 blocks an MCU (libjpeg refuses more:
/// "Sampling factors too large for interleaved scan"). Returns the factors, (h, v) per
/// component.
fn check_frame(jpeg: &[u8]) -> Vec<(u8, u8)> {
    let mut pos = 2;
    while let (Some(&0xFF), Some(&code), Some(len)) =
        (jpeg.get(pos), jpeg.get(pos + 1), jpeg.get(pos + 2..pos + 4))
    {
        let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
        let body = jpeg.get(pos + 4..pos + 2 + len).unwrap_or_default();
        if matches!(code, 0xC0..=0xC2) {
            let count = usize::from(body.get(5).copied().unwrap_or(0));
            let factors: Vec<(u8, u8)> = body
                .get(6..6 + 3 * count)
                .unwrap_or_default()
                .chunks_exact(3)
                .map(|c| (c[1] >> 4, c[1] & 15))
                .collect();
            assert!(
                factors.len() == count
                    && factors
                        .iter()
                        .all(|&(h, v)| (1..=4).contains(&h) && (1..=4).contains(&v)),
                "bad output frame header: {count} components, sampling factors {factors:?}"
            );
            let blocks: u32 = factors.iter().map(|&(h, v)| u32::from(h * v)).sum();
            assert!(
                count == 1 || blocks <= 10,
                "the output's interleaved scan has {blocks} blocks an MCU (sampling factors \
                 {factors:?}); JPEG allows 10, libjpeg refuses it"
            );
            return factors;
        }
        if code == 0xDA {
            break;
        }
        pos += 2 + len;
    }
    panic!("no frame header before the scan in the output");
}

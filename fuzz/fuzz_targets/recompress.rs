//! Fuzzes the per-image in-memory path: `jpeg::pixel::recompress` must return `Ok` or `Err` for every
//! input, never panic (a panic that `recompress` catches still aborts here: libfuzzer-sys's
//! panic hook runs first), hang or abort. libjpeg's own fatal errors unwind through
//! `resume_unwind`, which skips the panic hook, so they are not reported as crashes.
//!
//! Input layout: byte 0 picks the settings (quality 1 + byte % 100; bit 7 keep_metadata,
//! bit 6 keep_icc, bit 5 strict, bit 4 best), the rest is the JPEG.
#![no_main]

use libfuzzer_sys::fuzz_target;
use photopress::jpeg::pixel::{EncodeSettings, recompress};

/// Larger inputs are skipped: they only slow the fuzzer down.
const MAX_INPUT: usize = 256 * 1024;

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
        best: selector & 0x10 != 0,
        // Any setting added later keeps its default.
        ..EncodeSettings::default()
    };
    if let Ok(output) = recompress(jpeg, &settings) {
        // Whatever it accepts must come back out as a JPEG.
        assert!(
            output.starts_with(&[0xFF, 0xD8]) && output.ends_with(&[0xFF, 0xD9]),
            "recompress returned {} bytes that are not a JPEG",
            output.len()
        );
    }
});

/// No-op callbacks for the float comparisons that gcc's `-fsanitize-coverage=trace-cmp` traces
/// and libFuzzer does not (see README.md: instrumenting libjpeg's C code).
#[cfg(feature = "gcc-trace-cmp")]
mod gcc_trace_cmp {
    #[unsafe(no_mangle)]
    extern "C" fn __sanitizer_cov_trace_cmpf(_: f32, _: f32) {}
    #[unsafe(no_mangle)]
    extern "C" fn __sanitizer_cov_trace_cmpd(_: f64, _: f64) {}
}

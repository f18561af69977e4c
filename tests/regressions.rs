//! Inputs that once made the codec misbehave (see `tests/fuzz_regressions/README.md`): each
//! must now fail fast, with a clear per-file error, in every mode.
mod common;

use std::fs;
use std::path::PathBuf;

use common::*;
use photopress::ImageError;
use photopress::jpeg::dct::Refusal;
use photopress::jpeg::pixel::{EncodeSettings, recompress};

fn regression_files() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("tests/fuzz_regressions")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "jpg"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 3,
        "regression inputs missing from {}",
        dir.display()
    );
    files
}

#[test]
fn decompression_bombs_are_refused_before_decoding() {
    for path in regression_files() {
        let data = fs::read(&path).expect("read");
        for strict in [true, false] {
            for best in [false, true] {
                let settings = EncodeSettings {
                    strict,
                    best,
                    ..EncodeSettings::default()
                };
                match recompress(&data, &settings) {
                    Err(ImageError::Unsupported(m)) => assert!(
                        m.contains("20000x20000 pixels in only")
                            && m.contains("decompression bomb"),
                        "{}: {m}",
                        path.display()
                    ),
                    other => panic!("{}: {other:?}", path.display()),
                }
            }
        }
    }
}

#[test]
fn bombs_fail_alone_in_a_batch() {
    let tmp = tempdir();
    let images = copy_photos(tmp.path());
    for path in regression_files() {
        fs::copy(&path, images.join(path.file_name().expect("name"))).expect("copy");
    }
    let run = run(tmp.path(), &["--accept-truncated"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        run.stderr.matches("decompression bomb").count(),
        3,
        "{}",
        run.stderr
    );
    assert!(
        run.stdout.contains("\nFiles compressed 4, failed 3\n"),
        "{}",
        run.stdout
    );
}

#[test]
fn an_image_over_the_memory_budget_fails_with_the_figures() {
    let tmp = tempdir();
    copy_photos(tmp.path());
    let run = run(tmp.path(), &["--max-memory", "20M"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    // leaf.jpg (2.3 MP) fits in 20 MiB; the 4.5 and 6.3 MP photos do not.
    assert!(
        run.stdout.contains("\nFiles compressed 1, failed 3\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("IMAGES/dogs.jpg: needs about")
            && run
                .stderr
                .contains("more than the 20 MiB budget (--max-memory)"),
        "{}",
        run.stderr
    );
    assert_eq!(common::run(tmp.path(), &["--max-memory", "lots"]).code, 2);
}

fn transcoder_regression(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz_regressions/transcode")
        .join(name);
    fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Found by the `transcode` fuzz target: a DHT with more codes of one length than fit (three
/// one-bit codes) overran the decoder's lookup table (a panic, which ended the whole run).
#[test]
fn an_overfull_huffman_table_is_a_clear_error_in_every_mode() {
    let data = transcoder_regression("overfull-dht.jpg");
    for strict in [true, false] {
        let settings = EncodeSettings {
            strict,
            ..EncodeSettings::default()
        };
        match photopress::jpeg::dct::recompress(&data, &settings, true) {
            Err(Refusal::Invalid(ImageError::Decode(m))) => {
                assert_eq!(m, "Bogus Huffman table definition")
            }
            other => panic!("strict {strict}: {other:?}"),
        }
    }
    let tmp = tempdir();
    let images = copy_photos(tmp.path());
    fs::write(images.join("overfull.jpg"), &data).expect("write");
    for method in ["dct", "auto"] {
        let run = run(tmp.path(), &["--method", method]);
        assert_eq!(run.code, 1, "{method}: {}", run.stderr);
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
        assert!(
            run.stderr
                .contains("IMAGES/overfull.jpg: not a valid JPEG: Bogus Huffman table definition"),
            "{method}: {}",
            run.stderr
        );
        assert!(
            run.stdout.contains("\nFiles compressed 4, failed 1\n"),
            "{}",
            run.stdout
        );
    }
}

/// Found by the `transcode` fuzz target: 4x4,1x1,1x1 sampling coded in separate scans is valid,
/// but one interleaved scan of it (18 blocks a unit) is not: the output libjpeg refused.
#[test]
fn sampling_too_large_for_one_scan_takes_the_pixel_path() {
    let data = transcoder_regression("sampling-4x4-noninterleaved.jpg");
    match photopress::jpeg::dct::recompress(&data, &EncodeSettings::default(), true) {
        Err(Refusal::NotCovered(m)) => assert!(m.contains("more than 10 blocks"), "{m}"),
        other => panic!("{other:?}"),
    }
    let tmp = tempdir();
    let images = tmp.path().join("IMAGES");
    fs::create_dir_all(&images).expect("mkdir");
    fs::write(images.join("big-sampling.jpg"), &data).expect("write");
    let run = run(tmp.path(), &["--method", "dct", "--allow-larger"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("Methods dct 0, pixel 1"),
        "{}",
        run.stdout
    );
    let out = tmp
        .path()
        .join("COMPRESSED_IMAGES/compressed_big-sampling.jpg");
    let decoded = decode(&out);
    let input = image::load_from_memory(&data).expect("input decodes");
    assert_eq!(
        (decoded.width(), decoded.height()),
        (input.width(), input.height())
    );
}

/// Found by the `transcode` fuzz target (an oracle disagreement, not a transcoder fault): JFIF
/// with bogus thumbnail fields, a run of fill bytes, a TEM marker and extraneous bytes before
/// the tables. libjpeg reads a 386x2048 frame, and so does the transcoder; zune-jpeg reads the
/// bytes after TEM as a length and finds another size, so the fuzz target now compares with
/// libjpeg's reading.
#[test]
fn a_tem_marker_before_the_tables_reads_as_libjpeg_reads_it() {
    let data = transcoder_regression("tem-marker-before-tables.jpg");
    let settings = EncodeSettings {
        strict: false,
        ..EncodeSettings::default()
    };
    let out = photopress::jpeg::dct::recompress(&data, &settings, true)
        .unwrap_or_else(|e| panic!("transcoder: {e}"));
    let libjpeg = |jpeg: &[u8]| {
        mozjpeg::Decompress::new_mem(jpeg)
            .map(|d| d.size())
            .expect("libjpeg reads the header")
    };
    assert_eq!(libjpeg(&data), (386, 2048));
    assert_eq!(libjpeg(&out), (386, 2048));
}

/// Asserts that libjpeg refuses the header of `tests/fuzz_regressions/transcode/NAME`, and
/// that the transcoder refuses the file too, strict or not, with `message`; returns its bytes.
fn refused_as_libjpeg_refuses(name: &str, message: &str) -> Vec<u8> {
    let data = transcoder_regression(name);
    let libjpeg = std::panic::catch_unwind(|| mozjpeg::Decompress::new_mem(&data).map(drop));
    assert!(
        !matches!(libjpeg, Ok(Ok(()))),
        "{name}: libjpeg reads its header"
    );
    for strict in [false, true] {
        let settings = EncodeSettings {
            strict,
            ..EncodeSettings::default()
        };
        match photopress::jpeg::dct::recompress(&data, &settings, true) {
            Err(Refusal::Invalid(err)) => {
                assert_eq!(err.to_string(), message, "{name}, strict {strict}")
            }
            Err(other) => panic!("{name}, strict {strict}: {other}"),
            Ok(out) => panic!("{name}, strict {strict}: {} bytes written", out.len()),
        }
    }
    data
}

/// Found by the `transcode` fuzz target: a reserved marker code (0x31) and a JPGn code (0xF0)
/// among the segments. libjpeg refuses both ("Unsupported marker type"), so the pixel path
/// failed these files while the transcoder skipped the codes as segments and wrote an output.
/// Now the transcoder refuses them with libjpeg's words, strict or not, and the CLI fails the
/// file by either method.
#[test]
fn markers_libjpeg_refuses_are_refused_by_the_transcoder_too() {
    for (name, code) in [
        ("reserved-marker-0x31.jpg", "0x31"),
        ("jpgn-marker-0xf0.jpg", "0xf0"),
    ] {
        refused_as_libjpeg_refuses(
            name,
            &format!("not a valid JPEG: Unsupported marker type {code}"),
        );
    }
}

/// Found by the `transcode` fuzz target: a DRI segment 160 bytes long, and a SOF2 segment of
/// 2304 bytes for 3 components. libjpeg takes only the exact lengths ("Bogus marker length"),
/// so the pixel path failed the files, while the transcoder read what it needed from the
/// start of the segment and wrote an output. Now both refuse them, strict or not, by every
/// method.
#[test]
fn segments_of_the_wrong_length_are_refused_as_libjpeg_refuses_them() {
    for name in ["dri-length-160.jpg", "sof-length-2304.jpg"] {
        wrong_length_is_refused(name);
    }
}

fn wrong_length_is_refused(name: &str) {
    let data = refused_as_libjpeg_refuses(name, "not a valid JPEG: Bogus marker length");
    let tmp = tempdir();
    let images = copy_photos(tmp.path());
    fs::write(images.join("bad-length.jpg"), &data).expect("write");
    for method in ["dct", "auto", "pixel"] {
        let run = run(tmp.path(), &["--method", method]);
        assert_eq!(run.code, 1, "{name}, {method}: {}", run.stderr);
        assert!(
            run.stderr
                .contains("IMAGES/bad-length.jpg: not a valid JPEG:")
                && run.stderr.contains("Bogus marker length"),
            "{method}: {}",
            run.stderr
        );
        assert!(
            run.stdout.contains("\nFiles compressed 4, failed 1\n"),
            "{method}: {}",
            run.stdout
        );
    }
}

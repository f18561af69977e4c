//! Inputs that are broken, hostile or odd fail alone, fast, with a clear per-file error, and
//! the batch goes on: corrupt and truncated files (and what `--accept-truncated` salvages),
//! FIFOs, sockets and devices, files over the size cap or the memory budget, and the fuzz
//! regressions kept in `tests/fuzz_regressions/`.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::{self, *};
use photopress::ImageError;
use photopress::jpeg::dct::Refusal;
use photopress::jpeg::pixel::{EncodeSettings, recompress};

#[test]
fn a_corrupt_file_fails_alone_and_leaves_nothing_behind() {
    let tmp = tempdir();
    let images = copy_photos(tmp.path());
    let good = fs::read(photo("dogs.jpg")).expect("read");
    fs::write(images.join("broken.jpg"), &good[..good.len() / 2]).expect("write");
    let run = run(tmp.path(), &[] as &[&str]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let errors: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains(" ERROR "))
        .collect();
    assert_eq!(errors.len(), 1, "{}", run.stderr);
    assert!(errors[0].contains("IMAGES/broken.jpg"), "{}", errors[0]);
    assert!(
        errors[0].contains("Premature end of JPEG file"),
        "{}",
        errors[0]
    );
    // The four good photos are done, and nothing at all exists for the broken one.
    assert_eq!(
        file_names(&tmp.path().join("COMPRESSED_IMAGES")),
        [
            "compressed_dogs.jpg",
            "compressed_fig.jpg",
            "compressed_leaf.jpg",
            "compressed_mountains.jpg"
        ]
    );
    assert!(
        run.stdout.ends_with(
            "\nFiles compressed 4, failed 1\nFailed:\n  IMAGES/broken.jpg: not a valid JPEG: Premature end of JPEG file \
             (the file ends early: an incomplete copy or download? --accept-corrupt keeps what can be decoded)\n"
        ),
        "{}",
        run.stdout
    );
}

#[test]
fn bad_inputs_fail_one_by_one_with_their_cause() {
    let tmp = tempdir();
    let images = copy_photos(tmp.path());
    let good = fs::read(photo("fig.jpg")).expect("read");
    let header_end = good
        .windows(2)
        .position(|w| w == [0xFF, 0xDA])
        .expect("SOS")
        + 12;
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "half.jpg",
            good[..good.len() / 2].to_vec(),
            "Premature end of JPEG file",
        ),
        (
            "header_only.jpg",
            good[..header_end].to_vec(),
            "Premature end of JPEG file",
        ),
        ("empty.jpg", Vec::new(), "the file is empty"),
        (
            "random.jpg",
            (0..5000u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .collect(),
            "Not a JPEG file",
        ),
        (
            "png.jpg",
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0".to_vec(),
            "is a PNG file (photopress compresses JPEG)",
        ),
        ("soi_only.jpg", vec![0xFF, 0xD8], "Premature end"),
    ];
    for (name, data, _) in &cases {
        fs::write(images.join(name), data).expect("write");
    }
    std::os::unix::fs::symlink(tmp.path().join("gone.jpg"), images.join("dangling.jpg"))
        .expect("symlink");
    let run = run(tmp.path(), &["-j", "2"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let errors: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains(" ERROR "))
        .collect();
    assert_eq!(errors.len(), cases.len() + 1, "{}", run.stderr);
    for (name, _, cause) in &cases {
        let line = errors
            .iter()
            .find(|l| l.contains(&format!("IMAGES/{name}:")))
            .unwrap_or_else(|| panic!("no error line for {name}:\n{}", run.stderr));
        assert!(line.contains(cause), "{name}: {line}");
    }
    assert!(
        errors.iter().any(|l| l.ends_with(&format!(
            "IMAGES/dangling.jpg: is a symlink to {}, which does not exist",
            tmp.path().join("gone.jpg").display()
        ))),
        "{}",
        run.stderr
    );
    let out = tmp.path().join("COMPRESSED_IMAGES");
    assert_eq!(
        file_names(&out).len(),
        4,
        "only the good photos have outputs"
    );
    assert!(
        run.stdout.contains("\nFiles compressed 4, failed 7\n"),
        "{}",
        run.stdout
    );
    // The report ends with the failed files and their causes (in input order), so that they
    // do not scroll away with the log; a truncated file's says how to keep what is there.
    let (_, listed) = run
        .stdout
        .split_once("\nFailed:\n")
        .unwrap_or_else(|| panic!("no failures listed:\n{}", run.stdout));
    let listed: Vec<&str> = listed.lines().collect();
    let names: Vec<&str> = listed
        .iter()
        .filter_map(|l| l.strip_prefix("  IMAGES/")?.split(':').next())
        .collect();
    assert_eq!(
        names,
        [
            "dangling.jpg",
            "empty.jpg",
            "half.jpg",
            "header_only.jpg",
            "png.jpg",
            "random.jpg",
            "soi_only.jpg"
        ],
        "{}",
        run.stdout
    );
    for (name, _, cause) in &cases {
        let line = listed
            .iter()
            .find(|l| l.starts_with(&format!("  IMAGES/{name}: ")))
            .unwrap_or_else(|| panic!("{name} not listed"));
        assert!(line.contains(cause), "{line}");
        let truncated = cause.contains("Premature end");
        assert_eq!(
            line.ends_with(
                "(the file ends early: an incomplete copy or download? --accept-corrupt keeps what can be decoded)"
            ),
            truncated,
            "{line}"
        );
    }
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

#[test]
fn accept_truncated_compresses_what_there_is() {
    let tmp = tempdir();
    let dir = tmp.path().join("in");
    fs::create_dir(&dir).expect("mkdir");
    let good = fs::read(photo("leaf.jpg")).expect("read");
    fs::write(dir.join("cut.jpg"), &good[..good.len() * 3 / 4]).expect("write");
    assert_eq!(run(tmp.path(), &["in"]).code, 1);
    let run = run(tmp.path(), &["in", "--accept-truncated"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let img = decode(&tmp.path().join("COMPRESSED_IMAGES/compressed_cut.jpg"));
    assert_eq!((img.width(), img.height()), (1920, 1200));
}

/// `good` with 64 bytes of its entropy-coded data, a third of the way in, replaced by bytes
/// that no Huffman code starts with (`FF 00` pairs: all one bits).
fn with_bad_huffman_codes(good: &[u8]) -> Vec<u8> {
    let sos = good
        .windows(2)
        .rposition(|w| w == [0xFF, 0xDA])
        .expect("SOS");
    let len = usize::from(u16::from_be_bytes([good[sos + 2], good[sos + 3]]));
    let data_start = sos + 2 + len;
    let at = data_start + (good.len() - data_start) / 3;
    let mut bad = good.to_vec();
    for pair in bad[at..at + 64].chunks_exact_mut(2) {
        pair.copy_from_slice(&[0xFF, 0x00]);
    }
    bad
}

#[test]
fn corrupt_cmyk_data_fails_by_default_and_is_salvaged_when_asked() {
    let tmp = tempdir();
    let images = tmp.path().join("IMAGES");
    fs::create_dir(&images).expect("mkdir");
    let (pixels, w, h) = photo_pixels("fig.jpg", 2);
    let cmyk = encode_adobe_cmyk(&pixels, w, h);
    fs::write(images.join("cmyk.jpg"), &cmyk).expect("write");
    fs::write(images.join("bad_cmyk.jpg"), with_bad_huffman_codes(&cmyk)).expect("write");
    let before = snapshot(&images);
    let run = run(tmp.path(), &["IMAGES", "-o", "out", "--json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        statuses(&json(&run)),
        [
            ("bad_cmyk.jpg".to_string(), "failed".to_string()),
            ("cmyk.jpg".to_string(), "compressed".to_string())
        ]
    );
    assert!(run.stderr.contains("bad Huffman code"), "{}", run.stderr);
    let salvage = common::run(tmp.path(), &["IMAGES", "-o", "out2", "--accept-truncated"]);
    assert_eq!(salvage.code, 0, "{}", salvage.stderr);
    assert_unchanged(&before, &images);
}

#[test]
fn fifos_sockets_and_devices_fail_at_once_and_the_batch_goes_on() {
    let tmp = tempdir();
    let images = copy_photos(tmp.path());
    let fifo = images.join("x.jpg");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    symlink("/dev/zero", images.join("y.jpg")).expect("link");
    symlink("x.jpg", images.join("z.jpg")).expect("link to the fifo");
    let _socket = std::os::unix::net::UnixListener::bind(images.join("s.jpg")).expect("socket");
    let before = snapshot(&images);
    let mut child = command(tmp.path())
        .args(["IMAGES", "-o", "out", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("photopress hung on a FIFO or a device");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().expect("output");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    for (name, kind) in [
        ("x.jpg", "a FIFO"),
        ("y.jpg", "a character device"),
        ("z.jpg", "a FIFO"),
        ("s.jpg", "a socket"),
    ] {
        let line = stderr
            .lines()
            .find(|l| l.contains("ERROR") && l.contains(name))
            .unwrap_or_else(|| panic!("no error for {name}: {stderr}"));
        assert!(
            line.contains(&format!("not a regular file ({kind})")),
            "{line}"
        );
    }
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(report["totals"]["compressed"], 4);
    assert_eq!(report["totals"]["failed"], 4);
    assert_unchanged(&before, &images);
}

#[test]
fn a_file_over_the_size_cap_or_the_memory_budget_fails_before_it_is_read() {
    let tmp = tempdir();
    let images = copy_photos(tmp.path());
    let before = snapshot(&images);
    let leaf = fs::metadata(images.join("leaf.jpg")).expect("meta").len();
    let run = run(
        tmp.path(),
        &["IMAGES", "-o", "out", "--max-file-size", "1000K", "--json"],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let line = run
        .stderr
        .lines()
        .find(|l| l.contains("ERROR") && l.contains("leaf.jpg"))
        .unwrap_or_else(|| panic!("{}", run.stderr));
    assert!(
        line.contains(&format!(
            "the file is {leaf} bytes, more than the 1024000 bytes"
        )),
        "{line}"
    );
    // Every file bigger than the cap failed; the others are done.
    let report = json(&run);
    for file in report["files"].as_array().expect("files") {
        let big = file["input_bytes"].as_u64() == Some(0);
        let size = fs::metadata(tmp.path().join(file["input"].as_str().expect("input")))
            .expect("meta")
            .len();
        assert_eq!(file["status"] == "failed", size > 1_024_000, "{file}");
        assert_eq!(big, size > 1_024_000, "a failed file counts no bytes");
    }
    assert_unchanged(&before, &images);
}

#[test]
fn a_stray_byte_between_segments_does_not_hide_an_image_from_the_budget() {
    let tmp = tempdir();
    let dogs = fs::read(photo("dogs.jpg")).expect("read");
    // dogs.jpg is 2056x3088 progressive: ~85 MB of working memory. A stray byte after the
    // first segment used to make the budget's header reader give up and count it as 0.
    let first_len = usize::from(u16::from_be_bytes([dogs[4], dogs[5]]));
    let cut = 4 + first_len;
    let mut stray = dogs[..cut].to_vec();
    stray.push(0x42);
    stray.extend_from_slice(&dogs[cut..]);
    let images = tmp.path().join("IMAGES");
    fs::create_dir(&images).expect("mkdir");
    fs::write(images.join("stray.jpg"), &stray).expect("write");
    fs::copy(photo("leaf.jpg"), images.join("leaf.jpg")).expect("copy");
    let before = snapshot(&images);
    let run = run(tmp.path(), &["IMAGES", "-o", "out", "--max-memory", "40M"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let line = run
        .stderr
        .lines()
        .find(|l| l.contains("ERROR") && l.contains("stray.jpg"))
        .unwrap_or_else(|| panic!("{}", run.stderr));
    assert!(line.contains("--max-memory"), "{line}");
    assert_eq!(file_names(&tmp.path().join("out")), ["compressed_leaf.jpg"]);
    // Within a budget that fits it, the same file is compressed.
    let run2 = common::run(
        tmp.path(),
        &["IMAGES", "-o", "out2", "--max-memory", "200M"],
    );
    assert_eq!(run2.code, 0, "{}", run2.stderr);
    assert_unchanged(&before, &images);
}

// ---------------------------------------------------------------------------------------------
// Fuzz regressions: inputs that once made the codec misbehave (see
// `tests/fuzz_regressions/README.md`): each must now fail fast, with a clear per-file error, in
// every mode.

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

/// `leaf.jpg` with its frame header rewritten: marker `code`, sample precision `precision`.
fn with_frame(code: u8, precision: u8) -> Vec<u8> {
    let mut data = fs::read(photo("leaf.jpg")).expect("read");
    // Walk the segments to the frame header (an FF C0 pair may also sit inside the EXIF).
    let mut pos = 2;
    while data[pos + 1] != 0xC0 {
        pos += 2 + usize::from(u16::from_be_bytes([data[pos + 2], data[pos + 3]]));
    }
    data[pos + 1] = code;
    data[pos + 4] = precision;
    data
}

#[test]
fn twelve_bit_and_lossless_jpegs_are_refused_by_name_on_every_path() {
    let files = vec![
        ("twelve.jpg".to_string(), with_frame(0xC1, 12)),
        ("lossless.jpg".to_string(), with_frame(0xC3, 8)),
        (
            "good.jpg".to_string(),
            fs::read(photo("dogs.jpg")).expect("read"),
        ),
    ];
    for extra in [
        &[][..],
        &["--method", "pixel"],
        &["--strip"],
        &["--lossless"],
        &["--long-edge", "300"],
    ] {
        let tmp = tempdir();
        let mut args = vec!["--json"];
        args.extend_from_slice(extra);
        let run = compress_all(tmp.path(), &files, &args);
        assert_eq!(run.code, 1, "{extra:?}: {}", run.stderr);
        let report = json(&run);
        let error = |name: &str| {
            report["files"]
                .as_array()
                .and_then(|f| {
                    f.iter()
                        .find(|f| f["input"].as_str().is_some_and(|i| i.ends_with(name)))
                })
                .map(|f| f["error"].as_str().unwrap_or_default().to_string())
                .unwrap_or_default()
        };
        assert_eq!(
            error("twelve.jpg"),
            "unsupported JPEG: 12-bit samples: photopress reads 8-bit JPEGs",
            "{extra:?}"
        );
        assert_eq!(
            error("lossless.jpg"),
            "unsupported JPEG: a lossless JPEG (SOF3, predictive coding): photopress reads DCT-based JPEGs",
            "{extra:?}"
        );
        assert!(
            out(tmp.path(), "good.jpg").exists(),
            "{extra:?}: the batch goes on"
        );
    }
}

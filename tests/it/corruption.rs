//! Corrupt inputs never pass in silence (issue 25, 1-2): by default a file whose data libjpeg
//! reports as corrupt fails, naming the corruption, on every path; `--accept-corrupt` (alias
//! `--accept-truncated`) re-encodes what decodes, with a WARN line, and never writes the
//! original bytes as the result. Benign oddities (stray bytes between header segments,
//! trailing bytes after the end) stay accepted.
use std::fs;

use crate::common::*;

/// A 480x300 photo cut from leaf.jpg, through cjpeg with `args`.
fn cjpeg(args: &[&str]) -> Vec<u8> {
    jpeg_tool(
        "cjpeg",
        args,
        &jpeg_tool("djpeg", &[], &small_jpeg(480, 300)),
    )
}

/// The offset of the first marker `code` of `file` (after SOI).
fn marker_at(file: &[u8], code: u8) -> usize {
    file.windows(2)
        .skip(2)
        .position(|w| w == [0xFF, code])
        .map(|p| p + 2)
        .expect("the marker")
}

/// The offset of the marker that ends the entropy-coded data after the SOS at `sos`.
fn end_of_scan(file: &[u8], sos: usize) -> usize {
    let len = usize::from(u16::from_be_bytes([file[sos + 2], file[sos + 3]]));
    let mut k = sos + 2 + len;
    while file[k] != 0xFF || matches!(file[k + 1], 0x00 | 0xFF | 0xD0..=0xD7) {
        k += 1;
    }
    k
}

/// Corrupt files, each with the words libjpeg (and so photopress) says about it.
fn corrupt_files() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    // A baseline scan that claims to cover coefficients 0..62 only.
    let mut not_sequential = cjpeg(&["-quality", "80"]);
    let sos = marker_at(&not_sequential, 0xDA);
    let count = usize::from(not_sequential[sos + 4]);
    not_sequential[sos + 5 + 2 * count + 1] = 62;
    // A progressive file whose first scan comes twice.
    let progressive = cjpeg(&["-quality", "80", "-progressive"]);
    let sos = marker_at(&progressive, 0xDA);
    let end = end_of_scan(&progressive, sos);
    let bogus = [
        &progressive[..end],
        &progressive[sos..end],
        &progressive[end..],
    ]
    .concat();
    // Bytes that are no marker before a restart marker, inside the entropy-coded data.
    let restarts = cjpeg(&["-quality", "80", "-restart", "1"]);
    let rst = marker_at(&restarts, 0xD1);
    let extraneous = [&restarts[..rst], &[0x11, 0x22, 0x33][..], &restarts[rst..]].concat();
    vec![
        (
            "not_sequential.jpg",
            not_sequential,
            "Invalid SOS parameters for sequential JPEG",
        ),
        (
            "bogus_progression.jpg",
            bogus,
            "Inconsistent progression sequence",
        ),
        (
            "extraneous.jpg",
            extraneous,
            "extraneous bytes before marker",
        ),
    ]
}

/// Files with oddities every decoder skips: stray bytes between header segments, and bytes
/// after the end of the image.
fn benign_files() -> Vec<(&'static str, Vec<u8>)> {
    let good = cjpeg(&["-quality", "80"]);
    let dqt = marker_at(&good, 0xDB);
    let stray = [&good[..dqt], &[0x00, 0x00][..], &good[dqt..]].concat();
    let trailing = [&good[..], b"trailing garbage after EOI"].concat();
    vec![("stray.jpg", stray), ("trailing.jpg", trailing)]
}

/// The settings families a file can go through.
const PATHS: [&[&str]; 8] = [
    &[],
    &["--method", "pixel"],
    &["--strip"],
    &["--progressive"],
    &["--lossless"],
    &["--long-edge", "200"],
    &["--target-size", "60%"],
    &["--target-quality", "50", "--strip"],
];

#[test]
fn corrupt_files_fail_by_default_naming_the_corruption_on_every_path() {
    let corrupt = corrupt_files();
    let benign = benign_files();
    for extra in PATHS {
        let tmp = tempdir();
        let files: Vec<(String, Vec<u8>)> = corrupt
            .iter()
            .map(|(n, d, _)| (n.to_string(), d.clone()))
            .chain(benign.iter().map(|(n, d)| (n.to_string(), d.clone())))
            .collect();
        let input = tmp.path().join("in");
        fs::create_dir(&input).expect("mkdir");
        for (name, data) in &files {
            fs::write(input.join(name), data).expect("write");
        }
        let before = snapshot(&input);
        let mut args = vec!["--json"];
        args.extend_from_slice(extra);
        let run = compress_all(tmp.path(), &[], &args);
        assert_eq!(run.code, 1, "{extra:?}: {}", run.stderr);
        let report = json(&run);
        for (name, _, words) in &corrupt {
            let file = report["files"]
                .as_array()
                .and_then(|f| {
                    f.iter()
                        .find(|f| f["input"].as_str().is_some_and(|i| i.ends_with(name)))
                })
                .unwrap_or_else(|| panic!("{name} in the report"));
            assert_eq!(file["status"], "failed", "{extra:?} {name}: {file}");
            let error = file["error"].as_str().unwrap_or_default();
            assert!(error.contains(words), "{extra:?} {name}: {error}");
            assert!(
                !out(tmp.path(), name).exists(),
                "{extra:?} {name}: no output"
            );
        }
        for (name, _) in &benign {
            let file = report["files"]
                .as_array()
                .and_then(|f| {
                    f.iter()
                        .find(|f| f["input"].as_str().is_some_and(|i| i.ends_with(name)))
                })
                .unwrap_or_else(|| panic!("{name} in the report"));
            assert_eq!(file["status"], "compressed", "{extra:?} {name}: {file}");
            decode(&out(tmp.path(), name));
        }
        assert_unchanged(&before, &input);
    }
}

#[test]
fn accept_corrupt_reencodes_what_decodes_with_a_warning_and_never_the_original_bytes() {
    let corrupt = corrupt_files();
    for flag in ["--accept-corrupt", "--accept-truncated"] {
        for extra in [
            &[][..],
            &["--method", "pixel"],
            &["--strip"],
            &["--allow-larger"],
        ] {
            let tmp = tempdir();
            let files: Vec<(String, Vec<u8>)> = corrupt
                .iter()
                .map(|(n, d, _)| (n.to_string(), d.clone()))
                .collect();
            let mut args = vec![flag, "--json", "-q", "95"];
            args.extend_from_slice(extra);
            let run = compress_all(tmp.path(), &files, &args);
            assert_eq!(run.code, 0, "{flag} {extra:?}: {}", run.stderr);
            for (name, data, words) in &corrupt {
                let written = fs::read(out(tmp.path(), name)).expect("an output");
                assert!(
                    written != *data,
                    "{flag} {extra:?} {name}: the original bytes"
                );
                decode(&out(tmp.path(), name));
                let warned = run.stderr.lines().any(|l| {
                    l.contains(" WARN ")
                        && l.contains(name)
                        && l.contains("corrupt data")
                        && l.contains(words)
                });
                assert!(warned, "{flag} {extra:?} {name}: {}", run.stderr);
            }
            let statuses = statuses(&json(&run));
            assert!(
                statuses.iter().all(|(_, s)| s == "compressed"),
                "{statuses:?}"
            );
        }
    }
}

//! The report on stdout: the four original lines and their totals (the real file sizes), the
//! lines in human terms after them, the failed files listed last, `--json` and `--json-lines`.

use std::fs;
use std::path::Path;

use crate::common::*;

#[test]
fn report_totals_are_the_real_file_sizes() {
    let tmp = tempdir();
    copy_photos(tmp.path());
    let run = run(tmp.path(), &["--progress", "never"]);
    assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);
    let (input, output, rate, last) = parse_report(&run.stdout);
    let size = |p: &Path| fs::metadata(p).expect("size").len();
    let real_in: u64 = PHOTOS.iter().map(|n| size(&photo(n))).sum();
    let real_out: u64 = PHOTOS
        .iter()
        .map(|n| {
            size(
                &tmp.path()
                    .join("COMPRESSED_IMAGES")
                    .join(format!("compressed_{n}")),
            )
        })
        .sum();
    assert_eq!(input, real_in);
    assert_eq!(output, real_out);
    assert!(
        (rate - real_out as f64 / real_in as f64).abs() <= 0.005,
        "rate {rate}"
    );
    assert_eq!(last, "Files compressed 4, failed 0");
    assert!(
        run.stdout.contains("Processing duration (ms) "),
        "{}",
        run.stdout
    );
}

#[test]
fn the_report_reads_in_human_terms_after_the_four_original_lines() {
    let tmp = tempdir();
    let images = copy_photos(tmp.path());
    let run = run(tmp.path(), &["-j", "2"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    let size = |p: &Path| fs::metadata(p).expect("size").len();
    let out = tmp.path().join("COMPRESSED_IMAGES");
    let real_in: u64 = PHOTOS.iter().map(|n| size(&images.join(n))).sum();
    let real_out: u64 = PHOTOS
        .iter()
        .map(|n| size(&out.join(format!("compressed_{n}"))))
        .sum();
    assert_eq!(lines[0], format!("Total files size {real_in}"));
    assert_eq!(lines[1], format!("Total compressed files size {real_out}"));
    assert!(lines[2].starts_with("Compression rate 0."), "{}", lines[2]);
    assert!(
        lines[3].starts_with("Processing duration (ms) "),
        "{}",
        lines[3]
    );
    let percent = ((real_out as f64 - real_in as f64) / real_in as f64 * 100.0).round();
    let size_line = lines
        .iter()
        .find(|l| l.starts_with("Size "))
        .unwrap_or_else(|| panic!("{}", run.stdout));
    assert!(
        size_line.contains(&format!(" ({percent} %), ")) && size_line.ends_with(" saved"),
        "{size_line}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Duration ") && l.ends_with(" on 2 threads")),
        "{}",
        run.stdout
    );
    // Each image's log line gives its sizes and the saving.
    for name in PHOTOS {
        let (i, o) = (
            size(&images.join(name)),
            size(&out.join(format!("compressed_{name}"))),
        );
        let expected = format!(
            "End compressing image, new image saved as compressed_{name}: {}",
            photopress::human::sizes(i, o)
        );
        assert!(run.stderr.contains(&expected), "{expected}\n{}", run.stderr);
    }
    assert!(
        run.stderr
            .contains("saved as compressed_leaf.jpg: 1.1 MiB -> "),
        "{}",
        run.stderr
    );
}

#[test]
fn the_failed_files_are_listed_last_up_to_twenty() {
    let tmp = tempdir();
    let images = copy_photos(tmp.path());
    for i in 0..23 {
        fs::write(images.join(format!("bad{i:02}.jpg")), b"").expect("write");
    }
    let run = run(tmp.path(), &["--quiet"]);
    assert_eq!(run.code, 1);
    let (_, listed) = run.stdout.split_once("\nFailed:\n").expect("listed");
    let listed: Vec<&str> = listed.lines().collect();
    assert_eq!(listed.len(), 21, "{}", run.stdout);
    assert_eq!(listed[0], "  IMAGES/bad00.jpg: the file is empty");
    assert_eq!(listed[19], "  IMAGES/bad19.jpg: the file is empty");
    assert_eq!(
        listed[20],
        "  and 3 more (each has an ERROR line in the log; --json lists them all)"
    );
}

#[test]
fn json_report_agrees_with_the_files() {
    let tmp = tempdir();
    let images = copy_photos(tmp.path());
    fs::write(images.join("empty.jpg"), b"").expect("write");
    let run = run(tmp.path(), &["--json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("stdout is JSON");
    let files = report["files"].as_array().expect("files");
    assert_eq!(files.len(), 5);
    let mut in_sum = 0;
    let mut out_sum = 0;
    for f in files {
        let input = tmp.path().join(f["input"].as_str().expect("input"));
        if f["status"] == "failed" {
            assert!(
                f["input"]
                    .as_str()
                    .is_some_and(|s| s.ends_with("empty.jpg"))
            );
            assert_eq!(f["error"], "the file is empty");
            assert!(f["output"].is_null());
            continue;
        }
        assert_eq!(f["status"], "compressed");
        assert!(f["error"].is_null());
        let output = tmp.path().join(f["output"].as_str().expect("output"));
        assert_eq!(f["input_bytes"], fs::metadata(&input).expect("in").len());
        assert_eq!(f["output_bytes"], fs::metadata(&output).expect("out").len());
        in_sum += f["input_bytes"].as_u64().expect("n");
        out_sum += f["output_bytes"].as_u64().expect("n");
    }
    let t = &report["totals"];
    assert_eq!(
        (
            t["files"].as_u64(),
            t["compressed"].as_u64(),
            t["failed"].as_u64()
        ),
        (Some(5), Some(4), Some(1))
    );
    assert_eq!(
        (t["input_bytes"].as_u64(), t["output_bytes"].as_u64()),
        (Some(in_sum), Some(out_sum))
    );
    let rate = t["rate"].as_f64().expect("rate");
    assert!((rate - out_sum as f64 / in_sum as f64).abs() < 1e-9);
    assert!(t["duration_ms"].as_f64().is_some_and(|d| d > 0.0));
}

#[test]
fn json_lines_give_one_object_per_file_then_the_totals() {
    let tmp = tempdir();
    let images = copy_photos(tmp.path());
    // A file that fails, and (after a first run) outputs that are skipped.
    fs::write(images.join("not.jpg"), b"\x89PNG\r\n\x1a\nrest").expect("write");
    let before = tree(&images);
    assert_eq!(run(tmp.path(), &["--quiet", "IMAGES/leaf.jpg"]).code, 0);

    let lines = run(tmp.path(), &["--skip-existing", "--json-lines"]);
    assert_eq!(lines.code, 1, "{}", lines.stderr);
    assert!(lines.stdout.ends_with('\n'));
    let parsed: Vec<serde_json::Value> = lines
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let (last, files) = parsed.split_last().expect("lines");
    let totals = &last["totals"];
    assert_eq!(files.len(), 5, "{}", lines.stdout);
    assert_eq!(totals["files"].as_u64(), Some(5));
    assert_eq!(totals["skipped"].as_u64(), Some(1));
    assert_eq!(totals["failed"].as_u64(), Some(1));
    assert_eq!(totals["compressed"].as_u64(), Some(3));
    let mut inputs: Vec<&str> = files.iter().filter_map(|f| f["input"].as_str()).collect();
    inputs.sort();
    assert_eq!(
        inputs,
        [
            "IMAGES/dogs.jpg",
            "IMAGES/fig.jpg",
            "IMAGES/leaf.jpg",
            "IMAGES/mountains.jpg",
            "IMAGES/not.jpg"
        ]
    );
    let mut output_bytes = 0;
    for f in files {
        match f["status"].as_str() {
            Some("failed") => {
                assert_eq!(f["input"], "IMAGES/not.jpg");
                assert!(f["error"].as_str().unwrap_or("").contains("PNG"), "{f}");
                assert!(f["output"].is_null());
            }
            Some("compressed" | "skipped") => {
                let output = tmp.path().join(f["output"].as_str().expect("output"));
                let written = fs::metadata(&output).expect("output written").len();
                assert_eq!(f["output_bytes"].as_u64(), Some(written), "{f}");
                output_bytes += written;
            }
            other => panic!("{other:?}: {f}"),
        }
    }
    assert_eq!(totals["output_bytes"].as_u64(), Some(output_bytes));
    assert_eq!(tree(&images), before, "inputs untouched");
    assert!(run(tmp.path(), &["--json", "--json-lines"]).code == 2);
}

//! The command line on the repository's four photos: outputs, report, logs, exit codes.
mod common;

use std::fs;
use std::path::Path;

use common::*;

#[test]
fn default_run_compresses_the_four_photos_into_compressed_images() {
    let tmp = tempdir();
    copy_photos(tmp.path());
    let run = run(tmp.path(), &[] as &[&str]);
    assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);
    let out = tmp.path().join("COMPRESSED_IMAGES");
    assert_eq!(
        file_names(&out),
        [
            "compressed_dogs.jpg",
            "compressed_fig.jpg",
            "compressed_leaf.jpg",
            "compressed_mountains.jpg"
        ]
    );
    for name in PHOTOS {
        let input = decode(&photo(name));
        let output = decode(&out.join(format!("compressed_{name}")));
        assert_eq!(
            (output.width(), output.height()),
            (input.width(), input.height()),
            "{name}"
        );
        // Quality 30 keeps the picture: no channel's mean moves by more than 2 levels.
        assert_close(mean_rgb(&output), mean_rgb(&input), 2.0, name);
        let (in_len, out_len) = (
            fs::metadata(photo(name)).expect("input").len(),
            fs::metadata(out.join(format!("compressed_{name}")))
                .expect("output")
                .len(),
        );
        assert!(
            out_len * 2 < in_len,
            "{name}: {out_len} bytes from {in_len}"
        );
    }
}

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
fn sequential_and_parallel_runs_write_identical_bytes() {
    let tmp = tempdir();
    copy_photos(tmp.path());
    let seq = run(tmp.path(), &["--sequential", "-o", "seq"]);
    let par = run(tmp.path(), &["--jobs", "3", "-o", "par"]);
    assert_eq!(
        (seq.code, par.code),
        (0, 0),
        "{}\n{}",
        seq.stderr,
        par.stderr
    );
    for name in PHOTOS {
        let file = format!("compressed_{name}");
        let a = fs::read(tmp.path().join("seq").join(&file)).expect("seq output");
        let b = fs::read(tmp.path().join("par").join(&file)).expect("par output");
        assert!(
            a == b,
            "{file} differs between sequential and parallel runs"
        );
    }
    // The sequential run does every image on the main thread; the parallel one on the pool.
    let workers = |stderr: &str| -> Vec<String> {
        stderr
            .lines()
            .filter(|l| l.contains(" CompressOneImage ") && l.contains("Start compressing image"))
            .map(|l| l.split(' ').nth(2).unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(workers(&seq.stderr), vec!["main"; 4]);
    let par_workers = workers(&par.stderr);
    assert_eq!(par_workers.len(), 4);
    assert!(
        par_workers.iter().all(|w| w.starts_with("Thread-")),
        "{par_workers:?}"
    );
}

#[test]
fn log_lines_have_time_component_thread_and_level() {
    let tmp = tempdir();
    copy_photos(tmp.path());
    let run = run(tmp.path(), &["-j", "2"]);
    assert_eq!(run.code, 0);
    let lines: Vec<&str> = run.stderr.lines().collect();
    // batch start, directory, start+end per image, batch end
    assert_eq!(lines.len(), 1 + 1 + 4 * 2 + 1, "{}", run.stderr);
    for line in &lines {
        let fields: Vec<&str> = line.splitn(5, ' ').collect();
        assert_eq!(fields.len(), 5, "{line}");
        let time = fields[0];
        assert!(
            time.len() == 12 && time.as_bytes()[2] == b':' && time.as_bytes()[8] == b'.',
            "time {time} in {line}"
        );
        assert!(
            ["ProcessImages", "CompressOneImage"].contains(&fields[1]),
            "{line}"
        );
        assert!(
            fields[2] == "main" || fields[2].starts_with("Thread-"),
            "{line}"
        );
        assert_eq!(fields[3], "INFO", "{line}");
    }
    assert!(lines[0].contains("ProcessImages main INFO Start processing 4 images from IMAGES"));
    assert!(
        run.stderr
            .contains("End compressing image, new image saved as compressed_leaf.jpg")
    );
    assert!(
        lines
            .last()
            .is_some_and(|l| l.contains("ProcessImages main INFO End processing"))
    );
}

#[test]
fn output_directory_is_created_exactly_once_by_eight_workers() {
    let tmp = tempdir();
    let images = tmp.path().join("many");
    fs::create_dir(&images).expect("mkdir");
    let small = encode_rgb(&pixels_of_size(64, 48), 64, 48, &Fixture::default());
    for i in 0..64 {
        fs::write(images.join(format!("img{i:02}.jpg")), &small).expect("write fixture");
    }
    let run = run(tmp.path(), &["--jobs", "8", "many", "-o", "deep/out"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let created: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("Creating directory deep/out"))
        .collect();
    assert_eq!(created.len(), 1, "{}", run.stderr);
    assert!(
        created[0].contains(" CompressOneImage Thread-"),
        "{}",
        created[0]
    );
    assert_eq!(file_names(&tmp.path().join("deep/out")).len(), 64);
    // Eight workers really were used.
    let threads: std::collections::BTreeSet<&str> = run
        .stderr
        .lines()
        .filter_map(|l| l.split(' ').nth(2))
        .filter(|t| t.starts_with("Thread-"))
        .collect();
    assert!(
        threads.len() > 1
            && threads
                .iter()
                .all(|t| t[7..].parse::<u32>().is_ok_and(|n| (1..=8).contains(&n))),
        "{threads:?}"
    );
}

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
             (the file ends early: an incomplete copy or download? --accept-truncated keeps what can be decoded)\n"
        ),
        "{}",
        run.stdout
    );
}

#[test]
fn bad_quality_is_a_usage_error() {
    let tmp = tempdir();
    copy_photos(tmp.path());
    for q in ["0", "101", "-5", "high"] {
        let run = run(tmp.path(), &[format!("--quality={q}")]);
        assert_eq!(run.code, 2, "quality {q}: {}", run.stderr);
        assert!(run.stderr.contains("--quality"), "{}", run.stderr);
    }
    assert!(!tmp.path().join("COMPRESSED_IMAGES").exists());
    assert_eq!(run(tmp.path(), &["-q", "100", "--allow-larger"]).code, 0);
}

#[test]
fn usage_errors_exit_2_before_any_work() {
    let tmp = tempdir();
    copy_photos(tmp.path());
    let missing = run(tmp.path(), &["nowhere"]);
    assert_eq!(missing.code, 2);
    assert!(
        missing.stderr.contains("input nowhere does not exist"),
        "{}",
        missing.stderr
    );

    fs::write(tmp.path().join("afile"), b"x").expect("write");
    let not_dir = run(tmp.path(), &["-o", "afile"]);
    assert_eq!(not_dir.code, 2);
    assert!(
        not_dir
            .stderr
            .contains("output afile exists and is not a directory"),
        "{}",
        not_dir.stderr
    );

    let before = fs::read(tmp.path().join("IMAGES/dogs.jpg")).expect("read");
    let overwrite = run(tmp.path(), &["-o", "IMAGES", "--prefix", ""]);
    assert_eq!(overwrite.code, 2);
    assert!(
        overwrite.stderr.contains("would overwrite input"),
        "{}",
        overwrite.stderr
    );
    assert_eq!(
        fs::read(tmp.path().join("IMAGES/dogs.jpg")).expect("read"),
        before
    );
    assert!(!tmp.path().join("COMPRESSED_IMAGES").exists());

    assert_eq!(run(tmp.path(), &["--jobs", "0"]).code, 2);
    assert_eq!(run(tmp.path(), &["--sequential", "--jobs", "2"]).code, 2);
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
fn only_jpeg_names_are_taken_from_a_folder_in_sorted_order() {
    let tmp = tempdir();
    let images = tmp.path().join("in");
    fs::create_dir(&images).expect("mkdir");
    let small = encode_rgb(&pixels_of_size(40, 30), 40, 30, &Fixture::default());
    for name in ["b.JPG", "a.jpeg", "c.JpEg", "d.jpg"] {
        fs::write(images.join(name), &small).expect("write");
    }
    fs::write(images.join("notes.txt"), b"hello").expect("write");
    fs::write(images.join("pic.png"), b"\x89PNG").expect("write");
    let run = run(
        tmp.path(),
        &["in", "-o", "out", "--sequential", "--prefix", "small-"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        file_names(&tmp.path().join("out")),
        ["small-a.jpeg", "small-b.JPG", "small-c.JpEg", "small-d.jpg"]
    );
    let order: Vec<&str> = run
        .stderr
        .lines()
        .filter_map(|l| l.split("Start compressing image ").nth(1))
        .collect();
    assert_eq!(order, ["in/a.jpeg", "in/b.JPG", "in/c.JpEg", "in/d.jpg"]);
    assert!(
        !run.stderr.contains("notes.txt"),
        "skipped silently at the default level"
    );
}

#[test]
fn help_and_version() {
    let tmp = tempdir();
    let help = run(tmp.path(), &["--help"]);
    assert_eq!(help.code, 0);
    for flag in [
        "--output",
        "--quality",
        "--jobs",
        "--sequential",
        "--prefix",
        "--json",
        "--progress",
        "--quiet",
        "--verbose",
        "--preserve",
        "--hidden",
    ] {
        assert!(help.stdout.contains(flag), "--help lacks {flag}");
    }
    assert!(
        help.stdout
            .contains("3 nothing to do: no JPEG found in the inputs"),
        "{}",
        help.stdout
    );
    let version = run(tmp.path(), &["--version"]);
    assert_eq!(
        version.stdout.trim(),
        format!("photopress {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn quiet_logs_only_problems() {
    let tmp = tempdir();
    let images = copy_photos(tmp.path());
    fs::write(images.join("zz.jpg"), b"garbage").expect("write");
    let run = run(tmp.path(), &["--quiet"]);
    assert_eq!(run.code, 1);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", run.stderr);
    assert!(
        lines[0].contains(" ERROR Failed to compress image IMAGES/zz.jpg: not a valid JPEG"),
        "{}",
        lines[0]
    );
}

#[test]
fn progress_bar_draws_only_when_asked_and_never_garbles_log_lines() {
    let tmp = tempdir();
    copy_photos(tmp.path());
    // stderr is a pipe here: `auto` draws nothing.
    let auto = run(tmp.path(), &["-j", "1", "-o", "a"]);
    assert!(
        !auto.stderr.contains('\x1b') && !auto.stderr.contains(" files "),
        "{}",
        auto.stderr
    );

    let always = run(tmp.path(), &["-j", "1", "-o", "b", "--progress", "always"]);
    assert_eq!(always.code, 0, "{}", always.stderr);
    assert!(always.stderr.contains("4/4 files"), "{}", always.stderr);
    // The bar is cleared before each log line: cut away its segments, and every log line is
    // whole, starting with its time stamp.
    let lines: Vec<&str> = always
        .stderr
        .split("\x1b[2K")
        .flat_map(str::lines)
        .filter(|l| l.contains(" INFO "))
        .collect();
    assert_eq!(lines.len(), 11, "{}", always.stderr);
    for line in lines {
        let b = line.as_bytes();
        assert!(
            b.len() > 13 && b[2] == b':' && b[5] == b':' && b[8] == b'.' && b[12] == b' ',
            "garbled: {line:?}"
        );
    }
    // The report on stdout is untouched by the bar.
    assert!(
        always.stdout.starts_with("Total files size "),
        "{}",
        always.stdout
    );
}

#[test]
fn an_input_without_jpegs_is_reported_with_exit_code_3() {
    let tmp = tempdir();
    fs::create_dir(tmp.path().join("empty")).expect("mkdir");
    fs::write(tmp.path().join("empty/readme.txt"), b"no photos").expect("write");
    let run = run(tmp.path(), &["empty", "--quiet"]);
    assert_eq!(run.code, 3, "nothing to do: {}", run.stderr);
    assert_eq!(
        run.stderr
            .lines()
            .map(|l| l.split_once(" WARN ").map(|(_, m)| m))
            .collect::<Vec<_>>(),
        [Some("No JPEG files found in empty")],
        "no hint without sub-folders: {}",
        run.stderr
    );
    let (input, output, _, last) = parse_report(&run.stdout);
    assert_eq!(
        (input, output, last.as_str()),
        (0, 0, "Files compressed 0, failed 0")
    );
}

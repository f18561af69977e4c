//! `photopress -`: one JPEG from stdin to stdout (issue 13), with the batch's rules for one
//! image and nothing written anywhere else.

use std::fs;
use std::path::Path;
use std::process::Stdio;

use crate::common::*;

struct Piped {
    code: i32,
    stdout: Vec<u8>,
    stderr: String,
}

/// Runs photopress in `cwd` with `args`, `input`'s content on stdin.
fn piped(cwd: &Path, args: &[&str], input: &Path) -> Piped {
    let stdin = fs::File::open(input).unwrap_or_else(|e| panic!("{}: {e}", input.display()));
    let output = command(cwd)
        .args(args)
        .stdin(Stdio::from(stdin))
        .output()
        .expect("run photopress");
    Piped {
        code: output.status.code().unwrap_or(-1),
        stdout: output.stdout,
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[test]
fn dash_reads_stdin_and_writes_the_compressed_jpeg_to_stdout() {
    let tmp = tempdir();
    let input = tmp.path().join("leaf.jpg");
    fs::copy(photo("leaf.jpg"), &input).expect("copy");
    let before = fs::read(&input).expect("read");
    let run = piped(tmp.path(), &["-", "--progress", "never"], &input);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with(&[0xFF, 0xD8, 0xFF]),
        "not a JPEG on stdout"
    );
    assert!(
        run.stdout.len() < before.len() / 2,
        "{} bytes",
        run.stdout.len()
    );
    let out = tmp.path().join("out.jpg");
    fs::write(&out, &run.stdout).expect("write");
    let (a, b) = (decode(&input), decode(&out));
    assert_eq!((a.width(), a.height()), (b.width(), b.height()));
    assert!(mean_abs_diff(&a, &b) < 6.0, "{}", mean_abs_diff(&a, &b));
    // The per-file line with the sizes goes to stderr with the log.
    assert!(
        run.stderr.contains("<stdin> -> <stdout>")
            && run.stderr.contains(" -> ")
            && run.stderr.contains('%'),
        "{}",
        run.stderr
    );
    assert_eq!(fs::read(&input).expect("read"), before, "input changed");
    // Nothing written next to it: no output folder, no temp file.
    let mut names = file_names(tmp.path());
    names.sort();
    assert_eq!(names, ["leaf.jpg", "out.jpg"]);
}

#[test]
fn dash_with_json_reports_the_file_on_stderr_and_matches_stdout() {
    let tmp = tempdir();
    let run = piped(tmp.path(), &["-", "--json", "-q", "50"], &photo("fig.jpg"));
    assert_eq!(run.code, 0, "{}", run.stderr);
    let line = run
        .stderr
        .lines()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| panic!("no JSON line in {}", run.stderr));
    let value: serde_json::Value = serde_json::from_str(line).expect("JSON");
    let input_len = fs::metadata(photo("fig.jpg")).expect("stat").len();
    assert_eq!(value["input_bytes"].as_u64(), Some(input_len));
    assert_eq!(
        value["output_bytes"].as_u64(),
        Some(run.stdout.len() as u64)
    );
    assert_eq!(value["status"], "compressed");
    assert_eq!(value["input"], "<stdin>");
}

#[test]
fn a_png_on_stdin_fails_with_its_name_and_writes_nothing() {
    let tmp = tempdir();
    let png = tmp.path().join("shot.png");
    image::RgbImage::from_pixel(8, 8, image::Rgb([1, 2, 3]))
        .save(&png)
        .expect("save PNG");
    let run = piped(tmp.path(), &["-"], &png);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout.is_empty(),
        "{} bytes on stdout",
        run.stdout.len()
    );
    assert!(
        run.stderr.contains("<stdin>") && run.stderr.contains("is a PNG file"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_stream_over_the_size_cap_fails_unread_past_the_cap() {
    let tmp = tempdir();
    let run = piped(
        tmp.path(),
        &["-", "--max-file-size", "64K"],
        &photo("dogs.jpg"),
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.is_empty());
    assert!(run.stderr.contains("--max-file-size"), "{}", run.stderr);
}

#[test]
fn dash_mixed_with_other_inputs_or_folder_options_is_a_usage_error() {
    let tmp = tempdir();
    let input = photo("leaf.jpg");
    for (args, expected) in [
        (vec!["-", "IMAGES"], "give it alone"),
        (vec!["-", "-o", "out"], "-o does not apply"),
        (vec!["-", "--dry-run"], "--dry-run does not apply"),
        (
            vec!["-", "--shard-count", "2"],
            "--shard-count does not apply",
        ),
    ] {
        let run = piped(tmp.path(), &args, &input);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(expected), "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{args:?}");
    }
    assert!(file_names(tmp.path()).is_empty(), "something was written");
}

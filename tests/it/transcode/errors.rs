//! Errors: truncated files and garbage in the entropy-coded data fail alone, worded as libjpeg
//! words them, under every method; `--accept-truncated` salvages what is there.

use super::*;

/// A 203 x 141 4:2:0 photo, baseline and progressive, and each cut in half.
fn truncation_fixtures() -> (Vec<(String, Vec<u8>)>, Vec<u8>) {
    let whole = Layout::Yuv420.encode(203, 141, false, Vec::new());
    let progressive = Layout::Yuv420.encode(203, 141, true, Vec::new());
    let files = vec![
        ("a_good.jpg".to_string(), whole.clone()),
        (
            "b_truncated.jpg".to_string(),
            whole[..whole.len() / 2].to_vec(),
        ),
        (
            "c_truncated_progressive.jpg".to_string(),
            progressive[..progressive.len() / 2].to_vec(),
        ),
        ("d_good_progressive.jpg".to_string(), progressive),
    ];
    (files, whole)
}

fn assert_truncated_fail_alone(method: &str) {
    let tmp = tempdir();
    let (files, _) = truncation_fixtures();
    write_files(tmp.path(), "in", &files);
    let run = photopress(tmp.path(), "in", "out", &["--method", method]);
    assert_eq!(run.code, 1, "{method}: {}{}", run.stdout, run.stderr);
    for name in ["b_truncated.jpg", "c_truncated_progressive.jpg"] {
        let line = error_line(&run.stderr, name);
        assert!(
            line.contains("Premature end of JPEG file"),
            "{method}: {line}"
        );
        assert!(
            !tmp.path().join("out").join(name).exists(),
            "{method}: output of {name}"
        );
    }
    assert_eq!(
        file_names(&tmp.path().join("out")),
        ["a_good.jpg", "d_good_progressive.jpg"],
        "{method}: nothing else written"
    );
    for name in ["a_good.jpg", "d_good_progressive.jpg"] {
        assert_eq!(
            dims(&decode(&tmp.path().join("out").join(name))),
            (203, 141)
        );
    }
    assert!(
        run.stdout.contains("Files compressed 2, failed 2"),
        "{method}: {}",
        run.stdout
    );
}

#[test]
fn truncated_file_fails_under_method_dct_and_the_batch_goes_on() {
    assert_truncated_fail_alone("dct");
}

#[test]
fn truncated_file_fails_under_auto_with_the_same_message() {
    assert_truncated_fail_alone("auto");
}

#[test]
fn truncated_file_error_is_the_transcoders_in_the_json_report() {
    let tmp = tempdir();
    let (files, _) = truncation_fixtures();
    write_files(tmp.path(), "in", &files);
    let run = photopress(tmp.path(), "in", "out", &["--method", "dct", "--json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).expect("JSON");
    let entry = &entries(&report)["b_truncated.jpg"];
    assert_eq!(entry["status"], "failed");
    // Nothing was written: no method made it (the message says whose words these are).
    assert_eq!(entry["method"], Value::Null, "{entry}");
    assert_eq!(entry["output"], Value::Null);
    assert_eq!(
        entry["error"],
        "not a valid JPEG: Premature end of JPEG file (the file ends early: an incomplete copy or \
         download? --accept-corrupt keeps what can be decoded)",
        "{entry}"
    );
}

#[test]
fn accept_truncated_compresses_what_there_is_under_method_dct() {
    let tmp = tempdir();
    let (files, whole) = truncation_fixtures();
    write_files(tmp.path(), "in", &files[1..3]);
    let names = ["b_truncated.jpg", "c_truncated_progressive.jpg"];
    for method in ["dct", "pixel"] {
        let report = photopress_json(
            tmp.path(),
            "in",
            method,
            &["--method", method, "--accept-truncated", "--allow-larger"],
        );
        expect_methods(&report, &[(names[0], method), (names[1], method)]);
    }
    let whole_path = tmp.path().join("whole.jpg");
    fs::write(&whole_path, &whole).expect("write whole");
    let original = decode(&whole_path);
    let top = |img: &DynamicImage| img.crop_imm(0, 0, 203, 141 / 4);
    let bottom = |img: &DynamicImage| img.crop_imm(0, 141 * 3 / 4, 203, 141 - 141 * 3 / 4);
    for name in names {
        let path = tmp.path().join("dct").join(name);
        let output = decode(&path);
        assert_eq!(dims(&output), (203, 141), "{name}: size of the original");
        assert_eq!(
            djpeg_size(&path),
            (203, 141),
            "{name}: djpeg reads it cleanly"
        );
        // The part that was there is the picture: the top quarter of the rows.
        let diff = mean_abs_diff(&top(&output), &top(&original));
        assert!(diff < 8.0, "{name}: top rows differ by {diff}");
        // What was not there is what libjpeg makes of it: grey for the baseline file's
        // missing rows, the first scans' coarse picture for the progressive file's. (Measured
        // 0.00 and 1.82; the MCU row where the data ends differs: the pixel path greys it
        // from the cut on, the transcoder decodes it to the row's end.)
        let pixel = decode(&tmp.path().join("pixel").join(name));
        let diff = mean_abs_diff(&bottom(&output), &bottom(&pixel));
        assert!(
            diff < 2.5,
            "{name}: bottom rows differ from libjpeg's by {diff}"
        );
    }
}

#[test]
fn garbage_in_the_entropy_coded_data_fails_under_every_method_and_layout() {
    for layout in [Layout::Yuv420, Layout::Yuv422, Layout::Yuv444] {
        garbage_fails(layout);
    }
}

fn garbage_fails(layout: Layout) {
    let tmp = tempdir();
    let good = layout.encode(203, 141, false, Vec::new());
    let (sos, _, body) = *segments(&good).last().expect("SOS");
    let data_start = sos + 2 + 2 + body.len();
    let mut garbage = good.clone();
    // A stretch of bytes no Huffman code starts (all one bits), a third of the way in.
    let at = data_start + (good.len() - data_start) / 3;
    for pair in garbage[at..at + 64].chunks_exact_mut(2) {
        pair.copy_from_slice(&[0xFF, 0x00]);
    }
    let files = vec![
        ("garbage.jpg".to_string(), garbage),
        ("good.jpg".to_string(), good),
    ];
    write_files(tmp.path(), "in", &files);
    // Under auto and pixel too: libjpeg-turbo's in-memory decoder would let these codes
    // through; the transcoder's reader checks the data first.
    for (method, out) in [
        ("dct", "out_dct"),
        ("auto", "out_auto"),
        ("pixel", "out_pixel"),
    ] {
        let run = photopress(tmp.path(), "in", out, &["--method", method]);
        assert_eq!(run.code, 1, "{method}: {}{}", run.stdout, run.stderr);
        let line = error_line(&run.stderr, "garbage.jpg");
        assert!(
            line.ends_with("not a valid JPEG: Corrupt JPEG data: bad Huffman code"),
            "{method}: unclear message: {line}"
        );
        assert_eq!(file_names(&tmp.path().join(out)), ["good.jpg"], "{method}");
    }
    // Asked to salvage what it can, auto lets libjpeg decode it.
    let run = photopress(
        tmp.path(),
        "in",
        "out_salvage",
        &["--method", "auto", "--accept-truncated"],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        file_names(&tmp.path().join("out_salvage")),
        ["garbage.jpg", "good.jpg"]
    );
}

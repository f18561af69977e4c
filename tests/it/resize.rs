//! Resizing (`--long-edge`, `--width`, `--height`, `--upscale`) through the real binary: output
//! sizes for landscape and portrait photos, with and without EXIF orientation, each limit and
//! their combinations, rounding, no upscaling by default, the picture itself against the
//! `image` crate's own Lanczos3 resize of the decoded input, the JSON fields, usage errors,
//! the memory budget and `--skip-existing`.

use std::fs;
use std::path::Path;

use crate::common::*;
use image::imageops::FilterType;
use image::metadata::Orientation;
use mozjpeg::Marker;

/// Writes each `(name, bytes)` into `dir/in` (unless there already) and runs photopress over it into `dir/out`
/// with `--json`; checks that the inputs are byte-identical afterwards.
fn resize_all(dir: &Path, files: &[(String, Vec<u8>)], extra: &[&str]) -> serde_json::Value {
    let input = dir.join("in");
    fs::create_dir_all(&input).expect("mkdir in");
    for (name, data) in files {
        // Not rewritten: a newer input would make its output stale for --skip-existing.
        if fs::read(input.join(name)).ok().as_ref() != Some(data) {
            fs::write(input.join(name), data).expect("write fixture");
        }
    }
    let before = files_below(&input);
    let mut args = vec!["in", "-o", "out", "--prefix", "", "--json"];
    args.extend_from_slice(extra);
    let run = run(dir, &args);
    assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
    assert_eq!(files_below(&input), before, "inputs changed");
    json(&run)
}

/// The stored size of a JPEG (as its frame declares it, before any orientation).
fn stored_size(path: &Path) -> (u32, u32) {
    let img = decode(path);
    (img.width(), img.height())
}

/// The file's entry in a JSON report.
fn entry<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["files"]
        .as_array()
        .expect("files")
        .iter()
        .find(|f| {
            f["input"]
                .as_str()
                .is_some_and(|i| i.ends_with(&format!("/{name}")))
        })
        .unwrap_or_else(|| panic!("{name} not in the report: {report}"))
}

/// A `w` x `h` photo (cut from leaf.jpg) with EXIF orientation `o` (none when 0).
fn fixture(w: usize, h: usize, o: u16) -> Vec<u8> {
    let markers = if o == 0 {
        Vec::new()
    } else {
        vec![(Marker::APP(1), exif_segment(o))]
    };
    let f = Fixture {
        markers,
        ..Fixture::default()
    };
    encode_rgb(&pixels_of_size(w, h), w, h, &f)
}

/// `jpeg` with an EXIF segment of orientation `o` inserted after its SOI.
fn with_orientation(jpeg: &[u8], o: u16) -> Vec<u8> {
    let segment = exif_segment(o);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&(segment.len() as u16 + 2).to_be_bytes());
    out.extend_from_slice(&segment);
    out.extend_from_slice(&jpeg[2..]);
    out
}

#[test]
fn each_limit_and_their_combinations_on_landscape_and_portrait() {
    let files = vec![
        ("land.jpg".to_string(), fixture(640, 480, 0)),
        ("port.jpg".to_string(), fixture(480, 640, 0)),
    ];
    // (options, landscape size, portrait size): the side that sets the ratio gets its limit,
    // the other its length times the ratio, rounded to the nearest pixel.
    type Case<'a> = (&'a [&'a str], (u32, u32), (u32, u32));
    let cases: [Case; 6] = [
        (&["--long-edge", "320"], (320, 240), (240, 320)),
        // 480 * 200 / 640 = 150; 640 * 200 / 480 = 266.7 -> 267.
        (&["--width", "200"], (200, 150), (200, 267)),
        (&["--height", "200"], (267, 200), (150, 200)),
        // Within both: landscape 640 * 100 / 480 = 133.3; portrait 480 * 100 / 640 = 75.
        (
            &["--width", "300", "--height", "100"],
            (133, 100),
            (75, 100),
        ),
        // Landscape: the width (250 / 640) is tighter than the long edge; 480 * 250 / 640 =
        // 187.5 -> 188. Portrait: the width again (250 / 480); 640 * 250 / 480 = 333.3.
        (
            &["--long-edge", "500", "--width", "250"],
            (250, 188),
            (250, 333),
        ),
        (
            &["--long-edge", "300", "--width", "1000", "--height", "1000"],
            (300, 225),
            (225, 300),
        ),
    ];
    for (options, land, port) in cases {
        let tmp = tempdir();
        let report = resize_all(tmp.path(), &files, options);
        assert_eq!(
            stored_size(&out(tmp.path(), "land.jpg")),
            land,
            "{options:?}"
        );
        assert_eq!(
            stored_size(&out(tmp.path(), "port.jpg")),
            port,
            "{options:?}"
        );
        let e = entry(&report, "land.jpg");
        assert_eq!(
            (e["width"].as_u64(), e["height"].as_u64()),
            (Some(u64::from(land.0)), Some(u64::from(land.1)))
        );
        assert_eq!(e["status"], "compressed");
        assert_eq!(e["method"], "pixel");
    }
}

#[test]
fn limits_apply_to_the_picture_as_displayed_and_the_orientation_tag_still_turns_it() {
    // Stored 640x480; orientations 5 to 8 show it 480x640.
    let files: Vec<(String, Vec<u8>)> = (1..=8u16)
        .map(|o| (format!("o{o}.jpg"), fixture(640, 480, o)))
        .collect();
    let tmp = tempdir();
    let report = resize_all(tmp.path(), &files, &["--width", "240"]);
    for o in 1..=8u16 {
        let name = format!("o{o}.jpg");
        let path = out(tmp.path(), &name);
        let quarter = o >= 5;
        // Displayed width 240: 240x180 for a landscape picture, 240x320 for one turned a quarter
        // (stored 320x240, the tag kept).
        let (displayed, stored) = if quarter {
            ((240, 320), (320, 240))
        } else {
            ((240, 180), (240, 180))
        };
        assert_eq!(stored_size(&path), stored, "{name}");
        assert_eq!(orientation(&path), o as u8, "{name}: tag kept");
        let e = entry(&report, &name);
        assert_eq!(
            (e["width"].as_u64(), e["height"].as_u64()),
            (Some(displayed.0), Some(displayed.1)),
            "{name}"
        );
        // What a viewer shows: the input shown and scaled.
        let mut shown = decode(&path);
        shown.apply_orientation(Orientation::from_exif(o as u8).expect("valid"));
        let mut expected = decode(&tmp.path().join("in").join(&name));
        expected.apply_orientation(Orientation::from_exif(o as u8).expect("valid"));
        let expected =
            expected.resize_exact(displayed.0 as u32, displayed.1 as u32, FilterType::Lanczos3);
        let diff = mean_abs_diff(&shown, &expected);
        assert!(diff < 6.0, "{name}: mean abs diff {diff}");
    }
}

#[test]
fn strip_turns_the_resized_pixels_upright() {
    let files: Vec<(String, Vec<u8>)> = [1u16, 3, 6, 8]
        .iter()
        .map(|&o| (format!("o{o}.jpg"), fixture(640, 480, o)))
        .collect();
    let tmp = tempdir();
    resize_all(tmp.path(), &files, &["--long-edge", "320", "--strip"]);
    for (name, _) in &files {
        let path = out(tmp.path(), name);
        let o: u8 = name[1..2].parse().expect("orientation");
        let displayed = if o >= 5 { (240, 320) } else { (320, 240) };
        assert_eq!(stored_size(&path), displayed, "{name}: upright");
        assert!(exif(&path).is_none(), "{name}: tag dropped");
        let mut expected = decode(&tmp.path().join("in").join(name));
        expected.apply_orientation(Orientation::from_exif(o).expect("valid"));
        let expected = expected.resize_exact(displayed.0, displayed.1, FilterType::Lanczos3);
        let diff = mean_abs_diff(&decode(&path), &expected);
        assert!(diff < 6.0, "{name}: mean abs diff {diff}");
    }
}

#[test]
fn a_real_portrait_photo_with_orientation_6() {
    // fig.jpg is stored 2572x1740 (landscape); tagged 6, it shows 1740x2572.
    let fig = fs::read(photo("fig.jpg")).expect("read fig");
    let files = vec![("fig6.jpg".to_string(), with_orientation(&fig, 6))];
    let tmp = tempdir();
    resize_all(tmp.path(), &files, &["--width", "870"]);
    let path = out(tmp.path(), "fig6.jpg");
    // Displayed width 870 = 1740 / 2; displayed height 2572 / 2 = 1286.
    assert_eq!(stored_size(&path), (1286, 870));
    assert_eq!(orientation(&path), 6);
    let tmp = tempdir();
    resize_all(tmp.path(), &files, &["--long-edge", "1286"]);
    assert_eq!(stored_size(&out(tmp.path(), "fig6.jpg")), (1286, 870));
}

#[test]
fn never_enlarged_without_upscale() {
    let files = vec![
        ("small.jpg".to_string(), fixture(400, 300, 0)),
        ("big.jpg".to_string(), fixture(900, 600, 0)),
    ];
    let tmp = tempdir();
    let report = resize_all(tmp.path(), &files, &["--long-edge", "500"]);
    assert_eq!(stored_size(&out(tmp.path(), "small.jpg")), (400, 300));
    assert_eq!(stored_size(&out(tmp.path(), "big.jpg")), (500, 333));
    let small = entry(&report, "small.jpg");
    assert!(small.get("width").is_none(), "not resized: {small}");
    // Recompressed as without limits (the transcoder takes it).
    assert_eq!(small["method"], "dct");

    let tmp = tempdir();
    let report = resize_all(tmp.path(), &files, &["--long-edge", "500", "--upscale"]);
    assert_eq!(stored_size(&out(tmp.path(), "small.jpg")), (500, 375));
    assert_eq!(stored_size(&out(tmp.path(), "big.jpg")), (500, 333));
    assert_eq!(entry(&report, "small.jpg")["width"], 500);
}

#[test]
fn odd_sizes_round_to_the_nearest_pixel_and_keep_at_least_one() {
    let files = vec![
        ("odd.jpg".to_string(), fixture(403, 301, 0)),
        ("strip.jpg".to_string(), fixture(1000, 3, 0)),
    ];
    let tmp = tempdir();
    resize_all(tmp.path(), &files, &["--width", "100"]);
    // 301 * 100 / 403 = 74.69 -> 75; 3 * 100 / 1000 = 0.3 -> at least 1.
    assert_eq!(stored_size(&out(tmp.path(), "odd.jpg")), (100, 75));
    assert_eq!(stored_size(&out(tmp.path(), "strip.jpg")), (100, 1));
    let tmp = tempdir();
    resize_all(tmp.path(), &files, &["--long-edge", "1"]);
    assert_eq!(stored_size(&out(tmp.path(), "odd.jpg")), (1, 1));
    assert_eq!(stored_size(&out(tmp.path(), "strip.jpg")), (1, 1));
}

#[test]
fn the_output_is_the_input_scaled() {
    // Through each DCT scaling: dogs 2056x3088 (progressive 4:2:0) to a long edge of 2000
    // (no scaling), 1500 (1/2), 700 (1/4), 300 (1/8); leaf (baseline 4:2:2, 1920x1200).
    let tmp = tempdir();
    let input = tmp.path().join("in");
    fs::create_dir_all(&input).expect("mkdir");
    for name in ["dogs.jpg", "leaf.jpg"] {
        fs::copy(photo(name), input.join(name)).expect("copy");
    }
    for edge in [2000u32, 1500, 700, 300] {
        let edge_text = edge.to_string();
        let run = run(
            tmp.path(),
            &[
                "in",
                "-o",
                "out",
                "--prefix",
                "",
                "-q",
                "90",
                "--long-edge",
                &edge_text,
            ],
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        for name in ["dogs.jpg", "leaf.jpg"] {
            let output = decode(&out(tmp.path(), name));
            let src = decode(&input.join(name));
            let (w, h) = (output.width(), output.height());
            // leaf's long edge is 1920: not enlarged to 2000.
            assert_eq!(w.max(h), edge.min(src.width().max(src.height())), "{name}");
            let expected = src.resize_exact(w, h, FilterType::Lanczos3);
            let diff = mean_abs_diff(&output, &expected);
            eprintln!("{name} at {edge}: mean abs diff {diff:.2}");
            assert!(diff < 3.0, "{name} at {edge}: mean abs diff {diff}");
            // The bound tells pictures apart: the same picture flipped is far off.
            let flipped = mean_abs_diff(&output, &expected.fliph());
            assert!(
                flipped > 4.0 * diff.max(1.0),
                "{name} at {edge}: flipped {flipped}"
            );
        }
    }
}

#[test]
fn gray_cmyk_and_progressive_inputs_resize_too() {
    let (w, h) = (500, 360);
    let rgb = pixels_of_size(w, h);
    let gray: Vec<u8> = rgb.chunks_exact(3).map(|p| p[1]).collect();
    let progressive = Fixture {
        progressive: true,
        chroma: (1, 1),
        ..Fixture::default()
    };
    let files = vec![
        (
            "gray.jpg".to_string(),
            encode_gray(&gray, w, h, &Fixture::default()),
        ),
        ("cmyk.jpg".to_string(), encode_adobe_cmyk(&rgb, w, h)),
        (
            "prog444.jpg".to_string(),
            encode_rgb(&rgb, w, h, &progressive),
        ),
    ];
    let tmp = tempdir();
    // At quality 90, so that the comparison sees the resizing rather than the quantization.
    resize_all(tmp.path(), &files, &["--width", "125", "-q", "90"]);
    for (name, _) in &files {
        let path = out(tmp.path(), name);
        assert_eq!(stored_size(&path), (125, 90), "{name}");
        let expected =
            decode(&tmp.path().join("in").join(name)).resize_exact(125, 90, FilterType::Lanczos3);
        let diff = mean_abs_diff(&decode(&path), &expected);
        eprintln!("{name}: mean abs diff {diff:.2}");
        assert!(diff < 4.0, "{name}: mean abs diff {diff}");
    }
    assert_eq!(
        decode(&out(tmp.path(), "gray.jpg")).color(),
        image::ColorType::L8
    );
    let data = fs::read(out(tmp.path(), "cmyk.jpg")).expect("read");
    let d = mozjpeg::Decompress::new_mem(&data).expect("header");
    assert_eq!(d.components().len(), 4, "still CMYK");
    // Colour outputs are 4:2:0, as on the pixel path.
    let data = fs::read(out(tmp.path(), "prog444.jpg")).expect("read");
    let d = mozjpeg::Decompress::new_mem(&data).expect("header");
    let c = d.components();
    assert_eq!((c[0].h_samp_factor, c[0].v_samp_factor), (2, 2));
    assert_eq!((c[1].h_samp_factor, c[1].v_samp_factor), (1, 1));
}

#[test]
fn a_resized_output_is_never_replaced_by_the_original() {
    // Made at quality 50, a photo re-encoded at 95 comes out larger: without limits the
    // original is kept; resized, the original (of another size) cannot stand in.
    let (w, h) = (640, 480);
    let low = Fixture {
        quality: 50,
        ..Fixture::default()
    };
    let files = vec![(
        "low.jpg".to_string(),
        encode_rgb(&pixels_of_size(w, h), w, h, &low),
    )];
    let tmp = tempdir();
    let report = resize_all(tmp.path(), &files, &["-q", "95"]);
    assert_eq!(entry(&report, "low.jpg")["status"], "kept-original");
    let tmp = tempdir();
    let report = resize_all(tmp.path(), &files, &["-q", "95", "--width", "600"]);
    let e = entry(&report, "low.jpg");
    assert_eq!(e["status"], "compressed");
    assert!(
        e["output_bytes"].as_u64() > e["input_bytes"].as_u64(),
        "larger, yet kept: {e}"
    );
    assert_eq!(stored_size(&out(tmp.path(), "low.jpg")), (600, 450));

    // A photopress output of a lower quality is copied as it is without limits; with them it
    // is resized.
    let tmp = tempdir();
    let files = vec![("big.jpg".to_string(), fixture(900, 600, 0))];
    resize_all(tmp.path(), &files, &["-q", "20"]);
    let made = fs::read(out(tmp.path(), "big.jpg")).expect("read");
    let again = tempdir();
    let files = vec![("made.jpg".to_string(), made.clone())];
    let report = resize_all(again.path(), &files, &[]);
    assert_eq!(entry(&report, "made.jpg")["status"], "kept-original");
    let again = tempdir();
    let report = resize_all(again.path(), &files, &["--long-edge", "300"]);
    assert_eq!(entry(&report, "made.jpg")["status"], "compressed");
    assert_eq!(stored_size(&out(again.path(), "made.jpg")), (300, 200));
}

#[test]
fn method_dct_still_resizes_on_the_pixel_path() {
    let files = vec![("a.jpg".to_string(), fixture(640, 480, 0))];
    let tmp = tempdir();
    let report = resize_all(
        tmp.path(),
        &files,
        &["--method", "dct", "--long-edge", "64"],
    );
    assert_eq!(stored_size(&out(tmp.path(), "a.jpg")), (64, 48));
    assert_eq!(entry(&report, "a.jpg")["method"], "pixel");
}

#[test]
fn bad_values_are_usage_errors_before_any_work() {
    let tmp = tempdir();
    let input = tmp.path().join("in");
    fs::create_dir_all(&input).expect("mkdir");
    fs::write(input.join("a.jpg"), fixture(64, 48, 0)).expect("write");
    for args in [
        &["--width", "0"][..],
        &["--height=-5"],
        &["--height", "-5"],
        &["--long-edge", "abc"],
        &["--long-edge", "1.5"],
        &["--width", "70000"],
        &["--upscale"],
    ] {
        let mut all = vec!["in", "-o", "out"];
        all.extend_from_slice(args);
        let run = run(tmp.path(), &all);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("error"), "{args:?}: {}", run.stderr);
        assert!(!tmp.path().join("out").exists(), "{args:?}: work was done");
    }
}

#[test]
fn the_pixel_limit_holds_for_enlargements() {
    let tmp = tempdir();
    let input = tmp.path().join("in");
    fs::create_dir_all(&input).expect("mkdir");
    fs::write(input.join("a.jpg"), fixture(640, 480, 0)).expect("write");
    // 65500 x 49125 is 3.2 gigapixels.
    let run = run(
        tmp.path(),
        &[
            "in",
            "-o",
            "out",
            "--long-edge",
            "65500",
            "--upscale",
            "--json",
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = json(&run);
    let e = entry(&report, "a.jpg");
    assert_eq!(e["status"], "failed");
    assert!(
        e["error"]
            .as_str()
            .is_some_and(|m| m.contains("65500x49125")),
        "{e}"
    );
}

#[test]
fn resizing_fits_a_memory_budget_a_full_decode_would_not() {
    // leaf.jpg, 1920x1200 baseline: about 18 MiB for a full decode and re-encode; resized to
    // 240x150 (libjpeg's 1/8 scaling) a few MiB.
    let tmp = tempdir();
    let input = tmp.path().join("in");
    fs::create_dir_all(&input).expect("mkdir");
    fs::copy(photo("leaf.jpg"), input.join("leaf.jpg")).expect("copy");
    let base = [
        "in",
        "-o",
        "out",
        "--prefix",
        "",
        "--json",
        "--max-memory",
        "6M",
    ];
    let run_full = run(tmp.path(), &base);
    assert_eq!(run_full.code, 1, "{}", run_full.stderr);
    let report = json(&run_full);
    assert!(
        entry(&report, "leaf.jpg")["error"]
            .as_str()
            .is_some_and(|m| m.contains("--max-memory")),
        "{report}"
    );
    let mut args = base.to_vec();
    args.extend_from_slice(&["--long-edge", "240"]);
    let resized = run(tmp.path(), &args);
    assert_eq!(resized.code, 0, "{}", resized.stderr);
    assert_eq!(stored_size(&out(tmp.path(), "leaf.jpg")), (240, 150));
}

#[test]
fn skip_existing_redoes_an_output_made_without_limits_or_with_others() {
    let files = vec![("a.jpg".to_string(), fixture(640, 480, 0))];
    let tmp = tempdir();
    resize_all(tmp.path(), &files, &[]);
    assert_eq!(stored_size(&out(tmp.path(), "a.jpg")), (640, 480));

    let report = resize_all(
        tmp.path(),
        &files,
        &["--skip-existing", "--long-edge", "320"],
    );
    assert_eq!(entry(&report, "a.jpg")["status"], "compressed");
    assert_eq!(stored_size(&out(tmp.path(), "a.jpg")), (320, 240));

    let report = resize_all(
        tmp.path(),
        &files,
        &["--skip-existing", "--long-edge", "320"],
    );
    assert_eq!(entry(&report, "a.jpg")["status"], "skipped");

    let report = resize_all(tmp.path(), &files, &["--skip-existing", "--width", "320"]);
    assert_eq!(
        entry(&report, "a.jpg")["status"],
        "compressed",
        "other limits"
    );

    let report = resize_all(tmp.path(), &files, &["--skip-existing"]);
    assert_eq!(entry(&report, "a.jpg")["status"], "compressed", "no limits");
    assert_eq!(stored_size(&out(tmp.path(), "a.jpg")), (640, 480));
}

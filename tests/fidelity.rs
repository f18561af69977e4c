//! Every kind of real-world JPEG comes out right: fixtures made from the repository's photos
//! (subsamplings, progressive, arithmetic, restart markers, grayscale, CMYK, orientation, ICC,
//! odd and extreme sizes), compressed by the real binary, checked by decoding the outputs with
//! an independent decoder.
mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::*;
use mozjpeg::Marker;

/// Writes each `(name, bytes)` into `dir/in` and runs photopress over it into `dir/out`.
fn compress_all(dir: &Path, files: &[(String, Vec<u8>)], extra: &[&str]) -> Run {
    let input = dir.join("in");
    fs::create_dir_all(&input).expect("mkdir in");
    for (name, data) in files {
        fs::write(input.join(name), data).expect("write fixture");
    }
    let mut args = vec!["in", "-o", "out", "--prefix", ""];
    args.extend_from_slice(extra);
    run(dir, &args)
}

fn out(dir: &Path, name: &str) -> PathBuf {
    dir.join("out").join(name)
}

#[test]
fn every_subsampling_and_coding_mode_comes_out_with_the_same_picture() {
    let (w, h) = (403, 301); // odd: not multiples of 8 or 16
    let rgb = pixels_of_size(w, h);
    let mut files = Vec::new();
    for (label, chroma) in [
        ("444", (1, 1)),
        ("422", (2, 1)),
        ("420", (2, 2)),
        ("411", (4, 1)),
        ("440", (1, 2)),
    ] {
        for progressive in [false, true] {
            let f = Fixture {
                chroma,
                progressive,
                ..Fixture::default()
            };
            let name = format!(
                "{label}_{}.jpg",
                if progressive {
                    "progressive"
                } else {
                    "baseline"
                }
            );
            files.push((name, encode_rgb(&rgb, w, h, &f)));
        }
    }
    let base = encode_rgb(&rgb, w, h, &Fixture::default());
    files.push((
        "arithmetic.jpg".into(),
        jpeg_tool("jpegtran", &["-arithmetic"], &base),
    ));
    files.push((
        "arithmetic_progressive.jpg".into(),
        jpeg_tool("jpegtran", &["-arithmetic", "-progressive"], &base),
    ));
    let ppm = jpeg_tool("djpeg", &["-ppm"], &base);
    files.push((
        "restart.jpg".into(),
        jpeg_tool("cjpeg", &["-restart", "1", "-quality", "90"], &ppm),
    ));
    files.push((
        "restart_blocks.jpg".into(),
        jpeg_tool("cjpeg", &["-restart", "3B", "-quality", "90"], &ppm),
    ));

    let tmp = tempdir();
    let run = compress_all(tmp.path(), &files, &["--allow-larger"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // The reference decoder reads no arithmetic coding; jpegtran's conversion is lossless, so
    // those files hold the same picture as `base`.
    let base_path = tmp.path().join("base.jpg");
    fs::write(&base_path, &base).expect("write base");
    for (name, _) in &files {
        let input = if name.starts_with("arithmetic") {
            decode(&base_path)
        } else {
            decode(&tmp.path().join("in").join(name))
        };
        let output = decode(&out(tmp.path(), name));
        assert_eq!(
            (output.width(), output.height()),
            (w as u32, h as u32),
            "{name}"
        );
        assert_close(mean_rgb(&output), mean_rgb(&input), 2.5, name);
        // Same picture, pixel by pixel, within what quality 30 costs.
        let diff = mean_abs_diff(&output, &input);
        assert!(diff < 8.0, "{name}: mean abs diff {diff}");
    }
}

#[test]
fn grayscale_stays_grayscale() {
    let (w, h) = (250, 170);
    let gray: Vec<u8> = pixels_of_size(w, h).chunks_exact(3).map(|p| p[1]).collect();
    let tmp = tempdir();
    let files = vec![(
        "gray.jpg".to_string(),
        encode_gray(&gray, w, h, &Fixture::default()),
    )];
    let run = compress_all(tmp.path(), &files, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let output = decode(&out(tmp.path(), "gray.jpg"));
    assert_eq!(output.color(), image::ColorType::L8);
    let input = decode(&tmp.path().join("in/gray.jpg"));
    assert!(mean_abs_diff(&output, &input) < 6.0);
}

#[test]
fn adobe_cmyk_keeps_its_colours() {
    let (w, h) = (320, 200);
    let rgb = pixels_of_size(w, h);
    let tmp = tempdir();
    let files = vec![("cmyk.jpg".to_string(), encode_adobe_cmyk(&rgb, w, h))];
    let run = compress_all(tmp.path(), &files, &["--allow-larger"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let input = decode(&tmp.path().join("in/cmyk.jpg"));
    let output = decode(&out(tmp.path(), "cmyk.jpg"));
    // What a CMYK-aware decoder shows for the input, it shows for the output: no negative,
    // no black picture.
    assert_close(mean_rgb(&output), mean_rgb(&input), 3.0, "cmyk");
    let original = image::DynamicImage::ImageRgb8(
        image::RgbImage::from_raw(w as u32, h as u32, rgb).expect("fits"),
    );
    assert_close(
        mean_rgb(&output),
        mean_rgb(&original),
        6.0,
        "cmyk against the source photo",
    );
    // And the output is still a four-channel JPEG (the Adobe segment says how to read it).
    let data = fs::read(out(tmp.path(), "cmyk.jpg")).expect("read");
    let d = mozjpeg::Decompress::new_mem(&data).expect("header");
    assert_eq!(d.components().len(), 4);
}

/// `orient1.jpg` ... `orient8.jpg`: the same `w` x `h` picture with EXIF orientations 1 to 8.
fn orientation_fixtures(w: usize, h: usize) -> Vec<(String, Vec<u8>)> {
    let rgb = pixels_of_size(w, h);
    (1..=8u16)
        .map(|o| {
            let f = Fixture {
                markers: vec![(Marker::APP(1), exif_segment(o))],
                ..Fixture::default()
            };
            (format!("orient{o}.jpg"), encode_rgb(&rgb, w, h, &f))
        })
        .collect()
}

#[test]
fn orientation_tag_is_kept_with_the_pixels_as_they_are() {
    let (w, h) = (96, 64);
    let tmp = tempdir();
    let files = orientation_fixtures(w, h);
    let run = compress_all(tmp.path(), &files, &["--allow-larger"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for o in 1..=8u8 {
        let path = out(tmp.path(), &format!("orient{o}.jpg"));
        assert_eq!(orientation(&path), o, "tag of orient{o}");
        let img = decode(&path);
        assert_eq!(
            (img.width(), img.height()),
            (w as u32, h as u32),
            "stored pixels of orient{o}"
        );
    }
}

#[test]
fn strip_applies_the_orientation_to_the_pixels_and_drops_the_tag() {
    let (w, h) = (96, 64);
    let tmp = tempdir();
    let files = orientation_fixtures(w, h);
    let run = compress_all(tmp.path(), &files, &["--strip"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for o in 1..=8u8 {
        let name = format!("orient{o}.jpg");
        let path = out(tmp.path(), &name);
        assert!(exif(&path).is_none(), "{name} still has EXIF");
        // What a viewer shows: the input with its tag applied, the output as stored.
        let mut shown = decode(&tmp.path().join("in").join(&name));
        shown.apply_orientation(image::metadata::Orientation::from_exif(o).expect("valid"));
        let output = decode(&path);
        assert_eq!(
            (output.width(), output.height()),
            (shown.width(), shown.height()),
            "{name}"
        );
        let diff = mean_abs_diff(&output, &shown);
        assert!(
            diff < 10.0,
            "{name}: output is not the upright picture (diff {diff})"
        );
    }
}

#[test]
fn icc_profiles_are_kept_even_when_split_across_segments() {
    let (w, h) = (120, 80);
    let rgb = pixels_of_size(w, h);
    let small = icc_profile_bytes(3_144, b"Display P3");
    let large = icc_profile_bytes(140_000, b"ProPhoto RGB"); // three APP2 segments
    let with = |profile: &[u8], chunk| Fixture {
        markers: icc_segments(profile, chunk),
        ..Fixture::default()
    };
    let files = vec![
        (
            "p3.jpg".to_string(),
            encode_rgb(&rgb, w, h, &with(&small, 65_519)),
        ),
        (
            "prophoto.jpg".to_string(),
            encode_rgb(&rgb, w, h, &with(&large, 65_519)),
        ),
    ];
    for strip in [false, true] {
        let tmp = tempdir();
        let run = compress_all(tmp.path(), &files, if strip { &["--strip"] } else { &[] });
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(
            icc_profile(&out(tmp.path(), "p3.jpg")).as_deref(),
            Some(&small[..]),
            "strip={strip}"
        );
        assert_eq!(
            icc_profile(&out(tmp.path(), "prophoto.jpg")).as_deref(),
            Some(&large[..]),
            "strip={strip}"
        );
    }
    let tmp = tempdir();
    let run = compress_all(tmp.path(), &files, &["--strip", "--strip-icc"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(icc_profile(&out(tmp.path(), "p3.jpg")), None);
}

#[test]
fn exif_and_comments_are_kept_by_default_and_stripped_on_request() {
    let (w, h) = (120, 80);
    let rgb = pixels_of_size(w, h);
    let f = Fixture {
        markers: vec![
            (Marker::APP(1), exif_segment(1)),
            (Marker::COM, b"taken by a test".to_vec()),
        ],
        ..Fixture::default()
    };
    let files = vec![("meta.jpg".to_string(), encode_rgb(&rgb, w, h, &f))];
    let tmp = tempdir();
    assert_eq!(
        compress_all(tmp.path(), &files, &["--allow-larger"]).code,
        0
    );
    let kept = fs::read(out(tmp.path(), "meta.jpg")).expect("read");
    assert!(exif(&out(tmp.path(), "meta.jpg")).is_some());
    assert!(kept.windows(15).any(|w| w == b"taken by a test"));
    let tmp = tempdir();
    assert_eq!(compress_all(tmp.path(), &files, &["--strip"]).code, 0);
    let stripped = fs::read(out(tmp.path(), "meta.jpg")).expect("read");
    assert!(exif(&out(tmp.path(), "meta.jpg")).is_none());
    assert!(!stripped.windows(15).any(|w| w == b"taken by a test"));
}

#[test]
fn extreme_sizes() {
    let tmp = tempdir();
    let mut files = Vec::new();
    for (w, h) in [(1, 1), (20_000, 8), (8, 20_000), (17, 9), (33, 65)] {
        files.push((
            format!("{w}x{h}.jpg"),
            encode_rgb(&pixels_of_size(w, h), w, h, &Fixture::default()),
        ));
    }
    let run = compress_all(tmp.path(), &files, &["--allow-larger"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for (w, h) in [(1, 1), (20_000, 8), (8, 20_000), (17, 9), (33, 65)] {
        let img = decode(&out(tmp.path(), &format!("{w}x{h}.jpg")));
        assert_eq!((img.width(), img.height()), (w as u32, h as u32));
    }
}

#[test]
fn a_40_megapixel_photo() {
    let (w, h) = (7_744, 5_184); // 40.1 MP, a full-frame camera's size
    let rgb = pixels_of_size(w, h);
    let tmp = tempdir();
    let files = vec![(
        "big.jpg".to_string(),
        encode_rgb(&rgb, w, h, &Fixture::default()),
    )];
    let run = compress_all(tmp.path(), &files, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let img = decode(&out(tmp.path(), "big.jpg"));
    assert_eq!((img.width(), img.height()), (w as u32, h as u32));
}

#[test]
fn never_larger_the_original_is_kept_instead() {
    // Already quality 20: re-encoding at 95 would grow it.
    let (w, h) = (200, 150);
    let small = encode_rgb(
        &pixels_of_size(w, h),
        w,
        h,
        &Fixture {
            quality: 20,
            ..Fixture::default()
        },
    );
    let files = vec![("q20.jpg".to_string(), small.clone())];
    let tmp = tempdir();
    let run = compress_all(tmp.path(), &files, &["-q", "95", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fs::read(out(tmp.path(), "q20.jpg")).expect("read"), small);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(report["files"][0]["status"], "kept-original");
    assert_eq!(report["totals"]["kept_original"], 1);
    assert_eq!(
        report["totals"]["output_bytes"].as_u64(),
        Some(small.len() as u64)
    );

    let tmp = tempdir();
    let run = compress_all(tmp.path(), &files, &["-q", "95", "--allow-larger"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(fs::metadata(out(tmp.path(), "q20.jpg")).expect("out").len() > small.len() as u64);
    assert!(
        run.stdout.contains("Files compressed 1, failed 0"),
        "{}",
        run.stdout
    );
}

#[test]
fn best_mode_writes_smaller_files_of_the_same_picture() {
    let tmp = tempdir();
    copy_photos(tmp.path());
    let fast = run(tmp.path(), &["-o", "fast", "--json"]);
    let best = run(tmp.path(), &["-o", "best", "--json", "--best"]);
    assert_eq!((fast.code, best.code), (0, 0), "{}", best.stderr);
    let bytes = |stdout: &str| -> u64 {
        let v: serde_json::Value = serde_json::from_str(stdout).expect("json");
        v["totals"]["output_bytes"].as_u64().expect("bytes")
    };
    let (fast_bytes, best_bytes) = (bytes(&fast.stdout), bytes(&best.stdout));
    assert!(
        best_bytes * 10 < fast_bytes * 9,
        "--best {best_bytes} vs {fast_bytes}"
    );
    for name in PHOTOS {
        let input = decode(&photo(name));
        let output = decode(&tmp.path().join("best").join(format!("compressed_{name}")));
        assert_eq!(
            (output.width(), output.height()),
            (input.width(), input.height())
        );
        assert_close(mean_rgb(&output), mean_rgb(&input), 2.5, name);
    }
}

//! Every kind of real-world JPEG comes out right: fixtures made from the repository's photos
//! (subsamplings, progressive, arithmetic, restart markers, grayscale, CMYK, odd and extreme
//! sizes), compressed by the real binary, checked by decoding the outputs with an independent
//! decoder; an output is never larger than its input unless allowed, `--best` writes smaller
//! files of the same picture, and every quality gives a baseline file unless `--extended`.

use std::fs;

use crate::common::*;

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

/// Byte offset of the first SOFn marker's code, and the precision bits of every DQT table.
fn sof_and_table_precisions(jpeg: &[u8]) -> (u8, Vec<u8>) {
    let mut i = 2;
    let mut precisions = Vec::new();
    while i + 4 <= jpeg.len() {
        let code = jpeg[i + 1];
        let len = usize::from(u16::from_be_bytes([jpeg[i + 2], jpeg[i + 3]]));
        if code == 0xDB {
            let mut body = &jpeg[i + 4..i + 2 + len];
            while !body.is_empty() {
                let pq = body[0] >> 4;
                precisions.push(pq);
                body = &body[1 + if pq == 0 { 64 } else { 128 }..];
            }
        }
        if matches!(code, 0xC0..=0xC3) {
            return (code, precisions);
        }
        i += 2 + len;
    }
    panic!("no SOF");
}

#[test]
fn every_quality_gives_a_baseline_file_unless_extended_is_asked() {
    let tmp = tempdir();
    let images = copy_photos(tmp.path());
    let (pixels, w, h) = photo_pixels("fig.jpg", 2);
    let f444 = Fixture {
        chroma: (1, 1),
        ..Fixture::default()
    };
    fs::write(images.join("s444.jpg"), encode_rgb(&pixels, w, h, &f444)).expect("write");
    let before = snapshot(&images);
    for q in ["1", "10", "23", "24", "30"] {
        let out = format!("q{q}");
        let run = run(
            tmp.path(),
            &["IMAGES", "-o", &out, "-q", q, "--allow-larger"],
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        for name in file_names(&tmp.path().join(&out)) {
            let data = fs::read(tmp.path().join(&out).join(&name)).expect("read");
            let (sof, precisions) = sof_and_table_precisions(&data);
            assert_eq!(sof, 0xC0, "q{q} {name}: SOF 0x{sof:02x}");
            assert!(
                precisions.iter().all(|&p| p == 0),
                "q{q} {name}: 16-bit tables"
            );
            let decoded = jpeg_tool("djpeg", &[], &data);
            assert!(!decoded.is_empty());
        }
    }
    let run = run(
        tmp.path(),
        &["IMAGES", "-o", "ext", "-q", "10", "--extended"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let data = fs::read(tmp.path().join("ext/compressed_leaf.jpg")).expect("read");
    assert_eq!(sof_and_table_precisions(&data).0, 0xC1);
    assert_unchanged(&before, &images);
}

//! `--progressive` and `--lossless` through the binary: progressive outputs (SOF2) decode to
//! the very pixels of the baseline outputs at the same quality; `--lossless` outputs decode
//! to the input's pixels, are never larger, keep each component's quantization table, and
//! work with `--strip`, `--progressive`, `--skip-existing` and the JSON report. Pictures are
//! compared byte for byte as two independent decoders give them (libjpeg-turbo's `djpeg` and
//! the `image` crate's).

use std::fs;
use std::path::{Path, PathBuf};

use crate::common::*;
use mozjpeg::Marker;
use serde_json::Value;

/// The frame marker's code (C0 baseline, C1 extended, C2 progressive).
fn sof(data: &[u8]) -> u8 {
    markers(data)
        .into_iter()
        .find(|(code, _)| matches!(code, 0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF))
        .map(|(code, _)| code)
        .expect("a frame header")
}

/// The segments before the first scan: (marker code, payload).
fn markers(data: &[u8]) -> Vec<(u8, Vec<u8>)> {
    assert_eq!(&data[..2], [0xFF, 0xD8], "SOI");
    let mut out = Vec::new();
    let mut pos = 2;
    while pos + 4 <= data.len() {
        assert_eq!(data[pos], 0xFF, "marker expected at {pos}");
        let code = data[pos + 1];
        let len = usize::from(u16::from_be_bytes([data[pos + 2], data[pos + 3]]));
        out.push((code, data[pos + 4..pos + 2 + len].to_vec()));
        if code == 0xDA {
            break;
        }
        pos += 2 + len;
    }
    out
}

/// The number of scans (SOS markers outside entropy-coded data: `FF DA` is never stuffed data).
fn scans(data: &[u8]) -> usize {
    data.windows(2).filter(|w| w == &[0xFF, 0xDA]).count()
}

/// The quantization tables of each component, in frame order (64 values, zigzag order).
fn component_tables(data: &[u8]) -> Vec<Vec<u16>> {
    let segs = markers(data);
    let mut slots: Vec<Option<Vec<u16>>> = vec![None; 4];
    for (_, body) in segs.iter().filter(|(c, _)| *c == 0xDB) {
        let mut body = body.as_slice();
        while !body.is_empty() {
            let wide = body[0] >> 4 == 1;
            let id = usize::from(body[0] & 15);
            let size = if wide { 128 } else { 64 };
            let values = &body[1..1 + size];
            slots[id] = Some(if wide {
                values
                    .chunks(2)
                    .map(|c| u16::from_be_bytes([c[0], c[1]]))
                    .collect()
            } else {
                values.iter().map(|&v| u16::from(v)).collect()
            });
            body = &body[1 + size..];
        }
    }
    let (_, frame) = segs
        .iter()
        .find(|(c, _)| matches!(c, 0xC0..=0xC2))
        .expect("SOF");
    frame[6..]
        .chunks(3)
        .map(|c| slots[usize::from(c[2])].clone().expect("defined table"))
        .collect()
}

/// The picture as libjpeg-turbo's `djpeg` and as the `image` crate decode it.
fn pictures(data: &[u8], dir: &Path) -> (Vec<u8>, Vec<u8>) {
    let djpeg = jpeg_tool("djpeg", &["-ppm"], data);
    let path = dir.join("picture.jpg");
    fs::write(&path, data).expect("write");
    let image = decode(&path).to_rgb8().into_raw();
    (djpeg, image)
}

fn assert_same_pixels(a: &[u8], b: &[u8], dir: &Path, what: &str) {
    let (a_djpeg, a_image) = pictures(a, dir);
    let (b_djpeg, b_image) = pictures(b, dir);
    assert!(a_djpeg == b_djpeg, "{what}: djpeg decodes different pixels");
    assert!(
        a_image == b_image,
        "{what}: the image crate decodes different pixels"
    );
}

/// The output folder's files by input name (the `compressed_` prefix taken off).
fn outputs(dir: &Path) -> Vec<(String, Vec<u8>)> {
    files_below(dir)
        .into_iter()
        .map(|(name, data)| {
            let name = name
                .strip_prefix("compressed_")
                .unwrap_or(&name)
                .to_string();
            (name, data)
        })
        .collect()
}

/// Fixtures of each layout the transcoder writes, plus the repository's photos.
fn inputs(dir: &Path) -> PathBuf {
    let images = copy_photos(dir);
    let (w, h) = (203, 141);
    let pixels = pixels_of_size(w, h);
    for (name, chroma) in [
        ("f420.jpg", (2, 2)),
        ("f444.jpg", (1, 1)),
        ("f422.jpg", (2, 1)),
    ] {
        let fixture = Fixture {
            chroma,
            ..Fixture::default()
        };
        fs::write(images.join(name), encode_rgb(&pixels, w, h, &fixture)).expect("write");
    }
    let gray: Vec<u8> = pixels.chunks(3).map(|p| p[1]).collect();
    fs::write(
        images.join("gray.jpg"),
        encode_gray(&gray, w, h, &Fixture::default()),
    )
    .expect("write");
    let progressive = Fixture {
        progressive: true,
        ..Fixture::default()
    };
    fs::write(
        images.join("prog420.jpg"),
        encode_rgb(&pixels, w, h, &progressive),
    )
    .expect("write");
    images
}

fn run_ok(dir: &Path, args: &[&str]) -> Value {
    let mut all = vec!["--json", "--sequential"];
    all.extend_from_slice(args);
    let run = run(dir, &all);
    assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
    json(&run)
}

#[test]
fn progressive_outputs_have_the_baseline_outputs_pixels() {
    let dir = tempdir();
    let images = inputs(dir.path());
    let images = images.to_str().expect("utf-8 path");
    for quality in ["30", "80"] {
        let base = dir.path().join(format!("base{quality}"));
        let prog = dir.path().join(format!("prog{quality}"));
        run_ok(
            dir.path(),
            &[
                images,
                "--method",
                "dct",
                "-q",
                quality,
                "--allow-larger",
                "-o",
                base.to_str().expect("utf-8"),
            ],
        );
        let report = run_ok(
            dir.path(),
            &[
                images,
                "--method",
                "dct",
                "-q",
                quality,
                "--allow-larger",
                "--progressive",
                "-o",
                prog.to_str().expect("utf-8"),
            ],
        );
        for file in report["files"].as_array().expect("files") {
            assert_eq!(file["progressive"], true, "{file}");
            assert_eq!(file["method"], "dct", "{file}");
        }
        let (base, prog) = (outputs(&base), outputs(&prog));
        assert_eq!(base.len(), 9);
        let (mut base_total, mut prog_total) = (0, 0);
        for ((name, b), (name2, p)) in base.iter().zip(&prog) {
            assert_eq!(name, name2);
            assert_eq!(sof(b), 0xC0, "{name}");
            assert_eq!(sof(p), 0xC2, "{name}");
            // DC, then AC in at least one scan (the layout is chosen per component).
            assert!(scans(p) >= 2, "{name}: {} scans", scans(p));
            assert_same_pixels(b, p, dir.path(), &format!("{name} at q{quality}"));
            base_total += b.len();
            prog_total += p.len();
        }
        assert!(
            prog_total < base_total,
            "q{quality}: progressive {prog_total} bytes, baseline {base_total}"
        );
    }
}

#[test]
fn the_pixel_path_writes_progressive_outputs_too() {
    let dir = tempdir();
    let images = copy_photos(dir.path());
    let images = images.to_str().expect("utf-8 path");
    run_ok(
        dir.path(),
        &[images, "--method", "pixel", "--allow-larger", "-o", "base"],
    );
    let report = run_ok(
        dir.path(),
        &[
            images,
            "--method",
            "pixel",
            "--allow-larger",
            "--progressive",
            "-o",
            "prog",
        ],
    );
    for file in report["files"].as_array().expect("files") {
        assert_eq!(file["progressive"], true, "{file}");
        assert_eq!(file["method"], "pixel", "{file}");
    }
    for ((name, b), (_, p)) in outputs(&dir.path().join("base"))
        .iter()
        .zip(&outputs(&dir.path().join("prog")))
    {
        assert_eq!((sof(b), sof(p)), (0xC0, 0xC2), "{name}");
        // libjpeg's progressive mode codes the same coefficients.
        assert_same_pixels(b, p, dir.path(), name);
    }
}

/// Pictures where the scan writer's edge cases happen: a flat picture of more than 0x7FFF
/// blocks (end-of-band runs longer than one symbol codes), noise at quality 100 (large
/// values: many correction bits held back for one end-of-band run), sizes that are not
/// multiples of a block or an MCU, and a black picture at quality 100 (DC -1024).
fn edge_inputs(dir: &Path) -> PathBuf {
    let images = dir.join("edges");
    fs::create_dir_all(&images).expect("mkdir");
    let flat = vec![128u8; 1600 * 1600 * 3];
    let f = Fixture::default();
    fs::write(images.join("flat.jpg"), encode_rgb(&flat, 1600, 1600, &f)).expect("write");
    let mut seed = 12345u32;
    let noise: Vec<u8> = (0..300 * 200 * 3)
        .map(|_| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (seed >> 16) as u8
        })
        .collect();
    let q100 = Fixture {
        quality: 100,
        chroma: (1, 1),
        ..Fixture::default()
    };
    fs::write(
        images.join("noise.jpg"),
        encode_rgb(&noise, 300, 200, &q100),
    )
    .expect("write");
    let black = vec![0u8; 64 * 48 * 3];
    fs::write(images.join("black.jpg"), encode_rgb(&black, 64, 48, &q100)).expect("write");
    for (w, h) in [(1, 1), (17, 9), (9, 33)] {
        let pixels = pixels_of_size(w, h);
        fs::write(
            images.join(format!("odd{w}x{h}.jpg")),
            encode_rgb(&pixels, w, h, &f),
        )
        .expect("write");
    }
    images
}

#[test]
fn edge_cases_of_the_scan_writer_decode_exactly() {
    let dir = tempdir();
    let images = edge_inputs(dir.path());
    let images = images.to_str().expect("utf-8 path");
    for (label, extra) in [("q", vec!["-q", "95"]), ("lossless", vec!["--lossless"])] {
        let base = format!("{label}-base");
        let prog = format!("{label}-prog");
        let mut args = vec![images, "--method", "dct", "--allow-larger", "-o", &base];
        if label == "lossless" {
            args.remove(1);
            args.remove(1);
        }
        args.extend(&extra);
        run_ok(dir.path(), &args);
        let mut args = args.clone();
        let at = args.iter().position(|a| *a == base.as_str()).expect("-o");
        args[at] = &prog;
        args.push("--progressive");
        run_ok(dir.path(), &args);
        for ((name, b), (_, p)) in outputs(&dir.path().join(&base))
            .iter()
            .zip(&outputs(&dir.path().join(&prog)))
        {
            assert_eq!(sof(p), 0xC2, "{name}");
            assert_same_pixels(b, p, dir.path(), &format!("{label}: {name}"));
        }
    }
}

#[test]
fn lossless_outputs_have_the_inputs_pixels_and_are_not_larger() {
    let dir = tempdir();
    let images = inputs(dir.path());
    // Three tables: Y, Cb and Cr each their own.
    let ppm = jpeg_tool(
        "djpeg",
        &["-ppm"],
        &fs::read(images.join("f444.jpg")).expect("read"),
    );
    let qtables = dir.path().join("qtables.txt");
    let text: Vec<String> = (0..3u32)
        .map(|t| {
            let row: Vec<String> = (0..64u32)
                .map(|i| (2 + 3 * t + (i / 8 + i % 8) * (t + 1)).to_string())
                .collect();
            row.join(" ")
        })
        .collect();
    fs::write(&qtables, text.join("\n")).expect("write");
    let qtables = qtables.to_str().expect("utf-8 path");
    let three = jpeg_tool(
        "cjpeg",
        &["-qtables", qtables, "-qslots", "0,1,2", "-sample", "1x1"],
        &ppm,
    );
    fs::write(images.join("three_tables.jpg"), &three).expect("write");
    // 16-bit tables (quality 5 without -baseline) and a black picture at quality 100.
    fs::write(
        images.join("wide_tables.jpg"),
        jpeg_tool("cjpeg", &["-quality", "5"], &ppm),
    )
    .expect("write");
    fs::write(
        images.join("black.jpg"),
        encode_rgb(
            &vec![0u8; 40 * 24 * 3],
            40,
            24,
            &Fixture {
                quality: 100,
                ..Fixture::default()
            },
        ),
    )
    .expect("write");
    let images_arg = images.to_str().expect("utf-8 path");
    for progressive in [false, true] {
        let out = if progressive { "prog" } else { "base" };
        let mut args = vec![images_arg, "--lossless", "-o", out];
        if progressive {
            args.push("--progressive");
        }
        let report = run_ok(dir.path(), &args);
        for file in report["files"].as_array().expect("files") {
            assert!(
                file["status"] == "compressed" || file["status"] == "kept-original",
                "{file}"
            );
            assert!(
                file["output_bytes"].as_u64() <= file["input_bytes"].as_u64(),
                "{file}"
            );
        }
        let outs = outputs(&dir.path().join(out));
        assert_eq!(outs.len(), 12);
        for (name, data) in &outs {
            let input = fs::read(images.join(name)).expect("read input");
            assert!(
                data.len() <= input.len(),
                "{name}: {} > {}",
                data.len(),
                input.len()
            );
            assert_same_pixels(&input, data, dir.path(), &format!("lossless {name}"));
            assert_eq!(component_tables(data), component_tables(&input), "{name}");
            // Baseline (extended with 16-bit tables) unless asked, whatever the input's mode.
            let want = match (progressive, sof(&input)) {
                (true, _) => 0xC2,
                (false, 0xC1) => 0xC1,
                (false, _) => 0xC0,
            };
            if data != &input {
                assert_eq!(sof(data), want, "{name}");
            }
        }
        let three_out = &outs
            .iter()
            .find(|(n, _)| n == "three_tables.jpg")
            .expect("output")
            .1;
        let tables = component_tables(three_out);
        assert!(
            tables[0] != tables[1] && tables[1] != tables[2],
            "three distinct tables"
        );
    }
}

#[test]
fn lossless_with_strip_drops_the_metadata_and_keeps_the_pixels() {
    let dir = tempdir();
    let images = dir.path().join("in");
    fs::create_dir_all(&images).expect("mkdir");
    let pixels = pixels_of_size(120, 80);
    let with_meta = |orientation: u16| Fixture {
        markers: vec![
            (Marker::APP(1), exif_segment(orientation)),
            (Marker::COM, b"a comment".to_vec()),
        ],
        ..Fixture::default()
    };
    fs::write(
        images.join("upright.jpg"),
        encode_rgb(&pixels, 120, 80, &with_meta(1)),
    )
    .expect("write");
    fs::write(
        images.join("rotated.jpg"),
        encode_rgb(&pixels, 120, 80, &with_meta(6)),
    )
    .expect("write");
    let before = files_below(&images);
    let report = run_ok(dir.path(), &["in", "--lossless", "--strip", "-o", "out"]);
    assert_eq!(files_below(&images), before, "inputs unchanged");
    for file in report["files"].as_array().expect("files") {
        assert_eq!(file["status"], "compressed", "{file}");
    }
    for (name, data) in outputs(&dir.path().join("out")) {
        let input = fs::read(images.join(&name)).expect("read");
        assert_same_pixels(&input, &data, dir.path(), &name);
        let segs = markers(&data);
        let comments: Vec<&Vec<u8>> = segs
            .iter()
            .filter(|(c, _)| *c == 0xFE)
            .map(|(_, b)| b)
            .collect();
        assert_eq!(comments.len(), 1, "{name}: the provenance marker only");
        assert!(comments[0].starts_with(b"photopress q=100; s="), "{name}");
        let exif: Vec<&Vec<u8>> = segs
            .iter()
            .filter(|(c, _)| *c == 0xE1)
            .map(|(_, b)| b)
            .collect();
        let path = dir.path().join("out").join(format!("compressed_{name}"));
        if name == "rotated.jpg" {
            // The pixels cannot be turned losslessly: the orientation tag alone is kept.
            assert_eq!(exif.len(), 1, "{name}");
            assert!(
                exif[0].len() <= 40,
                "{name}: {} bytes of EXIF",
                exif[0].len()
            );
            assert_eq!(orientation(&path), 6, "{name}");
        } else {
            assert!(exif.is_empty(), "{name}");
            assert_eq!(orientation(&path), 1, "{name}");
        }
    }
}

#[test]
fn skip_existing_redoes_outputs_made_in_another_mode() {
    let dir = tempdir();
    let images = inputs(dir.path());
    let images = images.to_str().expect("utf-8 path");
    let statuses = |report: &Value| -> Vec<String> {
        report["files"]
            .as_array()
            .expect("files")
            .iter()
            .map(|f| f["status"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let report = run_ok(dir.path(), &[images, "--skip-existing"]);
    assert!(
        statuses(&report).iter().all(|s| s == "compressed"),
        "{report}"
    );
    assert!(
        report["files"]
            .as_array()
            .expect("files")
            .iter()
            .all(|f| f["progressive"] == false)
    );
    // Baseline outputs are redone when progressive ones are asked for, then left alone.
    let report = run_ok(dir.path(), &[images, "--skip-existing", "--progressive"]);
    assert!(
        statuses(&report).iter().all(|s| s == "compressed"),
        "{report}"
    );
    for (name, data) in outputs(&dir.path().join("COMPRESSED_IMAGES")) {
        assert_eq!(sof(&data), 0xC2, "{name}");
    }
    let report = run_ok(dir.path(), &[images, "--skip-existing", "--progressive"]);
    assert!(statuses(&report).iter().all(|s| s == "skipped"), "{report}");
    // --lossless outputs are others again; a second lossless run skips those it wrote (an
    // original kept as it was has no marker to say how it was made, and is redone).
    let first = statuses(&run_ok(
        dir.path(),
        &[images, "--skip-existing", "--lossless"],
    ));
    assert!(first.iter().all(|s| s != "skipped"), "{first:?}");
    assert!(
        first.iter().filter(|s| *s == "compressed").count() >= 5,
        "{first:?}"
    );
    let second = statuses(&run_ok(
        dir.path(),
        &[images, "--skip-existing", "--lossless"],
    ));
    for (a, b) in first.iter().zip(&second) {
        if a == "compressed" {
            assert_eq!(b, "skipped", "{first:?} then {second:?}");
        }
    }
}

#[test]
fn lossless_refuses_a_quality_and_fails_what_it_cannot_keep() {
    let dir = tempdir();
    let images = dir.path().join("in");
    fs::create_dir_all(&images).expect("mkdir");
    let run1 = run(dir.path(), &["in", "--lossless", "-q", "50"]);
    assert_eq!(run1.code, 2, "{}", run1.stderr);
    assert!(run1.stderr.contains("--lossless"), "{}", run1.stderr);
    let plain = encode_rgb(&pixels_of_size(64, 64), 64, 64, &Fixture::default());
    fs::write(images.join("plain.jpg"), &plain).expect("write");
    fs::write(
        images.join("arith.jpg"),
        jpeg_tool("jpegtran", &["-arithmetic"], &plain),
    )
    .expect("write");
    let run2 = run(dir.path(), &["in", "--lossless", "--json", "-o", "out"]);
    assert_eq!(run2.code, 1, "{}", run2.stderr);
    let report = json(&run2);
    for file in report["files"].as_array().expect("files") {
        let name = file["input"].as_str().unwrap_or_default();
        if name.ends_with("arith.jpg") {
            assert_eq!(file["status"], "failed", "{file}");
            let error = file["error"].as_str().unwrap_or_default();
            assert!(
                error.contains("--lossless") && error.contains("arithmetic"),
                "{error}"
            );
        } else {
            assert_eq!(file["status"], "compressed", "{file}");
        }
    }
    assert!(!dir.path().join("out/compressed_arith.jpg").exists());
}

//! Metadata through the binary: the EXIF orientation kept with the pixels as they are, or
//! applied to them by `--strip`; ICC profiles kept, also when split across segments; EXIF and
//! comments kept by default and stripped on request; `--preserve` giving each output its
//! input's times. Fixtures are made from the repository's photos; outputs are read by an
//! independent decoder.

use std::fs;
use std::time::{Duration, SystemTime};

use crate::common::*;
use mozjpeg::Marker;

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
fn preserve_gives_each_output_its_inputs_times() {
    let tmp = tempdir();
    let images = copy_photos(tmp.path());
    let before: Vec<Vec<u8>> = PHOTOS
        .iter()
        .map(|n| fs::read(images.join(n)).expect("read"))
        .collect();
    // Set after the read above, which may update the access time.
    let (accessed, modified) = old_times();
    for name in PHOTOS {
        set_times(&images.join(name), accessed, modified);
    }
    let first = run(tmp.path(), &["-p", "-o", "kept"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    for name in PHOTOS {
        let output = tmp.path().join("kept").join(format!("compressed_{name}"));
        // Checked before anything reads the output (a read may update its access time).
        assert_eq!(times(&output), (accessed, modified), "{name}");
        decode(&output);
        assert_eq!(
            times(&images.join(name)).1,
            modified,
            "input {name} touched"
        );
    }
    for (name, bytes) in PHOTOS.iter().zip(before) {
        assert!(
            fs::read(images.join(name)).expect("read") == bytes,
            "{name}"
        );
    }
    // Without it an output is a new file, dated now.
    let plain = run(tmp.path(), &["-o", "new"]);
    assert_eq!(plain.code, 0, "{}", plain.stderr);
    let out = times(&tmp.path().join("new/compressed_leaf.jpg")).1;
    assert!(
        out > SystemTime::now() - Duration::from_secs(3600),
        "{out:?}"
    );
}

/// The APPn and COM segments of a JPEG before its first scan, photopress's marker left out.
fn app_segments(file: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut found = Vec::new();
    let mut pos = 2;
    while pos + 4 <= file.len() && file[pos] == 0xFF && file[pos + 1] != 0xDA {
        let code = file[pos + 1];
        let len = usize::from(u16::from_be_bytes([file[pos + 2], file[pos + 3]]));
        let body = file[pos + 4..pos + 2 + len].to_vec();
        if (0xE0..=0xEF).contains(&code) || (code == 0xFE && !body.starts_with(b"photopress q=")) {
            found.push((code, body));
        }
        pos += 2 + len;
    }
    found
}

#[test]
fn every_metadata_segment_comes_through_resized_and_under_targets() {
    let plain = small_jpeg(480, 320);
    let rest = {
        let mut pos = 2;
        while matches!(plain[pos + 1], 0xE0..=0xEF | 0xFE) {
            pos += 2 + usize::from(u16::from_be_bytes([plain[pos + 2], plain[pos + 3]]));
        }
        pos
    };
    let mut jfxx = b"JFXX\0\x13".to_vec();
    jfxx.extend((0..200u32).map(|i| (i % 251) as u8));
    let segments: Vec<(u8, Vec<u8>)> = vec![
        (0xE0, b"JFIF\0\x01\x02\x01\x00\x48\x00\x48\x00\x00".to_vec()),
        (0xE0, jfxx),
        (0xE1, exif_segment(1)),
        (0xE1, b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta/>".to_vec()),
        (0xEC, b"Ducky\0\x01\0\x04\0\0\0\x3c".to_vec()),
        (0xED, b"Photoshop 3.0\08BIM\x04\x04\0\0\0\0\0\0".to_vec()),
        (0xEE, b"Adobe\0\x64\0\0\0\0\x01".to_vec()),
        (0xEF, b"MAKER block".to_vec()),
        (0xFE, b"first comment".to_vec()),
        (0xFE, b"second comment".to_vec()),
    ];
    let mut input = vec![0xFF, 0xD8];
    for (code, body) in &segments {
        input.extend_from_slice(&[0xFF, *code]);
        input.extend_from_slice(&u16::try_from(body.len() + 2).expect("short").to_be_bytes());
        input.extend_from_slice(body);
    }
    input.extend_from_slice(&plain[rest..]);
    assert_eq!(app_segments(&input), segments);
    let files = vec![("meta.jpg".to_string(), input)];
    for extra in [
        &["--allow-larger"][..],
        &["--allow-larger", "--progressive"],
        &["--allow-larger", "--best"],
        &["--long-edge", "200"],
        &["--allow-larger", "--target-quality", "60"],
        &["--allow-larger", "--target-size", "90%"],
    ] {
        let tmp = tempdir();
        let run = compress_all(tmp.path(), &files, extra);
        assert_eq!(run.code, 0, "{extra:?}: {}", run.stderr);
        let written = fs::read(out(tmp.path(), "meta.jpg")).expect("output");
        assert_eq!(app_segments(&written), segments, "{extra:?}");
        decode(&out(tmp.path(), "meta.jpg"));
    }
}

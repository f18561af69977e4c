//! Header and tables: what the transcoder writes before the scans is what the pixel path
//! writes (the kept and dropped segments, JFIF density, the quantization tables at every
//! quality).

use super::*;

/// Inputs with every kind of kept or dropped segment, and each JFIF density case.
fn header_fixtures() -> Vec<(String, Vec<u8>)> {
    let icc = test_icc();
    let mut with_adobe = metadata_markers(&icc);
    with_adobe.push(adobe_ycbcr_segment());
    vec![
        (
            "meta_300dpi_420.jpg".into(),
            with_density(
                Layout::Yuv420.encode(96, 64, false, metadata_markers(&icc)),
                1,
                300,
                300,
            ),
        ),
        (
            "meta_aspect_422_progressive.jpg".into(),
            with_density(
                Layout::Yuv422.encode(96, 64, true, metadata_markers(&icc)),
                0,
                4,
                3,
            ),
        ),
        (
            "meta_cm_gray.jpg".into(),
            with_density(
                Layout::Gray.encode(96, 64, false, metadata_markers(&icc)),
                2,
                118,
                118,
            ),
        ),
        (
            "adobe_444.jpg".into(),
            Layout::Yuv444.encode(96, 64, false, with_adobe),
        ),
        (
            "no_jfif_420.jpg".into(),
            without_jfif(Layout::Yuv420.encode(96, 64, false, metadata_markers(&icc))),
        ),
        (
            "plain_420.jpg".into(),
            Layout::Yuv420.encode(96, 64, false, Vec::new()),
        ),
    ]
}

#[test]
fn header_up_to_the_tables_is_byte_identical_to_the_pixel_paths() {
    let tmp = tempdir();
    let files = header_fixtures();
    write_files(tmp.path(), "in", &files);
    for flags in [
        &[][..],
        &["--strip"][..],
        &["--strip-icc"][..],
        &["--strip", "--strip-icc"][..],
    ] {
        let mut dct_args = vec!["--allow-larger", "--method", "dct"];
        dct_args.extend_from_slice(flags);
        let mut pixel_args = vec!["--allow-larger", "--method", "pixel"];
        pixel_args.extend_from_slice(flags);
        assert_all_dct(&photopress_json(tmp.path(), "in", "dct", &dct_args));
        photopress_json(tmp.path(), "in", "pixel", &pixel_args);
        for (name, input) in &files {
            let dct = fs::read(tmp.path().join("dct").join(name)).expect("dct output");
            let pixel = fs::read(tmp.path().join("pixel").join(name)).expect("pixel output");
            assert_eq!(
                settings_masked(header_before_dqt(&dct)),
                settings_masked(header_before_dqt(&pixel)),
                "{name} {flags:?}: headers differ"
            );
            // The headers hold what was asked for, not just the same thing twice.
            let header = header_before_dqt(&dct);
            let has = |needle: &[u8]| header.windows(needle.len()).any(|w| w == needle);
            let input_has = |needle: &[u8]| input.windows(needle.len()).any(|w| w == needle);
            let strip = flags.contains(&"--strip");
            let strip_icc = flags.contains(&"--strip-icc");
            assert_eq!(
                has(b"ICC_PROFILE\0"),
                input_has(b"ICC_PROFILE\0") && !strip_icc,
                "{name} {flags:?}: ICC"
            );
            assert_eq!(
                has(b"Exif\0\0"),
                input_has(b"Exif\0\0") && !strip,
                "{name} {flags:?}: EXIF"
            );
            assert_eq!(
                has(b"a comment"),
                input_has(b"a comment") && !strip,
                "{name} {flags:?}: comment"
            );
            // The input's Adobe segment (YCbCr, as the output) is carried as it was, unless
            // --strip (the encoders write none for YCbCr).
            assert_eq!(
                has(b"Adobe"),
                input_has(b"Adobe") && !strip,
                "{name} {flags:?}: the Adobe segment"
            );
        }
    }
}

/// A header with the settings hash of its photopress marker (`; s=` and 8 hex digits) masked:
/// `--method` is one of the settings it hashes, so the two methods' markers differ there only.
fn settings_masked(header: &[u8]) -> Vec<u8> {
    let mut header = header.to_vec();
    let found = header.windows(4).position(|w| w == b"; s=");
    assert!(found.is_some(), "no settings in the marker");
    if let Some(at) = found {
        let end = (at + 12).min(header.len());
        header[at + 4..end].fill(b'*');
    }
    header
}

/// `data` compressed with `--method dct` and with `--method pixel`: the two outputs.
fn both_methods(data: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let tmp = tempdir();
    write_files(tmp.path(), "in", &[("x.jpg".to_string(), data.to_vec())]);
    let output = |method: &str| -> Vec<u8> {
        let args = ["--method", method, "--allow-larger"];
        let report = photopress_json(tmp.path(), "in", method, &args);
        expect_methods(&report, &[("x.jpg", method)]);
        fs::read(tmp.path().join(method).join("x.jpg")).expect("output")
    };
    (output("dct"), output("pixel"))
}

fn assert_same_header(data: &[u8], what: &str) {
    let (dct, pixel) = both_methods(data);
    let (dct, pixel) = (
        settings_masked(header_before_dqt(&dct)),
        settings_masked(header_before_dqt(&pixel)),
    );
    let hex = |b: &[u8]| {
        b.iter()
            .map(|x| format!("{x:02x}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert!(
        dct == pixel,
        "{what}: headers differ\n  dct:   {}\n  pixel: {}",
        hex(&dct),
        hex(&pixel)
    );
}

#[test]
fn a_comment_between_progressive_scans_is_treated_as_the_pixel_path_treats_it() {
    let data = Layout::Yuv420.encode(96, 64, true, Vec::new());
    let sos: Vec<usize> = (0..data.len() - 1)
        .filter(|&i| data[i..i + 2] == [0xFF, 0xDA])
        .collect();
    assert!(sos.len() > 2, "a progressive fixture");
    let comment = b"between scans";
    let mut edited = data[..sos[1]].to_vec();
    edited.extend_from_slice(&[0xFF, 0xFE, 0, comment.len() as u8 + 2]);
    edited.extend_from_slice(comment);
    edited.extend_from_slice(&data[sos[1]..]);
    assert_same_header(&edited, "a COM segment before the second scan");
}

#[test]
fn an_unknown_jfif_density_unit_gives_the_pixel_paths_header() {
    let data = with_density(Layout::Yuv420.encode(96, 64, false, Vec::new()), 3, 7, 9);
    assert_same_header(&data, "JFIF density unit 3");
}

#[test]
fn a_short_jfif_segment_gives_the_pixel_paths_header() {
    // A JFIF segment of 12 bytes (no thumbnail size): libjpeg reads no density from it.
    let data = with_density(
        Layout::Yuv420.encode(96, 64, false, Vec::new()),
        1,
        300,
        300,
    );
    let mut short = data[..4].to_vec();
    short.extend_from_slice(&14u16.to_be_bytes());
    short.extend_from_slice(&data[6..18]);
    short.extend_from_slice(&data[20..]);
    assert_same_header(&short, "a 12-byte JFIF segment");
}

#[test]
fn jfif_density_is_carried_to_the_dct_output() {
    let tmp = tempdir();
    let files = header_fixtures();
    write_files(tmp.path(), "in", &files);
    let args = ["--allow-larger", "--method", "dct"];
    assert_all_dct(&photopress_json(tmp.path(), "in", "dct", &args));
    for (name, expected) in [
        ("meta_300dpi_420.jpg", (1, 300, 300)),
        ("meta_aspect_422_progressive.jpg", (0, 4, 3)),
        ("meta_cm_gray.jpg", (2, 118, 118)),
        ("no_jfif_420.jpg", (0, 1, 1)),
    ] {
        let data = fs::read(tmp.path().join("dct").join(name)).expect("dct output");
        let (_, code, jfif) = segments(&data)[0];
        assert_eq!(code, 0xE0, "{name}: JFIF first");
        assert!(jfif.starts_with(b"JFIF\0\x01"), "{name}: {jfif:?}");
        let density = (
            jfif[7],
            u16::from_be_bytes([jfif[8], jfif[9]]),
            u16::from_be_bytes([jfif[10], jfif[11]]),
        );
        assert_eq!(density, expected, "{name}");
    }
}

#[test]
fn quantization_tables_are_the_pixel_paths_at_every_quality() {
    let tmp = tempdir();
    let files: Vec<(String, Vec<u8>)> = [Layout::Yuv420, Layout::Yuv422, Layout::Gray]
        .iter()
        .map(|l| {
            (
                format!("{}.jpg", l.label()),
                l.encode(96, 64, false, Vec::new()),
            )
        })
        .collect();
    write_files(tmp.path(), "in", &files);
    for (quality, extended) in [
        ("1", false),
        ("10", false),
        ("17", false),
        ("23", false),
        ("1", true),
        ("30", false),
        ("75", false),
        ("100", false),
    ] {
        let compress = |method: &str| -> String {
            let out = format!("{method}{quality}{}", if extended { "x" } else { "" });
            let mut args = vec!["--allow-larger", "-q", quality, "--method", method];
            if extended {
                args.push("--extended");
            }
            let report = photopress_json(tmp.path(), "in", &out, &args);
            assert!(methods(&report).values().all(|m| m == method), "{report}");
            out
        };
        let (dct_out, pixel_out) = (compress("dct"), compress("pixel"));
        for (name, _) in &files {
            let dct = fs::read(tmp.path().join(&dct_out).join(name)).expect("dct output");
            let pixel = fs::read(tmp.path().join(&pixel_out).join(name)).expect("pixel output");
            let tables = dqt_tables(&dct);
            let expected_count = if name.starts_with("gray") { 1 } else { 2 };
            assert_eq!(tables.len(), expected_count, "-q {quality} {name}");
            assert_eq!(tables, dqt_tables(&pixel), "-q {quality} {name}: DQT");
            assert_eq!(frame(&dct).0, frame(&pixel).0, "-q {quality} {name}: SOF");
            if extended {
                // Values above 255: 16-bit tables and an extended-sequential frame (SOF1).
                assert!(tables.iter().all(|(pq, _)| pq >> 4 == 1), "-q 1 {name}");
                assert_eq!(frame(&dct).0, 0xC1, "-q 1 {name}");
            } else {
                // Clamped to 8 bits: baseline at every quality.
                assert!(
                    tables.iter().all(|(pq, _)| pq >> 4 == 0),
                    "-q {quality} {name}"
                );
                assert_eq!(frame(&dct).0, 0xC0, "-q {quality} {name}");
            }
        }
    }
}

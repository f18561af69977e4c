//! Method selection: which images `--method auto`, `dct` and `pixel` (and `--best`) send through
//! the transcoder and which through pixels, what the text report counts, and what the
//! library's transcoder covers.

use photopress::jpeg::dct::{self, Refusal};
use photopress::jpeg::pixel::EncodeSettings;

use super::*;

/// One fixture of each layout (96 x 64), baseline and progressive 4:2:0.
fn layout_fixtures() -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = Layout::ALL
        .iter()
        .map(|l| {
            (
                format!("{}.jpg", l.label()),
                l.encode(96, 64, false, Vec::new()),
            )
        })
        .collect();
    files.push((
        "420_progressive.jpg".into(),
        Layout::Yuv420.encode(96, 64, true, Vec::new()),
    ));
    files
}

#[test]
fn auto_takes_dct_for_every_layout_it_can_write_as_420_and_pixel_for_411() {
    let tmp = tempdir();
    write_files(tmp.path(), "in", &layout_fixtures());
    let report = photopress_json(tmp.path(), "in", "out", &["--allow-larger"]);
    expect_methods(
        &report,
        &[
            ("420.jpg", "dct"),
            ("420_progressive.jpg", "dct"),
            ("gray.jpg", "dct"),
            ("422.jpg", "dct"),
            ("444.jpg", "dct"),
            ("411.jpg", "pixel"),
            ("440.jpg", "dct"),
        ],
    );
    assert_eq!(report["totals"]["dct"], 6);
    assert_eq!(report["totals"]["pixel"], 1);
    // Every colour output is 4:2:0, as the pixel path's (the chroma was downsampled).
    for name in ["420.jpg", "422.jpg", "444.jpg", "440.jpg", "411.jpg"] {
        let (_, sampling) = frame(&fs::read(tmp.path().join("out").join(name)).expect("output"));
        assert_eq!(sampling, Layout::Yuv420.sampling(), "{name}");
    }
}

#[test]
fn method_pixel_always_takes_pixel() {
    let tmp = tempdir();
    let files = layout_fixtures();
    write_files(tmp.path(), "in", &files);
    for (out, flags) in [
        ("pixel", &["--method", "pixel"][..]),
        ("pixel_best", &["--method", "pixel", "--best"][..]),
    ] {
        let mut args = vec!["--allow-larger"];
        args.extend_from_slice(flags);
        let report = photopress_json(tmp.path(), "in", out, &args);
        let all_pixel: Vec<(&str, &str)> =
            files.iter().map(|(n, _)| (n.as_str(), "pixel")).collect();
        expect_methods(&report, &all_pixel);
        assert_eq!(report["totals"]["dct"], 0, "{flags:?}");
    }
}

#[test]
fn best_transcodes_with_the_pixel_paths_best_tables_and_progressive_scans() {
    let tmp = tempdir();
    let files = layout_fixtures();
    write_files(tmp.path(), "in", &files);
    let pixel = photopress_json(
        tmp.path(),
        "in",
        "pixel_best",
        &["--allow-larger", "--method", "pixel", "--best"],
    );
    assert_eq!(pixel["totals"]["pixel"], files.len());
    // auto: what the transcoder can write as 4:2:0 (4:1:1 cannot be), as without --best, in
    // the pixel path's layout; --method dct keeps each input's chroma subsampling, 4:1:1 too.
    for (out, method, methods, same_layout) in [
        ("best", "auto", "Methods dct 6, pixel 1", true),
        ("dct_best", "dct", "Methods dct 7, pixel 0", false),
    ] {
        let run = photopress(
            tmp.path(),
            "in",
            out,
            &["--allow-larger", "--method", method, "--best"],
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(!run.stderr.contains(" WARN "), "{}", run.stderr);
        assert!(
            methods_line(&run.stdout).starts_with(methods),
            "{method}: {}",
            run.stdout
        );
        for (name, input) in &files {
            let dct = fs::read(tmp.path().join(out).join(name)).expect("output");
            let pixel = fs::read(tmp.path().join("pixel_best").join(name)).expect("pixel output");
            // mozjpeg's --best tables (N. Robidoux's, scaled and clamped), a progressive frame.
            assert_eq!(dqt_tables(&dct), dqt_tables(&pixel), "{method} {name}: DQT");
            assert_eq!(frame(&dct).0, 0xC2, "{method} {name}: progressive");
            if same_layout {
                assert_eq!(frame(&dct), frame(&pixel), "{name}: 4:2:0 (or gray)");
            }
            let decoded = image::load_from_memory(&dct).expect("decodes");
            let original = image::load_from_memory(input).expect("input decodes");
            assert_eq!(dims(&decoded), dims(&original), "{method} {name}");
        }
    }
}

#[test]
fn method_dct_takes_every_layout_and_leaves_what_it_cannot_read_to_pixel() {
    let tmp = tempdir();
    let mut files = layout_fixtures();
    let base = Layout::Yuv420.encode(96, 64, false, Vec::new());
    files.push((
        "arithmetic.jpg".into(),
        jpeg_tool("jpegtran", &["-arithmetic"], &base),
    ));
    files.push((
        "cmyk.jpg".into(),
        encode_adobe_cmyk(&pixels_of_size(96, 64), 96, 64),
    ));
    write_files(tmp.path(), "in", &files);
    let report = photopress_json(
        tmp.path(),
        "in",
        "out",
        &["--method", "dct", "--allow-larger"],
    );
    expect_methods(
        &report,
        &[
            ("420.jpg", "dct"),
            ("420_progressive.jpg", "dct"),
            ("422.jpg", "dct"),
            ("444.jpg", "dct"),
            ("411.jpg", "dct"),
            ("440.jpg", "dct"),
            ("gray.jpg", "dct"),
            ("arithmetic.jpg", "pixel"),
            ("cmyk.jpg", "pixel"),
        ],
    );
    assert_eq!(report["totals"]["compressed"], files.len());
    // The fallbacks are real outputs of the same picture.
    let out = tmp.path().join("out");
    let arithmetic = decode(&out.join("arithmetic.jpg"));
    let base_path = tmp.path().join("base.jpg");
    fs::write(&base_path, &base).expect("write base");
    let diff = mean_abs_diff(&arithmetic, &decode(&base_path));
    assert!(diff < 8.0, "arithmetic: {diff}");
    let cmyk = fs::read(out.join("cmyk.jpg")).expect("cmyk output");
    assert_eq!(frame(&cmyk).1.len(), 4, "CMYK stays four-channel");
    assert_close(
        mean_rgb(&decode(&out.join("cmyk.jpg"))),
        mean_rgb(&decode(&tmp.path().join("in/cmyk.jpg"))),
        3.0,
        "cmyk",
    );
}

#[test]
fn strip_on_a_rotated_photo_under_method_dct_comes_out_upright() {
    // 96x64 is whole 4:2:0 MCUs: turned in the DCT domain. 100x60 is not, and a quarter turn
    // mirrors its height: through pixels.
    let (w, h) = (96, 64);
    let tmp = tempdir();
    let tagged =
        |w, h, o| Layout::Yuv420.encode(w, h, false, vec![(Marker::APP(1), exif_segment(o))]);
    let files = vec![
        ("rotated.jpg".to_string(), tagged(w, h, 6)),
        ("rotated_odd.jpg".to_string(), tagged(100, 60, 6)),
        ("upright.jpg".to_string(), tagged(w, h, 1)),
    ];
    write_files(tmp.path(), "in", &files);
    let report = photopress_json(tmp.path(), "in", "out", &["--method", "dct", "--strip"]);
    expect_methods(
        &report,
        &[
            ("rotated.jpg", "dct"),
            ("rotated_odd.jpg", "pixel"),
            ("upright.jpg", "dct"),
        ],
    );
    let out = tmp.path().join("out");
    for (name, (w, h)) in [("rotated.jpg", (w, h)), ("rotated_odd.jpg", (100, 60))] {
        let rotated = decode(&out.join(name));
        assert_eq!(
            dims(&rotated),
            (h as u32, w as u32),
            "{name} turned upright"
        );
        assert!(exif(&out.join(name)).is_none(), "{name}: tag dropped");
        let mut shown = decode(&tmp.path().join("in").join(name));
        shown.apply_orientation(image::metadata::Orientation::Rotate90);
        let diff = mean_abs_diff(&rotated, &shown);
        assert!(diff < 10.0, "{name} not the upright picture: diff {diff}");
    }
    assert_eq!(
        dims(&decode(&out.join("upright.jpg"))),
        (w as u32, h as u32)
    );
    assert!(exif(&out.join("upright.jpg")).is_none(), "tag dropped");
}

#[test]
fn text_report_counts_each_method() {
    let tmp = tempdir();
    let mut files = layout_fixtures();
    files.push((
        "arithmetic.jpg".into(),
        jpeg_tool("jpegtran", &["-arithmetic"], &files[0].1),
    ));
    write_files(tmp.path(), "in", &files);
    let expect = |flags: &[&str], line: &str| {
        let mut args = vec!["--allow-larger"];
        args.extend_from_slice(flags);
        let run = photopress(tmp.path(), "in", "out", &args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(methods_line(&run.stdout), line, "{flags:?}");
        // After the four original lines, before the human ones and the files line.
        let lines: Vec<&str> = run.stdout.lines().collect();
        let at = lines.iter().position(|l| *l == line).expect("line");
        assert_eq!(at, 4, "{}", run.stdout);
        assert!(lines[at + 1].starts_with("Size "), "{}", run.stdout);
        assert_eq!(lines[at + 3], "Files compressed 8, failed 0", "{flags:?}");
    };
    expect(&[], "Methods dct 6, pixel 2");
    expect(&["--method", "dct"], "Methods dct 7, pixel 1");
    expect(&["--method", "pixel"], "Methods dct 0, pixel 8");
}

// ---------------------------------------------------------------------------------------------
// The library

#[test]
fn library_keeps_422_when_any_subsampling_is_asked_and_writes_420_otherwise() {
    let (w, h) = (96, 64);
    let input = Layout::Yuv422.encode(w, h, false, Vec::new());
    let settings = EncodeSettings::default();
    let output = dct::recompress(&input, &settings, false).expect("4:2:2 downsampled");
    assert_eq!(frame(&output), (0xC0, Layout::Yuv420.sampling()));
    // 4:1:1 cannot be mapped to 4:2:0 in the DCT domain: left to the pixel path.
    let input_411 = Layout::Yuv411.encode(w, h, false, Vec::new());
    match dct::recompress(&input_411, &settings, false) {
        Err(Refusal::NotCovered(_)) => {}
        Err(other) => panic!("4:1:1 without any_subsampling: {other}"),
        Ok(_) => panic!("4:1:1 without any_subsampling was transcoded"),
    }
    let output = dct::recompress(&input, &settings, true).expect("4:2:2 transcoded");
    assert_eq!(frame(&output), (0xC0, Layout::Yuv422.sampling()));
    let decoded = image::load_from_memory(&output).expect("decodes");
    let original = image::load_from_memory(&input).expect("input decodes");
    assert_eq!(dims(&decoded), (w as u32, h as u32));
    let diff = mean_abs_diff(&decoded, &original);
    assert!(diff < 8.0, "diff {diff}");
    // And 4:2:0 is covered either way.
    let input = Layout::Yuv420.encode(w, h, false, Vec::new());
    assert!(dct::recompress(&input, &settings, false).is_ok());
}

/// A target search reads the input once (`dct::prepare`) and requantizes it for each
/// candidate: every output is the single encode's, byte for byte, and what the single encode
/// refuses, preparing refuses alike.
#[test]
fn a_prepared_input_encodes_as_the_single_encode_does() {
    let mut inputs = layout_fixtures();
    // Rotated photos, which --strip turns upright (a 4:4:4 one and a 4:2:0 one, whose turn is
    // exact: whole MCUs), and a real photo.
    for o in [3, 6, 8] {
        for layout in [Layout::Yuv420, Layout::Yuv444] {
            let exif = vec![(Marker::APP(1), exif_segment(o))];
            inputs.push((format!("{o}.jpg"), layout.encode(96, 64, o == 8, exif)));
        }
    }
    inputs.push((
        "dogs.jpg".into(),
        fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("IMAGES/dogs.jpg")).expect("dogs"),
    ));
    let mut compared = 0;
    for (name, input) in &inputs {
        for any_subsampling in [false, true] {
            for (keep_metadata, best, progressive) in [
                (false, false, false),
                (true, false, false),
                (false, true, false),
                (false, false, true),
            ] {
                let base = EncodeSettings {
                    keep_metadata,
                    best,
                    progressive,
                    ..EncodeSettings::default()
                };
                let prepared = dct::prepare(input, &base, any_subsampling);
                for quality in [20, 63, 95] {
                    let settings = EncodeSettings { quality, ..base };
                    let single = dct::recompress(input, &settings, any_subsampling);
                    let what = format!("{name} q{quality} {settings:?} any {any_subsampling}");
                    match (&single, &prepared) {
                        (Ok(single), Ok(prepared)) => {
                            let out = prepared.recompress(&settings).expect(&what);
                            assert!(out == *single, "{what}: the outputs differ");
                            compared += 1;
                        }
                        (Err(Refusal::NotCovered(_)), Err(Refusal::NotCovered(_))) => {}
                        _ => panic!(
                            "{what}: the single encode {}, preparing {}",
                            if single.is_ok() { "works" } else { "fails" },
                            if prepared.is_ok() { "works" } else { "fails" }
                        ),
                    }
                }
            }
        }
    }
    // Only the quality may change between a prepared input's encodes.
    let (_, dogs) = inputs.last().expect("dogs");
    let prepared = dct::prepare(dogs, &EncodeSettings::default(), false).expect("prepared");
    let progressive = EncodeSettings {
        progressive: true,
        ..EncodeSettings::default()
    };
    assert!(matches!(
        prepared.recompress(&progressive),
        Err(Refusal::NotCovered(_))
    ));
    // 4:1:1 is refused as 4:2:0; everything else was compared.
    assert!(
        compared >= (inputs.len() * 2 - 1) * 12,
        "{compared} compared"
    );
}

/// The memory budget counts a search's prepared coefficients (the input's, and one
/// candidate's copy) at no less than they hold, on the shipped photos and the fixtures.
#[test]
fn the_budget_covers_a_prepared_input() {
    let mut inputs = layout_fixtures();
    for name in ["dogs.jpg", "fig.jpg", "leaf.jpg", "mountains.jpg"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("IMAGES")
            .join(name);
        inputs.push((name.into(), fs::read(path).expect("photo")));
    }
    for (name, input) in &inputs {
        let header = photopress::jpeg::header::read_frame(input).expect("header");
        let Ok(prepared) = dct::prepare(input, &EncodeSettings::default(), true) else {
            continue;
        };
        let held = 2 * prepared.bytes();
        let budget = photopress::memory::prepared_coefficients(&header, input.len());
        assert!(
            held > 0 && held <= budget,
            "{name}: {held} held, {budget} budgeted"
        );
    }
}

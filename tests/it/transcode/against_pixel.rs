//! The transcoder against the pixel path, image by image, on the matrix: every layout, coding
//! mode, restart interval, odd size and metadata, compressed by both methods (the same picture,
//! the input's layout, the input's pixels at quality 100, progressive inputs as their baseline
//! twins, rotations as jpegtran turns them, the metadata); and every output read by three
//! decoders.

use std::sync::OnceLock;

use super::*;

// ---------------------------------------------------------------------------------------------
// The matrix: every layout, coding mode, restart interval, odd size and metadata, compressed by
// both methods (shared by the tests that compare them)

struct Case {
    name: String,
    /// The input whose decoded picture this one's outputs are compared with: its own, or,
    /// for an input the image crate cannot read, one holding the same picture.
    picture: String,
    /// The layout of the input (and of the dct output).
    layout: Layout,
    icc: Option<Vec<u8>>,
    exif: bool,
}

struct Matrix {
    dir: PathBuf,
    cases: Vec<Case>,
    /// The reports of the runs at the default quality.
    dct: Value,
    pixel: Value,
    /// The report of the dct run at `-q 100` (into `dct_q100`).
    dct_q100: Value,
}

impl Matrix {
    fn input(&self, name: &str) -> PathBuf {
        self.dir.join("in").join(name)
    }
    /// The decoded input a case's outputs are compared with.
    fn picture(&self, case: &Case) -> DynamicImage {
        decode(&self.input(&case.picture))
    }
    fn dct(&self, name: &str) -> PathBuf {
        self.dir.join("dct").join(name)
    }
    fn pixel(&self, name: &str) -> PathBuf {
        self.dir.join("pixel").join(name)
    }
    fn dct_q100(&self, name: &str) -> PathBuf {
        self.dir.join("dct_q100").join(name)
    }
}

fn matrix() -> &'static Matrix {
    static MATRIX: OnceLock<Matrix> = OnceLock::new();
    MATRIX.get_or_init(build_matrix)
}

fn build_matrix() -> Matrix {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("transcode-matrix");
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("create the matrix folder");
    let mut cases = Vec::new();
    let mut files = Vec::new();
    let mut add = |name: String, layout, data: Vec<u8>, icc: Option<Vec<u8>>, exif| {
        files.push((name.clone(), data));
        cases.push(Case {
            picture: name.clone(),
            name,
            layout,
            icc,
            exif,
        });
    };
    // Every layout and coding mode, at a photo-like size and at odd ones (not multiples of 8
    // or 16; a single pixel; a 3-row strip).
    for (w, h) in [(203, 141), (1, 1), (17, 9), (33, 65), (1001, 3)] {
        for layout in Layout::ALL {
            for progressive in [false, true] {
                let name = format!("{}_{}_{w}x{h}.jpg", layout.label(), mode(progressive));
                add(
                    name,
                    layout,
                    layout.encode(w, h, progressive, Vec::new()),
                    None,
                    false,
                );
            }
        }
    }
    // Restart intervals: every MCU row (cjpeg -restart 1), every 1 or 2 MCUs (jpegtran -restart
    // NB), also in a progressive file's scans.
    let ppm = ppm_of(&Layout::Yuv420.encode(203, 141, false, Vec::new()));
    for (layout, sample) in [
        (Layout::Yuv420, "2x2"),
        (Layout::Yuv422, "2x1"),
        (Layout::Yuv444, "1x1"),
    ] {
        let args = ["-restart", "1", "-quality", "90", "-sample", sample];
        add(
            format!("restart_rows_{}.jpg", layout.label()),
            layout,
            jpeg_tool("cjpeg", &args, &ppm),
            None,
            false,
        );
    }
    let gray_rows = jpeg_tool("cjpeg", &["-grayscale", "-restart", "1"], &ppm);
    add(
        "restart_rows_gray.jpg".into(),
        Layout::Gray,
        gray_rows,
        None,
        false,
    );
    for layout in Layout::ALL {
        let base = layout.encode(203, 141, false, Vec::new());
        add(
            format!("restart_2B_{}.jpg", layout.label()),
            layout,
            jpeg_tool("jpegtran", &["-restart", "2B"], &base),
            None,
            false,
        );
        add(
            format!("restart_2B_progressive_{}.jpg", layout.label()),
            layout,
            jpeg_tool("jpegtran", &["-progressive", "-restart", "2B"], &base),
            None,
            false,
        );
    }
    let odd = Layout::Yuv420.encode(33, 65, false, Vec::new());
    add(
        "restart_1B_420_33x65.jpg".into(),
        Layout::Yuv420,
        jpeg_tool("jpegtran", &["-restart", "1B"], &odd),
        None,
        false,
    );
    // Scan structures other encoders write (jpegtran -scans): one sequential scan per
    // component, components in another order, a progression with restart markers.
    let script = |name: &str, text: &str| -> String {
        let path = dir.join(name);
        fs::write(&path, text).expect("write scan script");
        path.to_string_lossy().into_owned()
    };
    let one_per_component = script("sequential.txt", "0;\n1;\n2;\n");
    let reversed = script("reversed.txt", "2: 0 63 0 0;\n0: 0 63 0 0;\n1: 0 63 0 0;\n");
    let progression = script(
        "progression.txt",
        "0 1 2: 0 0 0 1;\n2: 1 63 0 0;\n0: 1 5 0 2;\n1: 1 63 0 0;\n0: 6 63 0 2;\n\
         0: 1 63 2 1;\n0 1 2: 0 0 1 0;\n0: 1 63 1 0;\n",
    );
    let base_422 = Layout::Yuv422.encode(203, 141, false, Vec::new());
    let base_420 = Layout::Yuv420.encode(203, 141, false, Vec::new());
    for (name, layout, args, base) in [
        (
            "scans_one_per_component_422.jpg",
            Layout::Yuv422,
            vec!["-scans", &one_per_component],
            &base_422,
        ),
        (
            "scans_one_per_component_restart_422.jpg",
            Layout::Yuv422,
            vec!["-scans", &one_per_component, "-restart", "3B"],
            &base_422,
        ),
        (
            "scans_reversed_420.jpg",
            Layout::Yuv420,
            vec!["-scans", &reversed],
            &base_420,
        ),
        (
            "scans_progression_restart_420.jpg",
            Layout::Yuv420,
            vec!["-scans", &progression, "-restart", "1"],
            &base_420,
        ),
    ] {
        add(
            name.into(),
            layout,
            jpeg_tool("jpegtran", &args, base),
            None,
            false,
        );
    }
    // Tables: 16-bit (quality 3: an extended-sequential frame), one table for all components;
    // a gray frame with sampling factors 2x2.
    let coarse = Fixture {
        quality: 3,
        ..Layout::Yuv420.fixture()
    };
    add(
        "tables_16bit_420.jpg".into(),
        Layout::Yuv420,
        Layout::Yuv420.encode_with(203, 141, &coarse),
        None,
        false,
    );
    add(
        "tables_one_slot_420.jpg".into(),
        Layout::Yuv420,
        jpeg_tool("cjpeg", &["-qslots", "0", "-quality", "90"], &ppm),
        None,
        false,
    );
    add(
        "gray_sampled_2x2.jpg".into(),
        Layout::Gray,
        jpeg_tool("cjpeg", &["-grayscale", "-sample", "2x2"], &ppm),
        None,
        false,
    );
    // Metadata: ICC profile (one segment, or three), EXIF, XMP, comment.
    let icc = test_icc();
    let large_icc = icc_profile_bytes(140_000, b"ProPhoto RGB");
    for layout in Layout::ALL {
        for progressive in [false, true] {
            add(
                format!("meta_{}_{}.jpg", layout.label(), mode(progressive)),
                layout,
                layout.encode(203, 141, progressive, metadata_markers(&icc)),
                Some(icc.clone()),
                true,
            );
        }
    }
    add(
        "large_icc_420.jpg".into(),
        Layout::Yuv420,
        Layout::Yuv420.encode(203, 141, false, icc_segments(&large_icc, 65_519)),
        Some(large_icc),
        false,
    );
    add(
        "exif_only_422.jpg".into(),
        Layout::Yuv422,
        Layout::Yuv422.encode(203, 141, false, vec![(Marker::APP(1), exif_segment(1))]),
        None,
        true,
    );

    // zune-jpeg (the image crate's decoder) cannot read this input: its first scan is Cr alone,
    // with no Huffman table for Y yet. jpegtran's rewrite is lossless: same picture as its base.
    let reversed = cases
        .iter_mut()
        .find(|c| c.name == "scans_reversed_420.jpg")
        .expect("the reversed-scans case");
    reversed.picture = "420_baseline_203x141.jpg".into();
    write_files(&dir, "in", &files);
    let dct = photopress_json(&dir, "in", "dct", &["--method", "dct", "--allow-larger"]);
    let pixel = photopress_json(
        &dir,
        "in",
        "pixel",
        &["--method", "pixel", "--allow-larger"],
    );
    let dct_q100 = photopress_json(
        &dir,
        "in",
        "dct_q100",
        &["--method", "dct", "--allow-larger", "-q", "100"],
    );
    Matrix {
        dir,
        cases,
        dct,
        pixel,
        dct_q100,
    }
}

/// Largest mean absolute difference (levels, 0..255) between the dct and the pixel output of
/// one image (measured at most: 4:2:0 0.65, gray 0.44, 4:2:2 2.36, 4:4:0 2.59, 4:4:4 2.93,
/// 4:1:1 3.10). 4:2:0 and gray: both outputs have the input's layout, the difference is
/// requantization against decode+encode. The other layouts: the dct output keeps the chroma
/// layout the pixel path turns into 4:2:0, so the colours differ too. A picture under 16
/// pixels a side (17x9: 1.75 for 4:2:0, 1.78 for gray) is a few blocks, where the transcoder's
/// rounding of 0/±1 ties to 0 (which the pixel path breaks either way) moves many of its
/// pixels; both outputs are as far from the input there (the next assertion).
fn dct_pixel_bound(layout: Layout, (w, h): (u32, u32)) -> f64 {
    match layout {
        Layout::Yuv420 | Layout::Gray if w < 16 || h < 16 => 2.0,
        Layout::Yuv420 | Layout::Gray => 1.0,
        Layout::Yuv422 | Layout::Yuv444 | Layout::Yuv440 => 3.0,
        Layout::Yuv411 => 4.0,
    }
}

/// How much further from the input the dct output may be than the pixel output (levels;
/// measured at most 0.10). 4:1:1 is the exception (measured 0.84 at 17x9, 0.21 at 203x141):
/// its chroma blocks are 32 pixels wide, and requantizing them at the output's chroma table
/// costs more than the pixel path's re-encoding at 4:2:0. A decode and re-encode that keeps
/// 4:1:1 (djpeg | cjpeg -sample 4x1) is as far from the input as the dct output.
fn worse_than_pixel_margin(layout: Layout) -> f64 {
    if layout == Layout::Yuv411 { 1.0 } else { 0.3 }
}

// ---------------------------------------------------------------------------------------------
// dct against pixel, image by image

#[test]
fn method_dct_transcodes_every_fixture_and_method_pixel_none() {
    let m = matrix();
    let (dct, pixel) = (entries(&m.dct), entries(&m.pixel));
    assert_eq!(dct.len(), m.cases.len());
    for case in &m.cases {
        let name = &case.name;
        for (method, report) in [("dct", &dct), ("pixel", &pixel)] {
            let entry = &report[name];
            assert_eq!(entry["status"], "compressed", "--method {method}: {entry}");
            assert_eq!(entry["method"], method, "--method {method}: {entry}");
        }
    }
    assert_eq!(m.dct["totals"]["dct"], m.cases.len());
    assert_eq!(m.dct["totals"]["pixel"], 0);
    assert_eq!(m.pixel["totals"]["pixel"], m.cases.len());
}

#[test]
fn dct_output_keeps_the_input_layout_and_pixel_output_is_420() {
    let m = matrix();
    for case in &m.cases {
        let name = &case.name;
        let input = fs::read(m.input(name)).expect("input");
        let dct = fs::read(m.dct(name)).expect("dct output");
        let pixel = fs::read(m.pixel(name)).expect("pixel output");
        // A gray frame's sampling factors mean nothing; the output says 1x1.
        let mut input_sampling = frame(&input).1;
        if input_sampling.len() == 1 {
            input_sampling = vec![0x11];
        }
        assert_eq!(input_sampling, case.layout.sampling(), "{name}: fixture");
        assert_eq!(frame(&dct), (0xC0, case.layout.sampling()), "{name}: dct");
        let pixel_layout = if case.layout == Layout::Gray {
            Layout::Gray
        } else {
            Layout::Yuv420
        };
        assert_eq!(
            frame(&pixel),
            (0xC0, pixel_layout.sampling()),
            "{name}: pixel"
        );
    }
}

#[test]
fn dct_and_pixel_outputs_show_the_same_picture() {
    let m = matrix();
    let mut report = Vec::new();
    let mut failures = Vec::new();
    for case in &m.cases {
        let name = &case.name;
        let input = m.picture(case);
        let dct = decode(&m.dct(name));
        let pixel = decode(&m.pixel(name));
        assert_eq!(dims(&dct), dims(&input), "{name}: dct size");
        assert_eq!(dims(&pixel), dims(&input), "{name}: pixel size");
        let between = mean_abs_diff(&dct, &pixel);
        let dct_error = mean_abs_diff(&dct, &input);
        let pixel_error = mean_abs_diff(&pixel, &input);
        report.push(format!(
            "{name:40} dct-pixel {between:5.2}  dct-input {dct_error:5.2}  pixel-input {pixel_error:5.2}"
        ));
        if between > dct_pixel_bound(case.layout, dims(&input)) {
            failures.push(format!(
                "{name}: dct and pixel outputs differ by {between:.2} levels on average"
            ));
        }
        if dct_error > pixel_error + worse_than_pixel_margin(case.layout) {
            failures.push(format!(
                "{name}: dct output is {dct_error:.2} levels from the input, pixel {pixel_error:.2}"
            ));
        }
    }
    // Shown with --nocapture, and on failure: the measured figures.
    println!("{}", report.join("\n"));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn at_quality_100_the_dct_output_decodes_to_the_input_pixels_exactly() {
    // All-ones tables: requantization is exact, every coefficient keeps its value. Any block
    // put in the wrong place, component or table shows up as a pixel difference.
    let m = matrix();
    let report = entries(&m.dct_q100);
    for case in &m.cases {
        let name = &case.name;
        assert_eq!(report[name]["method"], "dct", "{name}");
        let input = m.picture(case).to_rgb8();
        let output = decode(&m.dct_q100(name)).to_rgb8();
        assert_eq!(output.dimensions(), input.dimensions(), "{name}");
        let differing = input
            .as_raw()
            .iter()
            .zip(output.as_raw())
            .filter(|(a, b)| a != b)
            .count();
        assert_eq!(
            differing, 0,
            "{name}: {differing} samples differ from the input's"
        );
    }
}

#[test]
fn progressive_inputs_give_the_bytes_of_their_baseline_twins() {
    // jpegtran rewrites a progressive file as one baseline scan of the same coefficients. The
    // progressive scans are decoded a strip at a time, each scan in turn (DC and AC, first
    // and refinement, restart intervals, Huffman tables redefined between scans, odd sizes):
    // the coefficients, hence the output bytes, must be those of the single scan.
    let m = matrix();
    let (mut progressive, mut twins) = (Vec::new(), Vec::new());
    for case in &m.cases {
        let data = fs::read(m.input(&case.name)).expect("read a matrix input");
        if frame(&data).0 != 0xC2 {
            continue;
        }
        let twin = jpeg_tool("jpegtran", &["-copy", "none"], &data);
        assert_eq!(frame(&twin).0, 0xC0, "{}: a baseline twin", case.name);
        twins.push((case.name.clone(), twin));
        progressive.push((case.name.clone(), data));
    }
    assert!(
        progressive.len() >= 24,
        "{} progressive inputs",
        progressive.len()
    );
    write_files(&m.dir, "prog_in", &progressive);
    write_files(&m.dir, "twin_in", &twins);
    for extra in [&["--method", "dct"][..], &["--lossless"][..]] {
        let mut args = vec!["--strip", "--strip-icc", "--allow-larger"];
        args.extend_from_slice(extra);
        let _ = fs::remove_dir_all(m.dir.join("prog_out"));
        let _ = fs::remove_dir_all(m.dir.join("twin_out"));
        assert_all_dct(&photopress_json(&m.dir, "prog_in", "prog_out", &args));
        assert_all_dct(&photopress_json(&m.dir, "twin_in", "twin_out", &args));
        for (name, _) in &progressive {
            let read = |folder: &str| fs::read(m.dir.join(folder).join(name)).expect("an output");
            assert!(
                read("prog_out") == read("twin_out"),
                "{name} {extra:?}: the progressive input's output differs from its twin's"
            );
        }
    }
}

/// jpegtran's lossless transform for each EXIF orientation (2 to 8): what shows it upright.
const TURNS: [(u16, &[&str]); 7] = [
    (2, &["-flip", "horizontal"]),
    (3, &["-rotate", "180"]),
    (4, &["-flip", "vertical"]),
    (5, &["-transpose"]),
    (6, &["-rotate", "90"]),
    (7, &["-transverse"]),
    (8, &["-rotate", "270"]),
];

#[test]
fn strip_turns_rotated_photos_upright_in_the_dct_domain_as_jpegtran_does() {
    // Every layout, baseline and progressive, at a size of whole MCUs (64x32: 4:1:1's are
    // 32x8), tagged with each orientation, against jpegtran's lossless turn of the untagged
    // photo (-perfect: it fails rather than trim): the turned coefficients and tables are the
    // same, so the outputs are the same bytes. --method dct keeps each layout (4:2:2 turns
    // into 4:4:0); auto writes 4:2:0 (4:1:1 stays with the pixel path), also under --best.
    let dir = tempdir();
    let (mut tagged, mut turned) = (Vec::new(), Vec::new());
    for layout in Layout::ALL {
        for progressive in [false, true] {
            let plain = layout.encode(64, 32, progressive, Vec::new());
            for (o, args) in TURNS {
                let name = format!("{}_{}_o{o}.jpg", layout.label(), mode(progressive));
                let exif = vec![(Marker::APP(1), exif_segment(o))];
                tagged.push((name.clone(), layout.encode(64, 32, progressive, exif)));
                let mut args = args.to_vec();
                args.extend(["-perfect", "-copy", "none"]);
                turned.push((name, jpeg_tool("jpegtran", &args, &plain)));
            }
        }
    }
    write_files(dir.path(), "tagged", &tagged);
    write_files(dir.path(), "turned", &turned);
    for (method, out, best) in [
        ("dct", "dct", None),
        ("auto", "auto", None),
        ("auto", "best", Some("--best")),
    ] {
        let mut args = vec!["--strip", "--allow-larger", "--method", method];
        args.extend(best);
        let report = photopress_json(dir.path(), "tagged", &format!("{out}_tagged"), &args);
        let methods = methods(&report);
        photopress_json(dir.path(), "turned", &format!("{out}_turned"), &args);
        for (name, _) in &tagged {
            let pixel = method == "auto" && name.starts_with("411");
            let expected = if pixel { "pixel" } else { "dct" };
            assert_eq!(methods[name], expected, "{method} {name}");
            if pixel {
                continue;
            }
            let read = |folder: String| fs::read(dir.path().join(folder).join(name));
            let (a, b) = (read(format!("{out}_tagged")), read(format!("{out}_turned")));
            assert!(
                a.expect("output") == b.expect("output"),
                "{method} {name}: not jpegtran's turn"
            );
        }
    }
}

#[test]
fn a_rotated_photo_whose_mirrored_side_is_not_whole_mcus_goes_through_pixels() {
    // 4:2:0 at 72x40: neither side is whole 16-pixel MCUs. Every orientation mirrors one but
    // the transposition (5), which the transcoder takes; the others, upright through pixels.
    let dir = tempdir();
    let files: Vec<(String, Vec<u8>)> = (2..=8u16)
        .map(|o| {
            let exif = vec![(Marker::APP(1), exif_segment(o))];
            let data = Layout::Yuv420.encode(72, 40, false, exif);
            (format!("o{o}.jpg"), data)
        })
        .collect();
    write_files(dir.path(), "in", &files);
    let report = photopress_json(dir.path(), "in", "out", &["--strip", "--allow-larger"]);
    let methods = methods(&report);
    for o in 2..=8u16 {
        let name = format!("o{o}.jpg");
        let expected = if o == 5 { "dct" } else { "pixel" };
        assert_eq!(methods[&name], expected, "{name}");
        let output = decode(&dir.path().join("out").join(&name));
        let swapped = o >= 5;
        let size = if swapped { (40, 72) } else { (72, 40) };
        assert_eq!((output.width(), output.height()), size, "{name}");
    }
}

#[test]
fn metadata_is_carried_exactly_as_the_pixel_path_carries_it() {
    let m = matrix();
    for case in &m.cases {
        let name = &case.name;
        let (dct, pixel) = (m.dct(name), m.pixel(name));
        assert_eq!(icc_profile(&dct), icc_profile(&pixel), "{name}: ICC");
        assert_eq!(exif(&dct), exif(&pixel), "{name}: EXIF");
        // And that is the input's: neither path lost it.
        assert_eq!(icc_profile(&dct), case.icc, "{name}: ICC of the input");
        assert_eq!(exif(&dct).is_some(), case.exif, "{name}: EXIF of the input");
        assert_eq!(exif(&dct), exif(&m.input(name)), "{name}: EXIF bytes");
    }
}

// ---------------------------------------------------------------------------------------------
// Three decoders

#[test]
fn every_dct_output_decodes_with_the_image_crate_djpeg_and_pillow() {
    let m = matrix();
    let paths: Vec<PathBuf> = m.cases.iter().map(|c| m.dct(&c.name)).collect();
    let pillow = pillow_sizes(&paths);
    for ((case, path), pillow) in m.cases.iter().zip(&paths).zip(pillow) {
        let name = &case.name;
        let expected = dims(&m.picture(case));
        assert_eq!(dims(&decode(path)), expected, "{name}: image crate");
        assert_eq!(djpeg_size(path), expected, "{name}: djpeg");
        assert_eq!(pillow, Ok(expected), "{name}: Pillow");
    }
}

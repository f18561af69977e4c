//! The DCT-domain transcoder (`--method dct`) against the pixel path (`--method pixel`): the
//! same picture, the same header and tables, outputs every decoder reads, the right method for
//! each input, and errors worded as libjpeg words them. Fixtures are made in-process from the
//! repository's photos (mozjpeg), or with libjpeg-turbo's tools for restart intervals and
//! arithmetic coding; outputs are decoded with independent decoders.
mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use common::*;
use image::DynamicImage;
use mozjpeg::Marker;
use photopress::jpeg::dct::{self, Refusal};
use photopress::jpeg::pixel::EncodeSettings;
use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// Fixtures

/// The chroma layouts of the fixtures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layout {
    Yuv420,
    Yuv422,
    Yuv444,
    Yuv411,
    Yuv440,
    Gray,
}

impl Layout {
    const ALL: [Layout; 6] = [
        Layout::Yuv420,
        Layout::Yuv422,
        Layout::Yuv444,
        Layout::Yuv411,
        Layout::Yuv440,
        Layout::Gray,
    ];

    fn label(self) -> &'static str {
        match self {
            Layout::Yuv420 => "420",
            Layout::Yuv422 => "422",
            Layout::Yuv444 => "444",
            Layout::Yuv411 => "411",
            Layout::Yuv440 => "440",
            Layout::Gray => "gray",
        }
    }

    /// The SOF sampling bytes (h << 4 | v) of a file in this layout.
    fn sampling(self) -> Vec<u8> {
        match self {
            Layout::Yuv420 => vec![0x22, 0x11, 0x11],
            Layout::Yuv422 => vec![0x21, 0x11, 0x11],
            Layout::Yuv444 => vec![0x11, 0x11, 0x11],
            Layout::Yuv411 => vec![0x41, 0x11, 0x11],
            Layout::Yuv440 => vec![0x12, 0x11, 0x11],
            Layout::Gray => vec![0x11],
        }
    }

    /// How to encode a fixture in this layout (quality 90, baseline, no extra segments).
    fn fixture(self) -> Fixture {
        let chroma = match self {
            Layout::Yuv420 | Layout::Gray => (2, 2),
            Layout::Yuv422 => (2, 1),
            Layout::Yuv444 => (1, 1),
            Layout::Yuv411 => (4, 1),
            Layout::Yuv440 => (1, 2),
        };
        Fixture {
            chroma,
            ..Fixture::default()
        }
    }

    /// A `w` x `h` photo fixture in this layout, encoded as `f` says.
    fn encode_with(self, w: usize, h: usize, f: &Fixture) -> Vec<u8> {
        let rgb = pixels_of_size(w, h);
        if self == Layout::Gray {
            let gray: Vec<u8> = rgb.chunks_exact(3).map(|p| p[1]).collect();
            encode_gray(&gray, w, h, f)
        } else {
            encode_rgb(&rgb, w, h, f)
        }
    }

    /// A `w` x `h` photo fixture in this layout, with `markers` after the encoder's own.
    fn encode(
        self,
        w: usize,
        h: usize,
        progressive: bool,
        markers: Vec<(Marker, Vec<u8>)>,
    ) -> Vec<u8> {
        let f = Fixture {
            progressive,
            markers,
            ..self.fixture()
        };
        self.encode_with(w, h, &f)
    }
}

fn mode(progressive: bool) -> &'static str {
    if progressive {
        "progressive"
    } else {
        "baseline"
    }
}

/// The segments of a photo with metadata: the ICC profile `icc`, EXIF (orientation 1), XMP
/// and a comment.
fn metadata_markers(icc: &[u8]) -> Vec<(Marker, Vec<u8>)> {
    let mut markers = icc_segments(icc, 65_519);
    markers.push((Marker::APP(1), exif_segment(1)));
    markers.push((
        Marker::APP(1),
        b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta xmlns:x='adobe:ns:meta/'/>".to_vec(),
    ));
    markers.push((Marker::COM, b"a comment".to_vec()));
    markers
}

fn test_icc() -> Vec<u8> {
    icc_profile_bytes(3_144, b"Display P3")
}

/// `data` with its JFIF density set (the fixtures' encoder writes JFIF first, at offset 2).
fn with_density(mut data: Vec<u8>, units: u8, x: u16, y: u16) -> Vec<u8> {
    assert_eq!(&data[2..4], [0xFF, 0xE0], "APP0 first");
    assert_eq!(&data[6..11], b"JFIF\0");
    data[13] = units;
    data[14..16].copy_from_slice(&x.to_be_bytes());
    data[16..18].copy_from_slice(&y.to_be_bytes());
    data
}

/// `data` without its JFIF segment.
fn without_jfif(mut data: Vec<u8>) -> Vec<u8> {
    assert_eq!(&data[2..4], [0xFF, 0xE0], "APP0 first");
    let len = usize::from(u16::from_be_bytes([data[4], data[5]]));
    data.drain(2..4 + len);
    data
}

/// An Adobe APP14 segment saying the components are YCbCr (transform 1), as Photoshop writes.
fn adobe_ycbcr_segment() -> (Marker, Vec<u8>) {
    (Marker::APP(14), b"Adobe\0\x64\0\0\0\0\x01".to_vec())
}

/// A fixture's picture as decoded by libjpeg-turbo's `djpeg`, as PPM.
fn ppm_of(jpeg: &[u8]) -> Vec<u8> {
    jpeg_tool("djpeg", &["-ppm"], jpeg)
}

// ---------------------------------------------------------------------------------------------
// JPEG structure

/// The segments of a JPEG up to its first SOS: (offset of the marker, code, payload).
fn segments(data: &[u8]) -> Vec<(usize, u8, &[u8])> {
    assert_eq!(&data[..2], [0xFF, 0xD8], "SOI");
    let mut out = Vec::new();
    let mut pos = 2;
    while pos + 4 <= data.len() {
        assert_eq!(data[pos], 0xFF, "marker expected at {pos}");
        let code = data[pos + 1];
        let len = usize::from(u16::from_be_bytes([data[pos + 2], data[pos + 3]]));
        out.push((pos, code, &data[pos + 4..pos + 2 + len]));
        if code == 0xDA {
            break;
        }
        pos += 2 + len;
    }
    out
}

/// The bytes before the first DQT segment: SOI, JFIF and the kept segments.
fn header_before_dqt(data: &[u8]) -> &[u8] {
    let (at, _, _) = *segments(data)
        .iter()
        .find(|(_, code, _)| *code == 0xDB)
        .expect("a DQT segment");
    &data[..at]
}

/// Every quantization table in file order: (precision << 4 | id, 64 values in zigzag order).
fn dqt_tables(data: &[u8]) -> Vec<(u8, Vec<u16>)> {
    let mut tables = Vec::new();
    for (_, _, mut body) in segments(data).into_iter().filter(|s| s.1 == 0xDB) {
        while !body.is_empty() {
            let sixteen = body[0] >> 4 == 1;
            let size = if sixteen { 128 } else { 64 };
            let values = &body[1..1 + size];
            let values = if sixteen {
                values
                    .chunks_exact(2)
                    .map(|b| u16::from_be_bytes([b[0], b[1]]))
                    .collect()
            } else {
                values.iter().map(|&v| u16::from(v)).collect()
            };
            tables.push((body[0], values));
            body = &body[1 + size..];
        }
    }
    tables
}

/// The frame header: SOF marker code and each component's sampling byte.
fn frame(data: &[u8]) -> (u8, Vec<u8>) {
    let (_, code, body) = *segments(data)
        .iter()
        .find(|(_, code, _)| matches!(code, 0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF))
        .expect("a SOF segment");
    let count = usize::from(body[5]);
    (code, (0..count).map(|i| body[6 + 3 * i + 1]).collect())
}

// ---------------------------------------------------------------------------------------------
// Runs of the command line

/// Runs photopress on `input` (relative to `dir`) into `output`, keeping file names.
fn photopress(dir: &Path, input: &str, output: &str, extra: &[&str]) -> Run {
    let mut args = vec![input, "-o", output, "--prefix", "", "--progress", "never"];
    args.extend_from_slice(extra);
    run(dir, &args)
}

/// As [`photopress`] with `--json`; the run must succeed. Returns the report.
fn photopress_json(dir: &Path, input: &str, output: &str, extra: &[&str]) -> Value {
    let mut args = extra.to_vec();
    args.push("--json");
    let run = photopress(dir, input, output, &args);
    assert_eq!(run.code, 0, "photopress {extra:?}:\n{}", run.stderr);
    serde_json::from_str(&run.stdout).expect("JSON report")
}

/// Writes `files` into `dir/name` and returns that folder.
fn write_files(dir: &Path, name: &str, files: &[(String, Vec<u8>)]) -> PathBuf {
    let folder = dir.join(name);
    fs::create_dir_all(&folder).expect("create input folder");
    for (file, data) in files {
        fs::write(folder.join(file), data).expect("write fixture");
    }
    folder
}

/// The report's entry for each input file name.
fn entries(report: &Value) -> BTreeMap<String, Value> {
    report["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| {
            let input = Path::new(f["input"].as_str().expect("input"));
            let name = input.file_name().expect("file name").to_string_lossy();
            (name.into_owned(), f.clone())
        })
        .collect()
}

/// The method the report gives each input file name.
fn methods(report: &Value) -> BTreeMap<String, String> {
    entries(report)
        .into_iter()
        .map(|(name, f)| {
            let method = f["method"].as_str().unwrap_or("none").to_string();
            (name, method)
        })
        .collect()
}

/// The report gives exactly these `(file name, method)`.
fn expect_methods(report: &Value, expected: &[(&str, &str)]) {
    let got = methods(report);
    let expected: BTreeMap<String, String> = expected
        .iter()
        .map(|(n, m)| (n.to_string(), m.to_string()))
        .collect();
    assert_eq!(got, expected, "{report}");
}

/// All the report's images went through the transcoder.
fn assert_all_dct(report: &Value) {
    let methods = methods(report);
    assert!(methods.values().all(|m| m == "dct"), "{methods:?}");
}

/// The report's `Methods dct N, pixel M` line.
fn methods_line(stdout: &str) -> &str {
    stdout
        .lines()
        .find(|l| l.starts_with("Methods "))
        .unwrap_or_else(|| panic!("no 'Methods' line in:\n{stdout}"))
}

fn dims(img: &DynamicImage) -> (u32, u32) {
    (img.width(), img.height())
}

/// The stderr line that logs `name`'s failure.
fn error_line<'a>(stderr: &'a str, name: &str) -> &'a str {
    stderr
        .lines()
        .find(|l| l.contains("ERROR") && l.contains(name))
        .unwrap_or_else(|| panic!("no ERROR line naming {name} in:\n{stderr}"))
}

// ---------------------------------------------------------------------------------------------
// Independent decoders

/// Decodes with libjpeg-turbo's `djpeg`: it must exit 0 with nothing on stderr (no warning).
/// Returns the decoded size.
fn djpeg_size(path: &Path) -> (u32, u32) {
    let out = Command::new("djpeg")
        .arg(path)
        .stdin(Stdio::null())
        .output()
        .expect("run djpeg: install libjpeg-turbo-progs (./scripts/install-deps.sh)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.trim().is_empty(),
        "djpeg {}: {} {stderr}",
        path.display(),
        out.status
    );
    // PPM/PGM header: "P6\n<w> <h>\n255\n".
    let head = String::from_utf8_lossy(&out.stdout[..out.stdout.len().min(32)]).into_owned();
    let mut fields = head.split_ascii_whitespace().skip(1);
    let mut next = || -> u32 {
        fields
            .next()
            .and_then(|f| f.parse().ok())
            .unwrap_or_else(|| panic!("djpeg output header {head:?}"))
    };
    (next(), next())
}

/// Opens and loads each file with Pillow (one python3 process for all): each one's size, or
/// Pillow's error.
fn pillow_sizes(paths: &[PathBuf]) -> Vec<Result<(u32, u32), String>> {
    const SCRIPT: &str = "
import sys
try:
    from PIL import Image
except ImportError as e:
    print('NO-PIL', e)
    sys.exit(3)
for p in sys.argv[1:]:
    try:
        im = Image.open(p)
        im.load()
        print('OK', im.size[0], im.size[1])
    except Exception as e:
        print('ERR', repr(e).replace('\\n', ' '))
";
    let out = Command::new("python3")
        .arg("-c")
        .arg(SCRIPT)
        .args(paths)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run python3 ({e}): install python3 and Pillow (./scripts/install-deps.sh)"
            )
        });
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.code() != Some(3),
        "python3 cannot import PIL ({}): install Pillow (./scripts/install-deps.sh installs python3-pil)",
        stdout.trim()
    );
    assert!(
        out.status.success(),
        "python3 failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Vec<_> = stdout
        .lines()
        .map(
            |line| match line.split_ascii_whitespace().collect::<Vec<_>>()[..] {
                ["OK", w, h] => Ok((w.parse().expect("width"), h.parse().expect("height"))),
                _ => Err(line.to_string()),
            },
        )
        .collect();
    assert_eq!(results.len(), paths.len(), "one line per file:\n{stdout}");
    results
}

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
// 1. dct against pixel, image by image

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
// 2. Three decoders

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

// ---------------------------------------------------------------------------------------------
// 3. Header and tables

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
            assert!(
                !has(b"Adobe"),
                "{name} {flags:?}: the Adobe segment is dropped"
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

// ---------------------------------------------------------------------------------------------
// 4. Method selection

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
// 5. Errors

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
    assert_eq!(entry["method"], "dct", "{entry}");
    assert_eq!(entry["output"], Value::Null);
    assert_eq!(
        entry["error"],
        "not a valid JPEG: Premature end of JPEG file (the file ends early: an incomplete copy or \
         download? --accept-truncated keeps what can be decoded)",
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

// ---------------------------------------------------------------------------------------------
// 6. The library

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

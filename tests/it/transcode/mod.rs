//! The DCT-domain transcoder (`--method dct`) against the pixel path (`--method pixel`): the
//! same picture, the same header and tables, outputs every decoder reads, the right method for
//! each input, and errors worded as libjpeg words them. Fixtures are made in-process from the
//! repository's photos (mozjpeg), or with libjpeg-turbo's tools for restart intervals and
//! arithmetic coding; outputs are decoded with independent decoders.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::common::*;
use image::DynamicImage;
use mozjpeg::Marker;
use serde_json::Value;

mod against_pixel;
mod errors;
mod header;
mod method;

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

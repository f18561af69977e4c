//! Chroma downsampling in the DCT domain: under the default method (auto), 4:4:4, 4:2:2 and
//! 4:4:0 photos go through the transcoder and come out 4:2:0, as the pixel path writes them.
//! Fixtures are made in the test (mozjpeg, and cjpeg for restart intervals), baseline and
//! progressive, at odd sizes; outputs are read by djpeg, the `image` crate and Pillow (when
//! python3 has it), and compared with `--method pixel`'s.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::*;
use image::DynamicImage;
use serde_json::Value;

/// The input layouts auto now downsamples: name, mozjpeg's chroma pixel size, cjpeg's
/// `-sample` (luma factors).
const LAYOUTS: [(&str, (u8, u8), &str); 3] = [
    ("444", (1, 1), "1x1"),
    ("422", (2, 1), "2x1"),
    ("440", (1, 2), "1x2"),
];

/// The SOF sampling bytes of a 4:2:0 file.
const YUV420: [u8; 3] = [0x22, 0x11, 0x11];

/// Most mean absolute difference (levels of 0..255, RGB, decoded by the `image` crate)
/// allowed between the outputs of auto (DCT-domain downsampling) and of `--method pixel`,
/// per input layout, at quality 30 (the default). Measured on these fixtures (77x53, 96x64,
/// baseline, progressive, restarts), with the chroma smoothed as the pixel path smooths it
/// and 0/±1 ties rounded to 0: at most 0.694 (4:4:4), 0.673 (4:2:2), 0.561 (4:4:0).
/// A picture of one partial MCU (9x17) has a looser bound: there the two paths pad the chroma
/// differently, 1.124 (4:4:4, 4:2:2) and 2.885 (4:4:0, where the pixel path's output is 3.87
/// levels from the input and the transcoder's 2.46). A misplaced, mis-scaled or unmirrored
/// block costs more than these.
fn bound(layout: &str, (w, h): (u32, u32)) -> f64 {
    if w < 16 || h < 16 {
        return 3.0;
    }
    match layout {
        "444" => 0.75,
        "422" => 0.75,
        "440" => 0.6,
        _ => unreachable!("{layout}"),
    }
}

/// A binary PPM of `w` x `h` photo pixels (cjpeg's input).
fn ppm(w: usize, h: usize) -> Vec<u8> {
    let mut data = format!("P6\n{w} {h}\n255\n").into_bytes();
    data.extend_from_slice(&pixels_of_size(w, h));
    data
}

/// The fixtures: each layout, baseline and progressive, at odd and even sizes (mozjpeg), and
/// with restart intervals (cjpeg). Name → (layout, bytes).
fn fixtures() -> Vec<(String, &'static str, Vec<u8>)> {
    let mut files = Vec::new();
    for (layout, chroma, sample) in LAYOUTS {
        for (w, h) in [(77, 53), (96, 64), (9, 17)] {
            for progressive in [false, true] {
                let f = Fixture {
                    chroma,
                    progressive,
                    ..Fixture::default()
                };
                let mode = if progressive {
                    "progressive"
                } else {
                    "baseline"
                };
                files.push((
                    format!("{layout}_{mode}_{w}x{h}.jpg"),
                    layout,
                    encode_rgb(&pixels_of_size(w, h), w, h, &f),
                ));
            }
        }
        // Restart intervals: every MCU (baseline), every 3 MCUs (progressive), odd size.
        let image = ppm(77, 53);
        let tool = |args: &[&str]| {
            let mut all = vec!["-quality", "90", "-sample", sample];
            all.extend_from_slice(args);
            jpeg_tool("cjpeg", &all, &image)
        };
        files.push((
            format!("{layout}_restart1_77x53.jpg"),
            layout,
            tool(&["-restart", "1B"]),
        ));
        files.push((
            format!("{layout}_progressive_restart3_77x53.jpg"),
            layout,
            tool(&["-progressive", "-restart", "3B"]),
        ));
    }
    files
}

/// The sampling bytes (h << 4 | v) of a JPEG's frame header.
fn sampling(data: &[u8]) -> Vec<u8> {
    let mut pos = 2;
    while pos + 4 <= data.len() {
        assert_eq!(data[pos], 0xFF, "a marker at {pos}");
        let code = data[pos + 1];
        let len = usize::from(data[pos + 2]) << 8 | usize::from(data[pos + 3]);
        if matches!(code, 0xC0..=0xC2) {
            let body = &data[pos + 4..pos + 2 + len];
            let count = usize::from(body[5]);
            return (0..count).map(|i| body[6 + 3 * i + 1]).collect();
        }
        pos += 2 + len;
    }
    panic!("no SOF segment");
}

/// Runs photopress on `dir/in` into `dir/out` with `extra`, `--json`, keeping names.
fn compress(dir: &Path, out: &str, extra: &[&str]) -> Value {
    let mut args = vec![
        "in",
        "-o",
        out,
        "--prefix",
        "",
        "--progress",
        "never",
        "--allow-larger",
        "--json",
    ];
    args.extend_from_slice(extra);
    let run = run(dir, &args);
    assert_eq!(run.code, 0, "photopress {extra:?}:\n{}", run.stderr);
    json(&run)
}

/// The method the report gives each input file name.
fn methods(report: &Value) -> BTreeMap<String, String> {
    report["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| {
            let input = Path::new(f["input"].as_str().expect("input"));
            let name = input.file_name().expect("name").to_string_lossy();
            let method = f["method"].as_str().unwrap_or("none");
            (name.into_owned(), method.to_string())
        })
        .collect()
}

/// Decodes with libjpeg-turbo's djpeg (no warning allowed), `-grayscale` when asked: the
/// PNM it writes.
fn djpeg(path: &Path, grayscale: bool) -> Vec<u8> {
    let mut cmd = Command::new("djpeg");
    if grayscale {
        cmd.arg("-grayscale");
    }
    let out = cmd
        .arg(path)
        .stdin(Stdio::null())
        .output()
        .expect("run djpeg: install libjpeg-turbo-progs (./scripts/install-deps.sh)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.trim().is_empty(),
        "djpeg {}: {stderr}",
        path.display()
    );
    out.stdout
}

/// Width and height from a PNM header.
fn pnm_size(pnm: &[u8]) -> (u32, u32) {
    let text = String::from_utf8_lossy(&pnm[..pnm.len().min(64)]);
    let mut fields = text.split_ascii_whitespace().skip(1);
    let mut next = || -> u32 { fields.next().expect("field").parse().expect("number") };
    (next(), next())
}

/// Pillow's reading of `paths`: `Some(sizes)`, or `None` when python3 has no Pillow.
fn pillow_sizes(paths: &[&Path]) -> Option<Vec<String>> {
    const SCRIPT: &str = "
import sys
try:
    from PIL import Image
except ImportError:
    sys.exit(3)
for p in sys.argv[1:]:
    try:
        im = Image.open(p)
        im.load()
        print(im.size[0], im.size[1])
    except Exception as e:
        print('ERR', repr(e).replace('\\n', ' '))
";
    let out = Command::new("python3")
        .arg("-c")
        .arg(SCRIPT)
        .args(paths)
        .stdin(Stdio::null())
        .output()
        .ok()?;
    if out.status.code() == Some(3) {
        return None;
    }
    assert!(out.status.success(), "python3 failed");
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect(),
    )
}

fn dims(img: &DynamicImage) -> (u32, u32) {
    (img.width(), img.height())
}

#[test]
fn auto_downsamples_to_420_in_the_dct_domain_close_to_the_pixel_path() {
    let tmp = tempdir();
    let files = fixtures();
    fs::create_dir_all(tmp.path().join("in")).expect("mkdir");
    for (name, _, data) in &files {
        fs::write(tmp.path().join("in").join(name), data).expect("write");
    }
    let auto = compress(tmp.path(), "auto", &[]);
    let pixel = compress(tmp.path(), "pixel", &["--method", "pixel"]);
    let (auto_methods, pixel_methods) = (methods(&auto), methods(&pixel));
    assert_eq!(auto_methods.len(), files.len());
    assert_eq!(auto["totals"]["pixel"], 0, "{auto_methods:?}");
    let mut figures = Vec::new();
    let mut failures = Vec::new();
    let mut paths = Vec::new();
    for (name, layout, data) in &files {
        assert_eq!(auto_methods[name], "dct", "{name}");
        assert_eq!(pixel_methods[name], "pixel", "{name}");
        let input = tmp.path().join("in").join(name);
        let (dct_path, pixel_path) = (
            tmp.path().join("auto").join(name),
            tmp.path().join("pixel").join(name),
        );
        let output = fs::read(&dct_path).expect("auto output");
        assert_ne!(sampling(data), YUV420, "{name}: the fixture is not 4:2:0");
        assert_eq!(sampling(&output), YUV420, "{name}: the output is 4:2:0");
        assert_eq!(
            sampling(&fs::read(&pixel_path).expect("pixel output")),
            YUV420,
            "{name}: so is the pixel path's"
        );
        let (dct, pix, original) = (decode(&dct_path), decode(&pixel_path), decode(&input));
        assert_eq!(dims(&dct), dims(&original), "{name}: size");
        assert_eq!(
            pnm_size(&djpeg(&dct_path, false)),
            dims(&original),
            "{name}: djpeg"
        );
        let between = mean_abs_diff(&dct, &pix);
        let dct_error = mean_abs_diff(&dct, &original);
        let pixel_error = mean_abs_diff(&pix, &original);
        figures.push(format!(
            "{name:36} dct-pixel {between:5.3}  dct-input {dct_error:5.3}  pixel-input {pixel_error:5.3}"
        ));
        if between > bound(layout, dims(&original)) {
            failures.push(format!(
                "{name}: the outputs differ by {between:.3} levels on average"
            ));
        }
        // No worse than the pixel path by more than a fraction of a level.
        if dct_error > pixel_error + 0.25 {
            failures.push(format!(
                "{name}: {dct_error:.3} levels from the input, the pixel path {pixel_error:.3}"
            ));
        }
        paths.push(dct_path);
    }
    // Shown with --nocapture: the measured figures.
    println!("{}", figures.join("\n"));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let refs: Vec<&Path> = paths.iter().map(|p| p.as_path()).collect();
    match pillow_sizes(&refs) {
        None => println!("python3 has no Pillow: the Pillow check is skipped"),
        Some(lines) => {
            assert_eq!(lines.len(), files.len());
            for ((name, _, _), line) in files.iter().zip(&lines) {
                let original = decode(&tmp.path().join("in").join(name));
                let (w, h) = dims(&original);
                assert_eq!(*line, format!("{w} {h}"), "{name}: Pillow");
            }
        }
    }
}

#[test]
fn at_quality_100_a_444_inputs_luma_is_reproduced_exactly() {
    let tmp = tempdir();
    fs::create_dir_all(tmp.path().join("in")).expect("mkdir");
    let (w, h) = (77, 53);
    let names = ["baseline.jpg", "progressive.jpg", "restart.jpg"];
    for (name, progressive) in names[..2].iter().zip([false, true]) {
        let f = Fixture {
            chroma: (1, 1),
            progressive,
            ..Fixture::default()
        };
        let data = encode_rgb(&pixels_of_size(w, h), w, h, &f);
        fs::write(tmp.path().join("in").join(name), data).expect("write");
    }
    let restart = jpeg_tool(
        "cjpeg",
        &["-quality", "85", "-sample", "1x1", "-restart", "2B"],
        &ppm(w, h),
    );
    fs::write(tmp.path().join("in").join(names[2]), restart).expect("write");
    let report = compress(tmp.path(), "out", &["-q", "100"]);
    let methods = methods(&report);
    for name in names {
        assert_eq!(methods[name], "dct", "{name}");
        let (input, output) = (
            tmp.path().join("in").join(name),
            tmp.path().join("out").join(name),
        );
        assert_eq!(
            sampling(&fs::read(&output).expect("output")),
            YUV420,
            "{name}"
        );
        // djpeg -grayscale of a YCbCr JPEG is its Y plane: the same luma coefficients,
        // dequantized to the same values, decode to the same bytes.
        let (before, after) = (djpeg(&input, true), djpeg(&output, true));
        assert_eq!(pnm_size(&after), (w as u32, h as u32), "{name}");
        assert!(before == after, "{name}: the luma plane changed");
        // While the colours are downsampled, not dropped.
        let diff = mean_abs_diff(&decode(&input), &decode(&output));
        assert!(diff > 0.0 && diff < 3.0, "{name}: {diff}");
    }
}

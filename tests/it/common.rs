//! Shared helpers of the integration tests: run the real binary in a temp dir, make JPEG
//! fixtures from the repository's photos, decode outputs with an independent decoder (the
//! `image` crate's), and compare pictures.

use std::collections::BTreeMap;
use std::fs;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, SystemTime};

use image::{DynamicImage, ImageDecoder};
use mozjpeg::{ColorSpace, Compress, Decompress, Marker};

pub const PHOTOS: [&str; 4] = ["dogs.jpg", "fig.jpg", "leaf.jpg", "mountains.jpg"];

/// The repository's `IMAGES/` folder.
pub fn images_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("IMAGES")
}

pub fn photo(name: &str) -> PathBuf {
    images_dir().join(name)
}

pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("photopress-test-")
        .tempdir()
        .expect("create a temp dir")
}

/// Copies the four photos into `dir/IMAGES` and returns that folder.
pub fn copy_photos(dir: &Path) -> PathBuf {
    let dest = dir.join("IMAGES");
    fs::create_dir_all(&dest).expect("create IMAGES");
    for name in PHOTOS {
        fs::copy(photo(name), dest.join(name)).expect("copy photo");
    }
    dest
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(output: Output) -> Self {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// Runs `cmd` with `input` on its stdin (fed from another thread, so a large output cannot
/// block it): the run, and its stdout as bytes.
pub fn run_piped(cmd: &mut Command, input: &[u8]) -> (Run, Vec<u8>) {
    use std::io::Write;
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn photopress");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    let feeder = std::thread::spawn(move || stdin.write_all(&input));
    let output = child.wait_with_output().expect("wait for photopress");
    let _ = feeder.join();
    let bytes = output.stdout.clone();
    (Run::from(output), bytes)
}

/// A stand-in object store as the tests drive it, not through photopress (Azurite:
/// `tests/azurite`; the GCS stand-in: `tests/gcs`). Listings are sorted by key.
pub trait Store {
    /// The environment a photopress process needs to reach it.
    fn env(&self) -> Vec<(String, String)>;
    fn create(&self, bucket: &str);
    fn put(&self, bucket: &str, key: &str, bytes: &[u8]);
    fn get(&self, bucket: &str, key: &str) -> Option<Vec<u8>>;
    fn delete(&self, bucket: &str, key: &str);
    /// Every object below `prefix`, with its size.
    fn list(&self, bucket: &str, prefix: &str) -> Vec<(String, u64)>;
}

pub fn command(cwd: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_photopress"));
    cmd.current_dir(cwd)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null());
    cmd
}

/// Runs photopress in `cwd` with `args` and waits for it.
pub fn run<S: AsRef<std::ffi::OsStr>>(cwd: &Path, args: &[S]) -> Run {
    Run::from(command(cwd).args(args).output().expect("run photopress"))
}

/// Runs photopress through `bash -c` with a file-size limit (in KiB).
pub fn run_with_file_limit(cwd: &Path, kib: u32, args: &str) -> Run {
    let script = format!("ulimit -f {kib}; exec \"$0\" {args}");
    Run::from(
        Command::new("bash")
            .arg("-c")
            .arg(script)
            .arg(env!("CARGO_BIN_EXE_photopress"))
            .current_dir(cwd)
            .env_remove("RUST_LOG")
            .output()
            .expect("run bash"),
    )
}

/// Decodes with the `image` crate (zune-jpeg: a decoder independent of photopress's).
pub fn decode(path: &Path) -> DynamicImage {
    image::ImageReader::open(path)
        .and_then(|r| r.with_guessed_format())
        .unwrap_or_else(|e| panic!("open {}: {e}", path.display()))
        .decode()
        .unwrap_or_else(|e| panic!("decode {}: {e}", path.display()))
}

fn jpeg_decoder(path: &Path) -> image::codecs::jpeg::JpegDecoder<BufReader<fs::File>> {
    let file = fs::File::open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    image::codecs::jpeg::JpegDecoder::new(BufReader::new(file))
        .unwrap_or_else(|e| panic!("read header of {}: {e}", path.display()))
}

pub fn icc_profile(path: &Path) -> Option<Vec<u8>> {
    jpeg_decoder(path).icc_profile().expect("read ICC")
}

pub fn exif(path: &Path) -> Option<Vec<u8>> {
    jpeg_decoder(path).exif_metadata().expect("read EXIF")
}

/// The EXIF orientation (1..=8) a viewer would apply, 1 when there is none.
pub fn orientation(path: &Path) -> u8 {
    exif(path)
        .and_then(|chunk| image::metadata::Orientation::from_exif_chunk(&chunk))
        .map_or(1, |o| o.to_exif())
}

/// Mean of each RGB channel.
pub fn mean_rgb(img: &DynamicImage) -> [f64; 3] {
    let rgb = img.to_rgb8();
    let mut sums = [0f64; 3];
    for p in rgb.pixels() {
        for (sum, v) in sums.iter_mut().zip(p.0) {
            *sum += f64::from(v);
        }
    }
    let n = (rgb.width() * rgb.height()).max(1) as f64;
    sums.map(|s| s / n)
}

/// Mean absolute difference per channel of two same-sized pictures, in levels (0..255).
pub fn mean_abs_diff(a: &DynamicImage, b: &DynamicImage) -> f64 {
    let (a, b) = (a.to_rgb8(), b.to_rgb8());
    assert_eq!(a.dimensions(), b.dimensions(), "sizes differ");
    let total: u64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    total as f64 / a.as_raw().len().max(1) as f64
}

pub fn assert_close(a: [f64; 3], b: [f64; 3], tolerance: f64, what: &str) {
    for c in 0..3 {
        assert!(
            (a[c] - b[c]).abs() <= tolerance,
            "{what}: mean colour {a:?} vs {b:?} (tolerance {tolerance})"
        );
    }
}

/// RGB pixels of a real photo, scaled by `eighths`/8 when decoding.
pub fn photo_pixels(name: &str, eighths: u8) -> (Vec<u8>, usize, usize) {
    let data = fs::read(photo(name)).expect("read photo");
    let mut d = Decompress::new_mem(&data).expect("photo header");
    d.scale(eighths);
    let mut d = d.rgb().expect("start decode");
    let (w, h) = (d.width(), d.height());
    let pixels: Vec<u8> = d.read_scanlines().expect("decode photo");
    d.finish().expect("finish decode");
    (pixels, w, h)
}

/// `w` x `h` RGB pixels cut from the top-left of a photo (tiled if larger).
pub fn pixels_of_size(w: usize, h: usize) -> Vec<u8> {
    let (src, sw, sh) = photo_pixels("leaf.jpg", 2);
    let mut out = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        for x in 0..w {
            let i = ((y % sh) * sw + (x % sw)) * 3;
            out.extend_from_slice(&src[i..i + 3]);
        }
    }
    out
}

/// How to encode a fixture.
#[derive(Clone, Debug)]
pub struct Fixture {
    /// Chroma pixel size (h, v): (1,1) 4:4:4, (2,1) 4:2:2, (2,2) 4:2:0, (4,1) 4:1:1, (1,2) 4:4:0.
    pub chroma: (u8, u8),
    pub progressive: bool,
    pub quality: u8,
    /// Extra segments written after the encoder's own.
    pub markers: Vec<(Marker, Vec<u8>)>,
}

impl Default for Fixture {
    fn default() -> Self {
        Fixture {
            chroma: (2, 2),
            progressive: false,
            quality: 90,
            markers: Vec::new(),
        }
    }
}

fn encode(space: ColorSpace, pixels: &[u8], w: usize, h: usize, f: &Fixture) -> Vec<u8> {
    let mut c = Compress::new(space);
    c.set_fastest_defaults();
    c.set_size(w, h);
    c.set_quality(f32::from(f.quality));
    if space == ColorSpace::JCS_RGB {
        c.set_chroma_sampling_pixel_sizes(f.chroma, f.chroma);
    }
    if f.progressive {
        c.set_progressive_mode();
    }
    let mut c = c.start_compress(Vec::new()).expect("start encode");
    for (marker, data) in &f.markers {
        c.write_marker(*marker, data);
    }
    c.write_scanlines(pixels).expect("encode");
    c.finish().expect("finish encode")
}

pub fn encode_rgb(pixels: &[u8], w: usize, h: usize, f: &Fixture) -> Vec<u8> {
    encode(ColorSpace::JCS_RGB, pixels, w, h, f)
}

pub fn encode_gray(pixels: &[u8], w: usize, h: usize, f: &Fixture) -> Vec<u8> {
    encode(ColorSpace::JCS_GRAYSCALE, pixels, w, h, f)
}

/// A CMYK JPEG as Adobe writes it: inverted ink values, with an Adobe segment.
pub fn encode_adobe_cmyk(rgb: &[u8], w: usize, h: usize) -> Vec<u8> {
    // Naive ink (C=255-R, ...), K=0; Adobe stores 255-ink: R, G, B and 255.
    let cmyk: Vec<u8> = rgb
        .chunks_exact(3)
        .flat_map(|p| [p[0], p[1], p[2], 255])
        .collect();
    encode(ColorSpace::JCS_CMYK, &cmyk, w, h, &Fixture::default())
}

/// An EXIF segment (with its `Exif\0\0` header) holding only an orientation tag.
pub fn exif_segment(orientation: u16) -> Vec<u8> {
    let mut v = b"Exif\0\0".to_vec();
    v.extend_from_slice(b"II*\0"); // little-endian TIFF
    v.extend_from_slice(&8u32.to_le_bytes()); // IFD0 at 8
    v.extend_from_slice(&1u16.to_le_bytes()); // one entry
    v.extend_from_slice(&0x0112u16.to_le_bytes()); // Orientation
    v.extend_from_slice(&3u16.to_le_bytes()); // SHORT
    v.extend_from_slice(&1u32.to_le_bytes()); // count
    v.extend_from_slice(&orientation.to_le_bytes());
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(&0u32.to_le_bytes()); // no next IFD
    v
}

/// A structurally valid ICC profile of `len` bytes (header, empty tag table, padding) whose
/// description bytes are `tag`, so tests can tell profiles apart.
pub fn icc_profile_bytes(len: usize, tag: &[u8]) -> Vec<u8> {
    let mut p = vec![0u8; len.max(132)];
    let size = p.len() as u32;
    p[0..4].copy_from_slice(&size.to_be_bytes());
    p[8..12].copy_from_slice(&[4, 0x40, 0, 0]); // version 4.4
    p[12..16].copy_from_slice(b"mntr");
    p[16..20].copy_from_slice(b"RGB ");
    p[20..24].copy_from_slice(b"XYZ ");
    p[36..40].copy_from_slice(b"acsp");
    for (i, b) in p.iter_mut().enumerate().skip(132) {
        *b = tag[i % tag.len()];
    }
    p
}

/// The APP2 segments that carry `profile`, split in chunks of at most `chunk` bytes.
pub fn icc_segments(profile: &[u8], chunk: usize) -> Vec<(Marker, Vec<u8>)> {
    let chunks: Vec<&[u8]> = profile.chunks(chunk).collect();
    let n = chunks.len() as u8;
    chunks
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut seg = b"ICC_PROFILE\0".to_vec();
            seg.extend([i as u8 + 1, n]);
            seg.extend_from_slice(c);
            (Marker::APP(2), seg)
        })
        .collect()
}

/// Runs one of libjpeg-turbo's command-line tools (libjpeg-turbo-progs), feeding `input`.
pub fn jpeg_tool(tool: &str, args: &[&str], input: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut child = Command::new(tool)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {tool} ({e}): install libjpeg-turbo-progs (./scripts/install-deps.sh)"
            )
        });
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    let feeder = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().expect("wait for tool");
    feeder.join().expect("feeder").expect("feed tool");
    assert!(out.status.success(), "{tool} {args:?} failed");
    out.stdout
}

/// The files of a folder (names), sorted.
pub fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("list {}: {e}", dir.display()))
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Parses the text report into (input bytes, output bytes, rate, last line).
pub fn parse_report(stdout: &str) -> (u64, u64, f64, String) {
    let value = |prefix: &str| -> String {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no '{prefix}' line in:\n{stdout}"))
            .trim()
            .to_string()
    };
    (
        value("Total files size ").parse().expect("input bytes"),
        value("Total compressed files size ")
            .parse()
            .expect("output bytes"),
        value("Compression rate ").parse().expect("rate"),
        stdout.lines().last().unwrap_or_default().to_string(),
    )
}

/// The stdout of a `--json` run, parsed (a panic shows both streams).
pub fn json(run: &Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", run.stdout, run.stderr))
}

/// Every regular file below `dir` (its `/`-separated path below `dir` → its bytes), the
/// manifests' `_photopress/` left out.
pub fn files_below(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut std::collections::BTreeMap<String, Vec<u8>>) {
        for entry in fs::read_dir(dir).expect("list").flatten() {
            let path = entry.path();
            let rel = path
                .strip_prefix(base)
                .expect("below")
                .to_string_lossy()
                .replace('\\', "/");
            if rel.starts_with("_photopress") {
                continue;
            }
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                out.insert(rel, fs::read(&path).expect("read"));
            }
        }
    }
    let mut out = std::collections::BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

// ---------------------------------------------------------------------------------------------
// Helpers several modules share: JSON totals, folder trees and snapshots, small fixtures, runs
// over a folder of fixtures, file times

/// The `totals` field `key` of a `--json` run's report (`u64::MAX` when missing).
pub fn totals(run: &Run, key: &str) -> u64 {
    json(run)["totals"][key].as_u64().unwrap_or(u64::MAX)
}

/// Every file under `dir`, relative, with its bytes.
pub fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in fs::read_dir(&folder).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).expect("under dir");
                found.push((
                    rel.to_string_lossy().into_owned(),
                    fs::read(&path).expect("read"),
                ));
            }
        }
    }
    found.sort();
    found
}

/// A `w` x `h` JPEG cut from leaf.jpg, encoded as [`Fixture::default`] says.
pub fn small_jpeg(w: usize, h: usize) -> Vec<u8> {
    encode_rgb(&pixels_of_size(w, h), w, h, &Fixture::default())
}

/// Writes each `(name, bytes)` into `dir/in` and runs photopress over it into `dir/out`.
pub fn compress_all(dir: &Path, files: &[(String, Vec<u8>)], extra: &[&str]) -> Run {
    let input = dir.join("in");
    fs::create_dir_all(&input).expect("mkdir in");
    for (name, data) in files {
        fs::write(input.join(name), data).expect("write fixture");
    }
    let mut args = vec!["in", "-o", "out", "--prefix", ""];
    args.extend_from_slice(extra);
    run(dir, &args)
}

/// `dir/out/name`: where [`compress_all`] writes `name`'s output.
pub fn out(dir: &Path, name: &str) -> PathBuf {
    dir.join("out").join(name)
}

/// 2015-06-01 12:34:56.789 UTC and a day later: dates no run could give by accident.
pub fn old_times() -> (SystemTime, SystemTime) {
    let modified = SystemTime::UNIX_EPOCH + Duration::from_millis(1_433_162_096_789);
    (modified + Duration::from_secs(86_400), modified)
}

pub fn set_times(path: &Path, accessed: SystemTime, modified: SystemTime) {
    fs::File::options()
        .write(true)
        .open(path)
        .and_then(|f| {
            f.set_times(
                fs::FileTimes::new()
                    .set_accessed(accessed)
                    .set_modified(modified),
            )
        })
        .unwrap_or_else(|e| panic!("set times of {}: {e}", path.display()));
}

pub fn times(path: &Path) -> (SystemTime, SystemTime) {
    let meta = fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (
        meta.accessed().expect("atime"),
        meta.modified().expect("mtime"),
    )
}

/// Every entry below `dir` (not following symlinks): regular files with their bytes and mtime,
/// links with their target, others by kind.
pub type Snapshot = BTreeMap<PathBuf, (Vec<u8>, Option<SystemTime>)>;

pub fn snapshot(dir: &Path) -> Snapshot {
    fn walk(dir: &Path, out: &mut Snapshot) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let meta = fs::symlink_metadata(&path).expect("meta");
            if meta.is_dir() {
                walk(&path, out);
            } else if meta.file_type().is_symlink() {
                let target = fs::read_link(&path).expect("link");
                out.insert(path, (target.into_os_string().into_encoded_bytes(), None));
            } else if meta.is_file() {
                let data = fs::read(&path).expect("read");
                out.insert(path, (data, meta.modified().ok()));
            } else {
                out.insert(path, (b"special".to_vec(), None));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, &mut out);
    out
}

#[track_caller]
pub fn assert_unchanged(before: &Snapshot, dir: &Path) {
    let after = snapshot(dir);
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>(),
        "files of the inputs changed"
    );
    for (path, was) in before {
        assert!(after[path] == *was, "input {} changed", path.display());
    }
}

/// Each file of a `--json` report: its file name and status, sorted.
pub fn statuses(report: &serde_json::Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = report["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| {
            let input = f["input"].as_str().unwrap_or_default();
            let name = Path::new(input).file_name().expect("name");
            (
                name.to_string_lossy().into_owned(),
                f["status"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

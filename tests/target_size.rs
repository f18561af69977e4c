//! `--target-size` is exact: it writes the highest quality whose output fits, also on photos
//! whose bytes are mostly metadata (the size then barely moves with the quality), and a photo
//! fails only when quality 1 was made and does not fit, with that size in the message.
//!
//! The inputs are the smallest shipped photo with a 60 KB EXIF block (orientation 1 and a
//! thumbnail's worth of bytes) and with 500 KB of APP13 segments, both kept in the outputs (no
//! `--strip`). The expected answers come from an exhaustive search: the same binary at every
//! fixed quality of `1..=95`, the ceiling a target gets by default.
mod common;

use std::fs;
use std::path::Path;

use common::*;

/// The ceiling of the search when `-q` is not given.
const CEILING: u8 = 95;

/// The smallest shipped photo.
const PHOTO: &str = "dogs.jpg";

/// A JPEG segment (marker `0xFF code`, its length, `body`) of at most 65533 body bytes.
fn segment(code: u8, body: &[u8]) -> Vec<u8> {
    let len = u16::try_from(body.len() + 2).expect("a segment holds at most 65533 bytes");
    let mut seg = vec![0xFF, code];
    seg.extend_from_slice(&len.to_be_bytes());
    seg.extend_from_slice(body);
    seg
}

/// `len` bytes that do not repeat for a while (a thumbnail's, say), seeded by `seed`.
fn filler(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// A 60 KB APP1 EXIF block: an orientation (1) and bytes no tag points to.
fn exif_60k() -> Vec<u8> {
    let mut exif = exif_segment(1);
    exif.extend(filler(60_000 - exif.len(), 1));
    segment(0xE1, &exif)
}

/// 500 KB of APP13 (Photoshop) segments, as many as that takes (8).
fn app13_500k() -> Vec<u8> {
    let body = filler(500_000, 2);
    let segments: Vec<Vec<u8>> = body
        .chunks(65_000)
        .map(|chunk| {
            let mut seg = b"Photoshop 3.0\0".to_vec();
            seg.extend_from_slice(chunk);
            segment(0xED, &seg)
        })
        .collect();
    assert_eq!(segments.len(), 8);
    segments.concat()
}

/// The two inputs, the photo with each metadata block right after its SOI, in `dir/in`: their
/// names and metadata blocks (to find in the outputs).
fn inputs(dir: &Path) -> Vec<(&'static str, Vec<u8>)> {
    let input = dir.join("in");
    fs::create_dir_all(&input).expect("mkdir");
    let photo = fs::read(photo(PHOTO)).expect("read photo");
    assert_eq!(photo[..2], [0xFF, 0xD8], "{PHOTO} starts with SOI");
    [
        ("exif60k.jpg", exif_60k()),
        ("app13-500k.jpg", app13_500k()),
    ]
    .into_iter()
    .map(|(name, metadata)| {
        let data = [&photo[..2], &metadata, &photo[2..]].concat();
        fs::write(input.join(name), data).expect("write fixture");
        (name, metadata)
    })
    .collect()
}

fn files(run: &Run) -> Vec<serde_json::Value> {
    json(run)["files"].as_array().cloned().unwrap_or_default()
}

fn file_name(file: &serde_json::Value) -> String {
    Path::new(file["input"].as_str().unwrap_or_default())
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Each input's output size at every quality of `1..=CEILING` (index `q - 1`): one run of the
/// binary a quality, both inputs at once. `--allow-larger`, so that each is the re-encode.
fn sizes_at_every_quality(dir: &Path, names: &[&str]) -> Vec<Vec<u64>> {
    let mut sizes = vec![Vec::new(); names.len()];
    for q in 1..=CEILING {
        let out = format!("sweep{q}");
        let q_text = q.to_string();
        let run = run(
            dir,
            &[
                "in",
                "-o",
                &out,
                "-q",
                &q_text,
                "--allow-larger",
                "--json",
                "--progress",
                "never",
            ],
        );
        assert_eq!(run.code, 0, "q{q}: {}", run.stderr);
        for file in files(&run) {
            assert_eq!(file["status"], "compressed", "q{q}: {file}");
            let i = names
                .iter()
                .position(|n| *n == file_name(&file))
                .unwrap_or_else(|| panic!("q{q}: unexpected {file}"));
            sizes[i].push(file["output_bytes"].as_u64().expect("output_bytes"));
        }
        fs::remove_dir_all(dir.join(&out)).expect("remove sweep output");
    }
    for (name, s) in names.iter().zip(&sizes) {
        assert_eq!(s.len(), usize::from(CEILING), "{name}");
    }
    sizes
}

/// The highest quality in `1..=CEILING` whose size fits `limit`, by looking at every one.
fn exhaustive(sizes: &[u64], limit: u64) -> Option<u8> {
    (1..=CEILING)
        .rev()
        .find(|&q| sizes[usize::from(q) - 1] <= limit)
}

/// Runs photopress on `in/NAME` with `--target-size LIMIT` into `out`, JSON on stdout.
fn run_target_size(cwd: &Path, name: &str, limit: u64, out: &str) -> Run {
    let input = format!("in/{name}");
    let limit = limit.to_string();
    run(
        cwd,
        &[
            input.as_str(),
            "-o",
            out,
            "--target-size",
            &limit,
            "--json",
            "--progress",
            "never",
        ],
    )
}

#[test]
fn target_size_writes_the_highest_fitting_quality_on_photos_that_are_mostly_metadata() {
    let tmp = tempdir();
    let made = inputs(tmp.path());
    let names: Vec<&str> = made.iter().map(|(name, _)| *name).collect();
    let sizes = sizes_at_every_quality(tmp.path(), &names);
    for ((name, metadata), sizes) in made.iter().zip(&sizes) {
        let s = |q: usize| sizes[q - 1];
        // Mostly metadata: quality 1 to 2 barely moves the size.
        assert!(s(2) - s(1) < 100, "{name}: {:?}", &sizes[..3]);
        // Limits that only low qualities fit: at a quality's size, a byte below it, between
        // two qualities' sizes.
        let limits = [
            s(1),
            s(2) - 1,
            s(3),
            s(4) + 1,
            (s(6) + s(7)) / 2,
            s(9),
            s(13) - 1,
        ];
        let input = decode(&tmp.path().join("in").join(name));
        for limit in limits {
            let expected = exhaustive(sizes, limit).expect("quality 1 fits");
            assert!(expected <= 13, "{name}: {limit} fits q{expected}");
            let out = format!("out-{limit}");
            let run = run_target_size(tmp.path(), name, limit, &out);
            assert_eq!(run.code, 0, "{name} in {limit}: {}", run.stderr);
            let file = &files(&run)[0];
            assert_eq!(file["status"], "compressed", "{name} in {limit}: {file}");
            let quality = file["quality"].as_u64().expect("quality") as u8;
            assert_eq!(
                quality,
                expected,
                "{name} in {limit}: sizes {:?}\n{}",
                &sizes[..16],
                run.stderr
            );
            // The output is that quality's candidate, and it fits.
            let written = tmp.path().join(&out).join(format!("compressed_{name}"));
            let bytes = fs::read(&written).expect("output");
            assert_eq!(file["output_bytes"].as_u64(), Some(bytes.len() as u64));
            assert_eq!(bytes.len() as u64, s(usize::from(expected)), "{name}");
            assert!(bytes.len() as u64 <= limit);
            assert!(
                run.stderr.contains(&format!("quality {expected} fits in")),
                "{}",
                run.stderr
            );
            // It decodes, to the input's size, and the metadata is all there.
            let img = decode(&written);
            assert_eq!(
                (img.width(), img.height()),
                (input.width(), input.height()),
                "{name}"
            );
            assert!(
                bytes
                    .windows(metadata.len())
                    .any(|w| w == metadata.as_slice()),
                "{name}: the metadata was not kept as it is"
            );
            fs::remove_dir_all(tmp.path().join(&out)).expect("remove output");
        }
    }
}

#[test]
fn a_limit_below_the_quality_1_output_fails_with_that_size() {
    let tmp = tempdir();
    let made = inputs(tmp.path());
    let (name, _) = &made[1];
    // Quality 1's size, made by the same binary.
    let q1 = run(
        tmp.path(),
        &[
            format!("in/{name}").as_str(),
            "-o",
            "q1",
            "-q",
            "1",
            "--allow-larger",
            "--json",
            "--progress",
            "never",
        ],
    );
    assert_eq!(q1.code, 0, "{}", q1.stderr);
    let smallest = files(&q1)[0]["output_bytes"].as_u64().expect("q1 size");
    assert!(smallest > 500_000, "{smallest}");
    // One byte short: it fails; at its size: it fits, at quality 1.
    for (limit, fits) in [(smallest - 1, false), (smallest, true)] {
        let out = format!("out-{limit}");
        let run = run_target_size(tmp.path(), name, limit, &out);
        let file = &files(&run)[0];
        let written = tmp.path().join(&out).join(format!("compressed_{name}"));
        if fits {
            assert_eq!(run.code, 0, "{}", run.stderr);
            assert_eq!(file["quality"], 1, "{file}");
            assert_eq!(file["output_bytes"], smallest, "{file}");
            assert!(written.exists());
            continue;
        }
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert_eq!(file["status"], "failed", "{file}");
        let error = file["error"].as_str().unwrap_or_default();
        assert!(
            error.contains("even at quality 1")
                && error.contains(&format!("({smallest} bytes)"))
                && error.contains(&format!("({limit} bytes)")),
            "{error}"
        );
        assert!(!error.contains(" 0 B"), "{error}");
        assert!(
            run.stderr.contains(&format!("({smallest} bytes)")),
            "{}",
            run.stderr
        );
        assert!(!written.exists(), "a file over the limit was written");
    }
}

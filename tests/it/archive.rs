//! The reversible archive (`--archive`, `photopress restore`) through the real binary: every
//! layout the transcoder's tests use goes in and comes back bit for bit; what Lepton cannot
//! hold is stored (or fails under `--archive-strict`); damaged, cut and lying archives fail
//! alone, named; shards, manifests, the job's report, --skip-existing, dry runs and streams.

use std::fs;
use std::path::Path;

use crate::common::*;
use mozjpeg::Marker;

/// The layouts of the transcoder's tests, as (file name, bytes).
fn layouts() -> Vec<(String, Vec<u8>)> {
    let (w, h) = (333, 251);
    let px = pixels_of_size(w, h);
    let mut files = Vec::new();
    for (chroma, name) in [((2, 2), "420"), ((2, 1), "422"), ((1, 1), "444")] {
        for progressive in [false, true] {
            let f = Fixture {
                chroma,
                progressive,
                quality: 85,
                ..Fixture::default()
            };
            let mode = if progressive { "prog" } else { "base" };
            files.push((format!("{name}_{mode}.jpg"), encode_rgb(&px, w, h, &f)));
        }
    }
    let gray: Vec<u8> = px.chunks_exact(3).map(|p| p[1]).collect();
    files.push((
        "gray.jpg".into(),
        encode_gray(&gray, w, h, &Fixture::default()),
    ));
    // Odd sizes: one pixel, a 17x9 sliver.
    files.push(("1x1.jpg".into(), small_jpeg(1, 1)));
    files.push(("17x9.jpg".into(), small_jpeg(17, 9)));
    // Restart markers every MCU row and every 2 MCUs.
    let base = encode_rgb(&px, w, h, &Fixture::default());
    files.push((
        "rst_rows.jpg".into(),
        jpeg_tool("jpegtran", &["-restart", "1"], &base),
    ));
    files.push((
        "rst_2b.jpg".into(),
        jpeg_tool("jpegtran", &["-restart", "2B"], &base),
    ));
    // Metadata: EXIF, XMP, a two-chunk ICC profile, a COM.
    let mut markers = vec![
        (Marker::APP(1), exif_segment(6)),
        (
            Marker::APP(1),
            b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta/>".to_vec(),
        ),
        (Marker::COM, b"a comment".to_vec()),
    ];
    markers.extend(icc_segments(&icc_profile_bytes(70_000, b"archive"), 60_000));
    let f = Fixture {
        markers,
        ..Fixture::default()
    };
    files.push(("metadata.jpg".into(), encode_rgb(&px, w, h, &f)));
    // Bytes after EOI.
    let mut trailing = base.clone();
    trailing.extend_from_slice(b"trailing bytes after the end of the image\0\xff\xd9xx");
    files.push(("trailing.jpg".into(), trailing));
    files
}

fn write_files(dir: &Path, files: &[(String, Vec<u8>)]) {
    fs::create_dir_all(dir).unwrap();
    for (name, bytes) in files {
        fs::write(dir.join(name), bytes).unwrap();
    }
}

#[test]
fn every_layout_and_photo_is_archived_smaller_and_restored_bit_for_bit() {
    let tmp = tempdir();
    let dir = tmp.path();
    let mut files = layouts();
    for name in PHOTOS {
        files.push((name.to_string(), fs::read(photo(name)).unwrap()));
    }
    write_files(&dir.join("in"), &files);
    let before = snapshot(&dir.join("in"));

    let archived = run(dir, &["--archive", "in", "-o", "arch", "--json"]);
    assert_eq!(archived.code, 0, "{}", archived.stderr);
    let report = json(&archived);
    assert_eq!(
        report["files"].as_array().unwrap().len(),
        files.len(),
        "{report}"
    );
    for file in report["files"].as_array().unwrap() {
        assert_eq!(file["method"], "archive", "{file}");
        assert_eq!(file["verified"], true, "{file}");
        assert_eq!(file["status"], "compressed", "{file}");
        let (i, o) = (
            file["input_bytes"].as_u64().unwrap(),
            file["output_bytes"].as_u64().unwrap(),
        );
        // Tiny files may not shrink much, but photos do.
        if i > 20_000 {
            assert!(o * 100 < i * 90, "{file}");
        }
    }
    for (name, bytes) in &files {
        let lep = dir.join("arch").join(format!("compressed_{name}.lep"));
        let size = fs::metadata(&lep).unwrap().len();
        assert_eq!(
            report["files"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["output"]
                    .as_str()
                    .unwrap()
                    .ends_with(&format!("compressed_{name}.lep")))
                .unwrap()["output_bytes"],
            size
        );
        assert_ne!(
            &fs::read(&lep).unwrap()[..2],
            &bytes[..2],
            "{name}: not a copy"
        );
    }
    // The seed's report: the sizes of the inputs and the archives.
    let text = run(dir, &["--archive", "in", "-o", "arch2"]);
    let (input, output, rate, _) = parse_report(&text.stdout);
    assert_eq!(input, files.iter().map(|f| f.1.len() as u64).sum::<u64>());
    assert_eq!(output, totals(&archived, "output_bytes"));
    assert!(rate < 0.85, "{rate}");

    let restored = run(dir, &["restore", "arch", "-o", "back", "--json"]);
    assert_eq!(restored.code, 0, "{}", restored.stderr);
    for file in json(&restored)["files"].as_array().unwrap() {
        assert_eq!(file["method"], "restore", "{file}");
        assert_eq!(file["verified"], true, "{file}");
    }
    for (name, bytes) in &files {
        let back = fs::read(dir.join("back").join(format!("compressed_{name}"))).unwrap();
        assert!(back == *bytes, "{name} did not come back bit for bit");
    }
    assert_unchanged(&before, &dir.join("in"));
}

#[test]
fn a_jpeg_lepton_cannot_hold_is_stored_or_fails_under_strict() {
    let tmp = tempdir();
    let dir = tmp.path();
    // CMYK: Lepton takes 1 to 3 components.
    let cmyk = encode_adobe_cmyk(&pixels_of_size(64, 48), 64, 48);
    // Arithmetic coding: Lepton models Huffman-coded scans.
    let arith = jpeg_tool("jpegtran", &["-arithmetic"], &small_jpeg(40, 30));
    write_files(
        &dir.join("in"),
        &[
            ("cmyk.jpg".into(), cmyk.clone()),
            ("arith.jpg".into(), arith.clone()),
        ],
    );

    let stored = run(dir, &["--archive", "in", "-o", "arch", "--json"]);
    assert_eq!(stored.code, 0, "{}", stored.stderr);
    for file in json(&stored)["files"].as_array().unwrap() {
        assert_eq!(file["status"], "kept-original", "{file}");
        assert_eq!(file["verified"], true, "{file}");
    }
    assert!(fs::read(dir.join("arch/compressed_arith.jpg.lep")).unwrap()[60..] == arith[..]);
    assert!(
        stored
            .stderr
            .lines()
            .any(|l| l.contains("WARN") && l.contains("cmyk.jpg") && l.contains("stored as it is")),
        "{}",
        stored.stderr
    );
    let lep = fs::read(dir.join("arch/compressed_cmyk.jpg.lep")).unwrap();
    assert_eq!(lep.len(), cmyk.len() + 60);
    let back = run(dir, &["restore", "arch", "-o", "back"]);
    assert_eq!(back.code, 0, "{}", back.stderr);
    assert!(fs::read(dir.join("back/compressed_cmyk.jpg")).unwrap() == cmyk);

    let strict = run(
        dir,
        &[
            "--archive",
            "--archive-strict",
            "in",
            "-o",
            "strict",
            "--json",
        ],
    );
    assert_eq!(strict.code, 1, "{}", strict.stderr);
    for file in json(&strict)["files"].as_array().unwrap() {
        assert_eq!(file["status"], "failed");
        assert!(
            file["error"].as_str().unwrap().contains("--archive-strict"),
            "{file}"
        );
    }
    assert!(!dir.join("strict").join("compressed_cmyk.jpg.lep").exists());
    assert!(!dir.join("strict").join("compressed_arith.jpg.lep").exists());
    fs::remove_file(dir.join("in/arith.jpg")).unwrap();

    // Not a JPEG at all: refused by name, as when compressing.
    fs::write(dir.join("in/cmyk.jpg"), b"GIF89a not a jpeg").unwrap();
    let gif = run(dir, &["--archive", "in", "-o", "gif", "--json"]);
    assert_eq!(gif.code, 1);
    assert!(
        json(&gif)["files"][0]["error"]
            .as_str()
            .unwrap()
            .contains("GIF")
    );
}

#[test]
fn damaged_cut_and_lying_archives_fail_alone_with_their_names() {
    let tmp = tempdir();
    let dir = tmp.path();
    write_files(
        &dir.join("in"),
        &[("leaf.jpg".into(), fs::read(photo("leaf.jpg")).unwrap())],
    );
    assert_eq!(
        run(dir, &["--archive", "in", "-o", "arch", "--prefix", ""]).code,
        0
    );
    let good = fs::read(dir.join("arch/leaf.jpg.lep")).unwrap();
    let mut cut = good[..good.len() * 2 / 3].to_vec();
    let mut flipped = good.clone();
    flipped[good.len() / 2] ^= 0x55;
    let mut lying = good.clone();
    lying[40] ^= 1; // inside the stored SHA-256
    let cases = [
        ("cut.jpg.lep", std::mem::take(&mut cut), "damaged archive"),
        ("flipped.jpg.lep", flipped, ""),
        (
            "lying.jpg.lep",
            lying,
            "do not match the original's checksum",
        ),
        (
            "plain.jpg.lep",
            fs::read(photo("fig.jpg")).unwrap(),
            "not a photopress archive",
        ),
        ("empty.jpg.lep", Vec::new(), "empty"),
    ];
    for (name, bytes, _) in &cases {
        fs::write(dir.join("arch").join(name), bytes).unwrap();
    }
    let restored = run(dir, &["restore", "arch", "-o", "back", "--json"]);
    assert_eq!(restored.code, 1, "{}", restored.stderr);
    let report = json(&restored);
    for (name, _, words) in &cases {
        let file = report["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["input"].as_str().unwrap().ends_with(name))
            .unwrap_or_else(|| panic!("{name} not in {report}"));
        assert_eq!(file["status"], "failed", "{name}: {file}");
        assert!(
            file["error"]
                .as_str()
                .unwrap()
                .to_lowercase()
                .contains(words),
            "{name}: {file}"
        );
        assert!(
            restored
                .stderr
                .lines()
                .any(|l| l.contains("ERROR") && l.contains(name)),
            "{}",
            restored.stderr
        );
        let out = name.trim_end_matches(".lep");
        assert!(!dir.join("back").join(out).exists(), "{out} written");
    }
    // The good one is restored all the same.
    assert!(fs::read(dir.join("back/leaf.jpg")).unwrap() == fs::read(photo("leaf.jpg")).unwrap());
}

#[test]
fn skip_existing_dry_run_and_streams_work_on_archives() {
    let tmp = tempdir();
    let dir = tmp.path();
    copy_photos(dir);
    assert_eq!(run(dir, &["--archive", "-o", "arch"]).code, 0);
    let again = run(
        dir,
        &["--archive", "-o", "arch", "--skip-existing", "--json"],
    );
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(totals(&again, "skipped"), 4);
    // One input changed: its archive no longer holds its bytes, and is redone.
    let mut changed = fs::read(dir.join("IMAGES/fig.jpg")).unwrap();
    changed.extend_from_slice(b"after EOI");
    fs::write(dir.join("IMAGES/fig.jpg"), &changed).unwrap();
    let dry = run(dir, &["--archive", "-o", "arch", "--skip-existing", "-n"]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(
        dry.stdout.contains("would archive IMAGES/fig.jpg"),
        "{}",
        dry.stdout
    );
    assert!(
        dry.stdout.contains("1 to archive, 3 to skip"),
        "{}",
        dry.stdout
    );
    let redo = run(
        dir,
        &["--archive", "-o", "arch", "--skip-existing", "--json"],
    );
    assert_eq!(
        (totals(&redo, "skipped"), totals(&redo, "compressed")),
        (3, 1)
    );

    let restored = run(dir, &["restore", "arch", "-o", "back"]);
    assert_eq!(restored.code, 0);
    let again = run(
        dir,
        &["restore", "arch", "-o", "back", "--skip-existing", "--json"],
    );
    assert_eq!(totals(&again, "skipped"), 4, "{}", again.stderr);
    assert!(fs::read(dir.join("back/compressed_fig.jpg")).unwrap() == changed);

    // stdin to stdout, both ways.
    let original = fs::read(photo("dogs.jpg")).unwrap();
    let (archive, archived) = run_piped(command(dir).args(["--archive", "-"]), &original);
    assert_eq!(archive.code, 0, "{}", archive.stderr);
    let (back, restored) = run_piped(command(dir).args(["restore", "-"]), &archived);
    assert_eq!(back.code, 0, "{}", back.stderr);
    assert!(restored == original);
}

#[test]
fn archive_options_that_would_change_bytes_are_refused() {
    let tmp = tempdir();
    for extra in ["--strip", "--best", "--lossless", "--progressive"] {
        let r = run(tmp.path(), &["--archive", extra, "x"]);
        assert_eq!(r.code, 2, "{extra}: {}", r.stderr);
    }
    let r = run(tmp.path(), &["--archive-strict", "x"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    // restore takes no default input (the demo folder holds no archives).
    let r = run(tmp.path(), &["restore", "-o", "x"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("restore needs the folders"),
        "{}",
        r.stderr
    );
}

#[test]
fn shards_archive_each_photo_once_and_the_job_report_counts_them() {
    let tmp = tempdir();
    let dir = tmp.path();
    copy_photos(dir);
    let whole = run(dir, &["--archive", "-o", "whole", "--json"]);
    assert_eq!(whole.code, 0);
    let shard = |k: &str| {
        let args = [
            "--archive",
            "-o",
            "out",
            "--shard-count",
            "2",
            "--shard-index",
            k,
            "--json",
        ];
        run(dir, &args)
    };
    for k in ["0", "1"] {
        let task = shard(k);
        assert_eq!(task.code, 0, "{}", task.stderr);
    }
    assert_eq!(
        files_below(&dir.join("out")),
        files_below(&dir.join("whole"))
    );
    let report = run(dir, &["report", "out/_photopress/n2", "--json"]);
    assert_eq!(report.code, 0, "{}", report.stderr);
    let report = json(&report);
    for field in ["files", "compressed", "input_bytes", "output_bytes"] {
        assert_eq!(
            report["totals"][field],
            json(&whole)["totals"][field],
            "{field}"
        );
    }
    // Restored by an array of tasks from a plan of the archives: the originals, bit for bit.
    let plan = run(
        dir,
        &[
            "plan",
            "whole",
            "--archives",
            "--shard-count",
            "2",
            "--to",
            "plan",
        ],
    );
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    for k in ["0", "1"] {
        let list = format!("plan/shard-{k}.keys");
        let task = run(
            dir,
            &[
                "restore",
                "whole",
                "--keys-from",
                &list,
                "-o",
                "back",
                "--shard-count",
                "2",
                "--shard-index",
                k,
            ],
        );
        assert_eq!(task.code, 0, "{}", task.stderr);
    }
    for name in PHOTOS {
        let back = fs::read(dir.join("back").join(format!("compressed_{name}"))).unwrap();
        assert!(back == fs::read(photo(name)).unwrap(), "{name}");
    }
    // A rerun of a shard redoes nothing: its manifest has it.
    let again = shard("0");
    assert_eq!(totals(&again, "compressed"), 0, "{}", again.stderr);
}

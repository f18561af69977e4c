//! The hostile edges of the file system (issue "Nothing lost, nothing hangs, nothing leaks"):
//! prefixes and output folders that would write outside the output folder or over an input,
//! re-runs into the input folder, FIFOs and devices, huge files, permissions, unwritable
//! output folders, quality tables, leftovers of dead runs. Every test checks that the inputs
//! are byte-identical afterwards.
mod common;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime};

use common::*;

/// Every entry below `dir` (not following symlinks): regular files with their bytes and mtime,
/// links with their target, others by kind.
type Snapshot = BTreeMap<PathBuf, (Vec<u8>, Option<SystemTime>)>;

fn snapshot(dir: &Path) -> Snapshot {
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
fn assert_unchanged(before: &Snapshot, dir: &Path) {
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

fn statuses(report: &serde_json::Value) -> Vec<(String, String)> {
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

/// Byte offset of the first SOFn marker's code, and the precision bits of every DQT table.
fn sof_and_table_precisions(jpeg: &[u8]) -> (u8, Vec<u8>) {
    let mut i = 2;
    let mut precisions = Vec::new();
    while i + 4 <= jpeg.len() {
        let code = jpeg[i + 1];
        let len = usize::from(u16::from_be_bytes([jpeg[i + 2], jpeg[i + 3]]));
        if code == 0xDB {
            let mut body = &jpeg[i + 4..i + 2 + len];
            while !body.is_empty() {
                let pq = body[0] >> 4;
                precisions.push(pq);
                body = &body[1 + if pq == 0 { 64 } else { 128 }..];
            }
        }
        if matches!(code, 0xC0..=0xC3) {
            return (code, precisions);
        }
        i += 2 + len;
    }
    panic!("no SOF");
}

#[test]
fn prefixes_that_leave_the_output_folder_are_usage_errors() {
    let tmp = tempdir();
    let images = copy_photos(tmp.path());
    let before = snapshot(&images);
    let cases: [(&str, &str); 11] = [
        ("newdir", "../IMAGES/"),
        ("IMAGES/out", "../"),
        ("newdir", "/tmp/photopress-abs-"),
        ("newdir", "a/b"),
        ("newdir", "./"),
        ("newdir", "..\\"),
        ("newdir", "..\\IMAGES\\"),
        ("newdir", "."),
        ("newdir", ".."),
        ("newdir", "sub/../"),
        ("IMAGES", "../IMAGES/"),
    ];
    for (out, prefix) in cases {
        let run = run(tmp.path(), &["IMAGES", "-o", out, "--prefix", prefix]);
        assert_eq!(run.code, 2, "--prefix {prefix:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("--prefix") && run.stderr.contains("start of a file name"),
            "--prefix {prefix:?}: unclear message: {}",
            run.stderr
        );
        assert!(!tmp.path().join("newdir").exists(), "--prefix {prefix:?}");
        assert!(
            !tmp.path().join("IMAGES/out").exists(),
            "--prefix {prefix:?}"
        );
        assert_unchanged(&before, &images);
    }
    assert!(!Path::new("/tmp/photopress-abs-leaf.jpg").exists());
}

#[test]
fn an_output_that_would_land_on_an_input_is_refused_before_any_work() {
    let tmp = tempdir();
    let images = copy_photos(tmp.path());
    symlink("IMAGES", tmp.path().join("link_to_images")).expect("link");
    let before = snapshot(&images);
    let cases: [&[&str]; 6] = [
        &["IMAGES", "-o", "IMAGES", "--prefix", ""],
        &["IMAGES", "-o", "IMAGES/../IMAGES", "--prefix", ""],
        &["IMAGES", "-o", "./IMAGES/.", "--prefix", ""],
        &["IMAGES", "-o", "missing/../IMAGES", "--prefix", ""],
        &["IMAGES", "-o", "link_to_images", "--prefix", ""],
        &["IMAGES/leaf.jpg", "-o", "link_to_images/", "--prefix", ""],
    ];
    for args in cases {
        let run = run(tmp.path(), args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("would overwrite input"),
            "{args:?}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("Start compressing"), "{args:?}");
        assert_unchanged(&before, &images);
    }
    // The same with the output folder given absolute, through the link.
    let absolute = tmp.path().join("link_to_images");
    let run = run(
        tmp.path(),
        &[
            "IMAGES",
            "-o",
            absolute.to_str().expect("utf-8"),
            "--prefix",
            "",
        ],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_unchanged(&before, &images);
}

#[test]
fn a_symlink_at_an_output_name_is_replaced_never_written_through() {
    let tmp = tempdir();
    let images = copy_photos(tmp.path());
    let before = snapshot(&images);
    let out = tmp.path().join("out");
    fs::create_dir(&out).expect("mkdir");
    symlink("../IMAGES/leaf.jpg", out.join("compressed_leaf.jpg")).expect("link");
    symlink("../IMAGES/fig.jpg", out.join("compressed_fig.jpg")).expect("link");
    // --skip-existing must not take the link (whose target is "newer") for an output.
    let run = run(
        tmp.path(),
        &["IMAGES", "-o", "out", "--skip-existing", "--json"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = json(&run);
    assert_eq!(report["totals"]["skipped"], 0, "{}", run.stdout);
    for name in ["compressed_leaf.jpg", "compressed_fig.jpg"] {
        let meta = fs::symlink_metadata(out.join(name)).expect("output");
        assert!(meta.is_file(), "{name} is still a link");
        assert!(meta.len() < 400_000, "{name}: {} bytes", meta.len());
        let img = decode(&out.join(name));
        assert!(img.width() > 0);
    }
    assert_unchanged(&before, &images);
}

#[test]
fn a_symlinked_sub_folder_of_the_output_cannot_take_outputs_outside_it() {
    let tmp = tempdir();
    let images = copy_photos(tmp.path());
    fs::create_dir(images.join("sub")).expect("mkdir");
    fs::copy(photo("leaf.jpg"), images.join("sub/leaf.jpg")).expect("copy");
    let elsewhere = tmp.path().join("elsewhere");
    fs::create_dir(&elsewhere).expect("mkdir");
    fs::create_dir(tmp.path().join("out")).expect("mkdir");
    symlink(&elsewhere, tmp.path().join("out/sub")).expect("link");
    let before = snapshot(&images);
    let run = run(tmp.path(), &["IMAGES", "-r", "-o", "out", "--json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("outside the output folder"),
        "{}",
        run.stderr
    );
    assert_eq!(json(&run)["totals"]["failed"], 1);
    assert_eq!(json(&run)["totals"]["compressed"], 4);
    assert!(fs::read_dir(&elsewhere).expect("list").next().is_none());
    assert_unchanged(&before, &images);
}

#[test]
fn running_twice_into_the_input_folder_gives_the_same_files() {
    let tmp = tempdir();
    let my = copy_photos(tmp.path());
    let originals = snapshot(&my);
    let first = run(tmp.path(), &["IMAGES", "-o", "IMAGES", "--json"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let after_first = snapshot(&my);
    let second = run(tmp.path(), &["IMAGES", "-o", "IMAGES", "--json"]);
    assert_eq!(second.code, 0, "{}", second.stderr);
    let mut expected: Vec<String> = PHOTOS
        .iter()
        .flat_map(|p| [p.to_string(), format!("compressed_{p}")])
        .collect();
    expected.sort();
    assert_eq!(file_names(&my), expected);
    // The outputs were not taken as inputs, and the second run wrote the same bytes.
    assert_eq!(json(&second)["totals"]["files"], 4);
    for (path, (bytes, _)) in &after_first {
        assert!(
            fs::read(path).expect("read") == *bytes,
            "{}",
            path.display()
        );
    }
    for (path, was) in &originals {
        assert!(after_first[path] == *was, "{} changed", path.display());
    }
    assert!(
        second.stderr.contains("Not taking 4 files"),
        "{}",
        second.stderr
    );
}

#[test]
fn a_photopress_output_is_not_compressed_again_at_the_same_quality() {
    let tmp = tempdir();
    let images = copy_photos(tmp.path());
    let before = snapshot(&images);
    let first = run(tmp.path(), &["IMAGES", "-o", "A"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let a = tmp.path().join("A");
    for name in file_names(&a) {
        let data = fs::read(a.join(&name)).expect("read");
        assert!(
            data.windows(15).any(|w| w == b"photopress q=30"),
            "{name} has no marker"
        );
    }
    let a_files = snapshot(&a);
    // Second generation: kept as they are, byte for byte.
    let second = run(tmp.path(), &["A", "-o", "B", "--prefix", "", "--json"]);
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert!(
        statuses(&json(&second))
            .iter()
            .all(|(_, s)| s == "kept-original")
    );
    for (path, (bytes, _)) in &a_files {
        let name = path.file_name().expect("name");
        assert!(fs::read(tmp.path().join("B").join(name)).expect("B") == *bytes);
    }
    // Asked for a lower quality, they are re-encoded (smaller), with the new marker only.
    let third = run(
        tmp.path(),
        &["A", "-o", "C", "--prefix", "", "-q", "20", "--json"],
    );
    assert_eq!(third.code, 0, "{}", third.stderr);
    assert!(
        statuses(&json(&third))
            .iter()
            .all(|(_, s)| s == "compressed")
    );
    let c = fs::read(tmp.path().join("C/compressed_leaf.jpg")).expect("C");
    assert!(c.windows(15).any(|w| w == b"photopress q=20"));
    assert!(!c.windows(15).any(|w| w == b"photopress q=30"));
    assert_unchanged(&before, &images);
    assert_unchanged(&a_files, &a);
}

#[test]
fn fifos_sockets_and_devices_fail_at_once_and_the_batch_goes_on() {
    let tmp = tempdir();
    let images = copy_photos(tmp.path());
    let fifo = images.join("x.jpg");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    symlink("/dev/zero", images.join("y.jpg")).expect("link");
    symlink("x.jpg", images.join("z.jpg")).expect("link to the fifo");
    let _socket = std::os::unix::net::UnixListener::bind(images.join("s.jpg")).expect("socket");
    let before = snapshot(&images);
    let mut child = command(tmp.path())
        .args(["IMAGES", "-o", "out", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("photopress hung on a FIFO or a device");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().expect("output");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    for (name, kind) in [
        ("x.jpg", "a FIFO"),
        ("y.jpg", "a character device"),
        ("z.jpg", "a FIFO"),
        ("s.jpg", "a socket"),
    ] {
        let line = stderr
            .lines()
            .find(|l| l.contains("ERROR") && l.contains(name))
            .unwrap_or_else(|| panic!("no error for {name}: {stderr}"));
        assert!(
            line.contains(&format!("not a regular file ({kind})")),
            "{line}"
        );
    }
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(report["totals"]["compressed"], 4);
    assert_eq!(report["totals"]["failed"], 4);
    assert_unchanged(&before, &images);
}

#[test]
fn a_file_over_the_size_cap_or_the_memory_budget_fails_before_it_is_read() {
    let tmp = tempdir();
    let images = copy_photos(tmp.path());
    let before = snapshot(&images);
    let leaf = fs::metadata(images.join("leaf.jpg")).expect("meta").len();
    let run = run(
        tmp.path(),
        &["IMAGES", "-o", "out", "--max-file-size", "1000K", "--json"],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let line = run
        .stderr
        .lines()
        .find(|l| l.contains("ERROR") && l.contains("leaf.jpg"))
        .unwrap_or_else(|| panic!("{}", run.stderr));
    assert!(
        line.contains(&format!(
            "the file is {leaf} bytes, more than the 1024000 bytes"
        )),
        "{line}"
    );
    // Every file bigger than the cap failed; the others are done.
    let report = json(&run);
    for file in report["files"].as_array().expect("files") {
        let big = file["input_bytes"].as_u64() == Some(0);
        let size = fs::metadata(tmp.path().join(file["input"].as_str().expect("input")))
            .expect("meta")
            .len();
        assert_eq!(file["status"] == "failed", size > 1_024_000, "{file}");
        assert_eq!(big, size > 1_024_000, "a failed file counts no bytes");
    }
    assert_unchanged(&before, &images);
}

#[test]
fn a_stray_byte_between_segments_does_not_hide_an_image_from_the_budget() {
    let tmp = tempdir();
    let dogs = fs::read(photo("dogs.jpg")).expect("read");
    // dogs.jpg is 2056x3088 progressive: ~85 MB of working memory. A stray byte after the
    // first segment used to make the budget's header reader give up and count it as 0.
    let first_len = usize::from(u16::from_be_bytes([dogs[4], dogs[5]]));
    let cut = 4 + first_len;
    let mut stray = dogs[..cut].to_vec();
    stray.push(0x42);
    stray.extend_from_slice(&dogs[cut..]);
    let images = tmp.path().join("IMAGES");
    fs::create_dir(&images).expect("mkdir");
    fs::write(images.join("stray.jpg"), &stray).expect("write");
    fs::copy(photo("leaf.jpg"), images.join("leaf.jpg")).expect("copy");
    let before = snapshot(&images);
    let run = run(tmp.path(), &["IMAGES", "-o", "out", "--max-memory", "40M"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let line = run
        .stderr
        .lines()
        .find(|l| l.contains("ERROR") && l.contains("stray.jpg"))
        .unwrap_or_else(|| panic!("{}", run.stderr));
    assert!(line.contains("--max-memory"), "{line}");
    assert_eq!(file_names(&tmp.path().join("out")), ["compressed_leaf.jpg"]);
    // Within a budget that fits it, the same file is compressed.
    let run2 = common::run(
        tmp.path(),
        &["IMAGES", "-o", "out2", "--max-memory", "200M"],
    );
    assert_eq!(run2.code, 0, "{}", run2.stderr);
    assert_unchanged(&before, &images);
}

#[test]
fn permissions_never_widen() {
    let tmp = tempdir();
    let images = copy_photos(tmp.path());
    fs::set_permissions(images.join("leaf.jpg"), fs::Permissions::from_mode(0o600)).expect("chmod");
    fs::set_permissions(images.join("fig.jpg"), fs::Permissions::from_mode(0o640)).expect("chmod");
    let before = snapshot(&images);
    let run = run(tmp.path(), &["IMAGES", "-o", "out"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mode = |name: &str| {
        fs::metadata(tmp.path().join("out").join(name))
            .expect("output")
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("compressed_leaf.jpg"), 0o600);
    assert_eq!(
        mode("compressed_fig.jpg") & !0o640,
        0,
        "{:o}",
        mode("compressed_fig.jpg")
    );
    assert_unchanged(&before, &images);
}

#[test]
fn an_output_folder_that_cannot_be_made_is_one_error_before_any_work() {
    let tmp = tempdir();
    let images = copy_photos(tmp.path());
    fs::write(tmp.path().join("a_file"), b"x").expect("write");
    let before = snapshot(&images);
    for out in ["a_file/out", "a_file/deeper/out"] {
        let run = run(tmp.path(), &["IMAGES", "-o", out]);
        assert_eq!(run.code, 2, "{out}: {}", run.stderr);
        assert!(
            run.stderr.contains("cannot write to the output folder"),
            "{out}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("Start compressing"), "{}", run.stderr);
        assert_eq!(run.stderr.matches("error").count(), 1, "{}", run.stderr);
    }
    // A read-only folder (a check that root's permissions would bypass: only as a user).
    let as_root = {
        use std::os::unix::fs::MetadataExt;
        fs::metadata(tmp.path().join("a_file")).expect("meta").uid() == 0
    };
    if !as_root {
        let ro = tmp.path().join("ro");
        fs::create_dir(&ro).expect("mkdir");
        fs::set_permissions(&ro, fs::Permissions::from_mode(0o555)).expect("chmod");
        for out in ["ro", "ro/new"] {
            let run = run(tmp.path(), &["IMAGES", "-o", out]);
            assert_eq!(run.code, 2, "{out}: {}", run.stderr);
            assert!(!run.stderr.contains("Start compressing"), "{}", run.stderr);
        }
    }
    assert_unchanged(&before, &images);
}

#[test]
fn a_full_disk_fails_each_affected_file_once_with_its_final_name() {
    let tmp = tempdir();
    let images = copy_photos(tmp.path());
    let before = snapshot(&images);
    // 60 KiB per file: no photo's output fits.
    let run = run_with_file_limit(tmp.path(), 60, "-j 2");
    assert_eq!(run.code, 1, "{}", run.stderr);
    for name in PHOTOS {
        let lines: Vec<&str> = run
            .stderr
            .lines()
            .filter(|l| l.contains("ERROR") && l.contains(name))
            .collect();
        assert_eq!(lines.len(), 1, "{name}: {}", run.stderr);
        assert!(
            lines[0].contains(&format!("cannot write COMPRESSED_IMAGES/compressed_{name}")),
            "{}",
            lines[0]
        );
    }
    assert!(
        !run.stderr.contains(".photopress-"),
        "temporary name shown: {}",
        run.stderr
    );
    assert_unchanged(&before, &images);
}

#[test]
// What this can check: --fsync writes the same files, into folders it creates. What it cannot:
// that the fsyncs happen (that needs a power cut or a syscall trace); the code path is
// output::write_atomic / create_dirs.
fn fsync_writes_the_same_files_into_new_nested_folders() {
    let tmp = tempdir();
    let images = copy_photos(tmp.path());
    fs::create_dir(images.join("sub")).expect("mkdir");
    fs::copy(photo("fig.jpg"), images.join("sub/fig.jpg")).expect("copy");
    let before = snapshot(&images);
    let synced = run(
        tmp.path(),
        &["IMAGES", "-r", "-o", "new/deeper/out", "--fsync"],
    );
    assert_eq!(synced.code, 0, "{}", synced.stderr);
    let plain = run(tmp.path(), &["IMAGES", "-r", "-o", "plain"]);
    assert_eq!(plain.code, 0, "{}", plain.stderr);
    let a = snapshot(&tmp.path().join("new/deeper/out"));
    let b = snapshot(&tmp.path().join("plain"));
    assert_eq!(a.len(), 5);
    for ((_, (x, _)), (_, (y, _))) in a.iter().zip(&b) {
        assert!(x == y);
    }
    assert_unchanged(&before, &images);
}

#[test]
fn every_quality_gives_a_baseline_file_unless_extended_is_asked() {
    let tmp = tempdir();
    let images = copy_photos(tmp.path());
    let (pixels, w, h) = photo_pixels("fig.jpg", 2);
    let f444 = Fixture {
        chroma: (1, 1),
        ..Fixture::default()
    };
    fs::write(images.join("s444.jpg"), encode_rgb(&pixels, w, h, &f444)).expect("write");
    let before = snapshot(&images);
    for q in ["1", "10", "23", "24", "30"] {
        let out = format!("q{q}");
        let run = run(
            tmp.path(),
            &["IMAGES", "-o", &out, "-q", q, "--allow-larger"],
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        for name in file_names(&tmp.path().join(&out)) {
            let data = fs::read(tmp.path().join(&out).join(&name)).expect("read");
            let (sof, precisions) = sof_and_table_precisions(&data);
            assert_eq!(sof, 0xC0, "q{q} {name}: SOF 0x{sof:02x}");
            assert!(
                precisions.iter().all(|&p| p == 0),
                "q{q} {name}: 16-bit tables"
            );
            let decoded = jpeg_tool("djpeg", &[], &data);
            assert!(!decoded.is_empty());
        }
    }
    let run = run(
        tmp.path(),
        &["IMAGES", "-o", "ext", "-q", "10", "--extended"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let data = fs::read(tmp.path().join("ext/compressed_leaf.jpg")).expect("read");
    assert_eq!(sof_and_table_precisions(&data).0, 0xC1);
    assert_unchanged(&before, &images);
}

#[test]
fn leftovers_of_dead_runs_are_removed_even_when_their_pid_is_alive() {
    let tmp = tempdir();
    let images = copy_photos(tmp.path());
    let before = snapshot(&images);
    let out = tmp.path().join("out");
    fs::create_dir(&out).expect("mkdir");
    // Named for a live process (this test's, or pid 1), but nobody holds it: a dead run's.
    let hour_ago = SystemTime::now() - Duration::from_secs(3600);
    for pid in [std::process::id(), 1] {
        let path = out.join(format!(".photopress-{pid}-AbCdEf.tmp"));
        fs::write(&path, b"partial").expect("write");
        fs::File::options()
            .append(true)
            .open(&path)
            .and_then(|f| f.set_modified(hour_ago))
            .expect("age it");
    }
    // Not ours: left alone.
    fs::write(out.join(".photopress-notes.tmp"), b"mine").expect("write");
    let run = run(tmp.path(), &["IMAGES", "-o", "out"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("Removed 2 temporary files"),
        "{}",
        run.stderr
    );
    let mut expected = vec![".photopress-notes.tmp".to_string()];
    expected.extend(PHOTOS.iter().map(|p| format!("compressed_{p}")));
    expected.sort();
    assert_eq!(file_names(&out), expected);
    assert_unchanged(&before, &images);
}

/// `good` with 64 bytes of its entropy-coded data, a third of the way in, replaced by bytes
/// that no Huffman code starts with (`FF 00` pairs: all one bits).
fn with_bad_huffman_codes(good: &[u8]) -> Vec<u8> {
    let sos = good
        .windows(2)
        .rposition(|w| w == [0xFF, 0xDA])
        .expect("SOS");
    let len = usize::from(u16::from_be_bytes([good[sos + 2], good[sos + 3]]));
    let data_start = sos + 2 + len;
    let at = data_start + (good.len() - data_start) / 3;
    let mut bad = good.to_vec();
    for pair in bad[at..at + 64].chunks_exact_mut(2) {
        pair.copy_from_slice(&[0xFF, 0x00]);
    }
    bad
}

#[test]
fn corrupt_cmyk_data_fails_by_default_and_is_salvaged_when_asked() {
    let tmp = tempdir();
    let images = tmp.path().join("IMAGES");
    fs::create_dir(&images).expect("mkdir");
    let (pixels, w, h) = photo_pixels("fig.jpg", 2);
    let cmyk = encode_adobe_cmyk(&pixels, w, h);
    fs::write(images.join("cmyk.jpg"), &cmyk).expect("write");
    fs::write(images.join("bad_cmyk.jpg"), with_bad_huffman_codes(&cmyk)).expect("write");
    let before = snapshot(&images);
    let run = run(tmp.path(), &["IMAGES", "-o", "out", "--json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        statuses(&json(&run)),
        [
            ("bad_cmyk.jpg".to_string(), "failed".to_string()),
            ("cmyk.jpg".to_string(), "compressed".to_string())
        ]
    );
    assert!(run.stderr.contains("bad Huffman code"), "{}", run.stderr);
    let salvage = common::run(tmp.path(), &["IMAGES", "-o", "out2", "--accept-truncated"]);
    assert_eq!(salvage.code, 0, "{}", salvage.stderr);
    assert_unchanged(&before, &images);
}

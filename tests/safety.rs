//! Nothing is ever lost: inputs untouched, outputs complete or absent, bad files fail alone
//! with a clear message, odd names and trees handled, an interrupted run resumable.
mod common;

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::{Duration, Instant};

use common::*;

fn small_jpeg(w: usize, h: usize) -> Vec<u8> {
    encode_rgb(&pixels_of_size(w, h), w, h, &Fixture::default())
}

/// Every regular file below `dir` (relative paths), sorted.
fn tree(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in fs::read_dir(dir).expect("list").flatten() {
            let path = entry.path();
            let meta = fs::symlink_metadata(&path).expect("meta");
            if meta.is_dir() {
                walk(base, &path, out);
            } else {
                out.push(
                    path.strip_prefix(base)
                        .expect("below")
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// `n` copies of the demo photos in `dir` (created), named `00_dogs.jpg`, `01_fig.jpg`...
fn many_photos(dir: &Path, n: usize) {
    fs::create_dir(dir).expect("mkdir");
    for i in 0..n {
        let name = PHOTOS[i % PHOTOS.len()];
        fs::copy(photo(name), dir.join(format!("{i:02}_{name}"))).expect("copy");
    }
}

/// Every named file in `dir` is a whole JPEG: a strict decode fails on any truncated file.
fn assert_whole_jpegs(dir: &Path, names: &[String]) {
    let strict = photopress::jpeg::pixel::EncodeSettings::default();
    for name in names {
        let data = fs::read(dir.join(name)).expect("read");
        photopress::jpeg::pixel::recompress(&data, &strict)
            .unwrap_or_else(|e| panic!("{name} is damaged: {e}"));
    }
}

fn no_temporary_files(dir: &Path) {
    let stray: Vec<String> = tree(dir)
        .into_iter()
        .filter(|f| f.contains(".photopress-"))
        .collect();
    assert!(stray.is_empty(), "temporary files left: {stray:?}");
}

#[test]
fn inputs_are_never_modified() {
    let tmp = tempdir();
    let images = copy_photos(tmp.path());
    let snapshot = |dir: &Path| -> Vec<(String, Vec<u8>, std::time::SystemTime)> {
        let mut v: Vec<_> = fs::read_dir(dir)
            .expect("list")
            .flatten()
            .map(|e| {
                let m = e.metadata().expect("meta");
                (
                    e.file_name().to_string_lossy().into_owned(),
                    fs::read(e.path()).expect("read"),
                    m.modified().expect("mtime"),
                )
            })
            .collect();
        v.sort();
        v
    };
    let before = snapshot(&images);
    for args in [
        &["--strip"][..],
        &["-q", "90", "--allow-larger"],
        &["--prefix", "x", "-j", "1"],
    ] {
        assert_eq!(run(tmp.path(), args).code, 0);
    }
    assert!(before == snapshot(&images), "an input changed");
}

#[test]
fn bad_inputs_fail_one_by_one_with_their_cause() {
    let tmp = tempdir();
    let images = copy_photos(tmp.path());
    let good = fs::read(photo("fig.jpg")).expect("read");
    let header_end = good
        .windows(2)
        .position(|w| w == [0xFF, 0xDA])
        .expect("SOS")
        + 12;
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "half.jpg",
            good[..good.len() / 2].to_vec(),
            "Premature end of JPEG file",
        ),
        (
            "header_only.jpg",
            good[..header_end].to_vec(),
            "Premature end of JPEG file",
        ),
        ("empty.jpg", Vec::new(), "the file is empty"),
        (
            "random.jpg",
            (0..5000u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .collect(),
            "Not a JPEG file",
        ),
        (
            "png.jpg",
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0".to_vec(),
            "is a PNG file (photopress compresses JPEG)",
        ),
        ("soi_only.jpg", vec![0xFF, 0xD8], "Premature end"),
    ];
    for (name, data, _) in &cases {
        fs::write(images.join(name), data).expect("write");
    }
    std::os::unix::fs::symlink(tmp.path().join("gone.jpg"), images.join("dangling.jpg"))
        .expect("symlink");
    let run = run(tmp.path(), &["-j", "2"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let errors: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains(" ERROR "))
        .collect();
    assert_eq!(errors.len(), cases.len() + 1, "{}", run.stderr);
    for (name, _, cause) in &cases {
        let line = errors
            .iter()
            .find(|l| l.contains(&format!("IMAGES/{name}:")))
            .unwrap_or_else(|| panic!("no error line for {name}:\n{}", run.stderr));
        assert!(line.contains(cause), "{name}: {line}");
    }
    assert!(
        errors.iter().any(|l| l.ends_with(&format!(
            "IMAGES/dangling.jpg: is a symlink to {}, which does not exist",
            tmp.path().join("gone.jpg").display()
        ))),
        "{}",
        run.stderr
    );
    let out = tmp.path().join("COMPRESSED_IMAGES");
    assert_eq!(
        file_names(&out).len(),
        4,
        "only the good photos have outputs"
    );
    assert!(
        run.stdout.contains("\nFiles compressed 4, failed 7\n"),
        "{}",
        run.stdout
    );
    // The report ends with the failed files and their causes (in input order), so that they
    // do not scroll away with the log; a truncated file's says how to keep what is there.
    let (_, listed) = run
        .stdout
        .split_once("\nFailed:\n")
        .unwrap_or_else(|| panic!("no failures listed:\n{}", run.stdout));
    let listed: Vec<&str> = listed.lines().collect();
    let names: Vec<&str> = listed
        .iter()
        .filter_map(|l| l.strip_prefix("  IMAGES/")?.split(':').next())
        .collect();
    assert_eq!(
        names,
        [
            "dangling.jpg",
            "empty.jpg",
            "half.jpg",
            "header_only.jpg",
            "png.jpg",
            "random.jpg",
            "soi_only.jpg"
        ],
        "{}",
        run.stdout
    );
    for (name, _, cause) in &cases {
        let line = listed
            .iter()
            .find(|l| l.starts_with(&format!("  IMAGES/{name}: ")))
            .unwrap_or_else(|| panic!("{name} not listed"));
        assert!(line.contains(cause), "{line}");
        let truncated = cause.contains("Premature end");
        assert_eq!(
            line.ends_with(
                "(the file ends early: an incomplete copy or download? --accept-truncated keeps what can be decoded)"
            ),
            truncated,
            "{line}"
        );
    }
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

#[test]
fn accept_truncated_compresses_what_there_is() {
    let tmp = tempdir();
    let dir = tmp.path().join("in");
    fs::create_dir(&dir).expect("mkdir");
    let good = fs::read(photo("leaf.jpg")).expect("read");
    fs::write(dir.join("cut.jpg"), &good[..good.len() * 3 / 4]).expect("write");
    assert_eq!(run(tmp.path(), &["in"]).code, 1);
    let run = run(tmp.path(), &["in", "--accept-truncated"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let img = decode(&tmp.path().join("COMPRESSED_IMAGES/compressed_cut.jpg"));
    assert_eq!((img.width(), img.height()), (1920, 1200));
}

#[test]
fn odd_file_names() {
    let tmp = tempdir();
    let dir = tmp.path().join("in");
    fs::create_dir(&dir).expect("mkdir");
    let jpeg = small_jpeg(40, 30);
    let names: Vec<&OsStr> = vec![
        OsStr::new("with space.jpg"),
        OsStr::new("accentué.JPG"),
        OsStr::new("写真.jpeg"),
        OsStr::new("-dash.jpg"),
        OsStr::from_bytes(b"latin1-\xe9t\xe9.jpg"),
    ];
    for name in &names {
        fs::write(dir.join(name), &jpeg).expect("write");
    }
    let run = run(tmp.path(), &["in", "-o", "out"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for name in &names {
        let mut out_name = b"compressed_".to_vec();
        out_name.extend_from_slice(name.as_bytes());
        let path = tmp.path().join("out").join(OsStr::from_bytes(&out_name));
        assert_eq!(decode(&path).width(), 40, "{}", path.display());
    }
    // A leading dash as a file argument, after `--`.
    fs::copy(dir.join("-dash.jpg"), tmp.path().join("-x.jpg")).expect("copy");
    let run2 = common::run(tmp.path(), &["-o", "out2", "--", "-x.jpg"]);
    assert_eq!(run2.code, 0, "{}", run2.stderr);
    assert!(tmp.path().join("out2/compressed_-x.jpg").is_file());
}

#[test]
fn recursive_mirrors_the_tree_and_survives_links() {
    let tmp = tempdir();
    let root = tmp.path().join("album");
    let jpeg = small_jpeg(48, 32);
    for dir in ["", "2023", "2023/summer", "empty", "folder.jpg"] {
        fs::create_dir_all(root.join(dir)).expect("mkdir");
    }
    for file in [
        "top.jpg",
        "2023/a.jpg",
        "2023/summer/b.JPG",
        "folder.jpg/inside.jpg",
    ] {
        fs::write(root.join(file), &jpeg).expect("write");
    }
    std::os::unix::fs::symlink(&root, root.join("2023/loop")).expect("loop link");
    std::os::unix::fs::symlink(root.join("top.jpg"), root.join("link.jpg")).expect("file link");
    // The output folder inside the input tree, already holding an earlier output.
    fs::create_dir_all(root.join("out")).expect("mkdir out");
    fs::write(root.join("out/compressed_top.jpg"), &jpeg).expect("write");

    let run = run(tmp.path(), &["-r", "album", "-o", "album/out"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let outputs = tree(&root.join("out"));
    assert_eq!(
        outputs,
        [
            "2023/compressed_a.jpg",
            "2023/summer/compressed_b.JPG",
            "compressed_link.jpg",
            "compressed_top.jpg",
            "folder.jpg/compressed_inside.jpg",
        ]
    );
    assert!(
        fs::symlink_metadata(root.join("out/compressed_link.jpg"))
            .expect("meta")
            .is_file(),
        "a link becomes a file"
    );
    let starts = run.stderr.matches("Start compressing image").count();
    assert_eq!(
        starts, 5,
        "each image once, no output re-compressed:\n{}",
        run.stderr
    );
}

#[test]
fn the_same_output_name_twice_fails_the_second_input() {
    let tmp = tempdir();
    for dir in ["a", "b"] {
        fs::create_dir(tmp.path().join(dir)).expect("mkdir");
        fs::write(tmp.path().join(dir).join("x.jpg"), small_jpeg(32, 32)).expect("write");
    }
    let run = run(tmp.path(), &["a", "b", "a/x.jpg"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("b/x.jpg: its output COMPRESSED_IMAGES/compressed_x.jpg is already the output of a/x.jpg"), "{}", run.stderr);
    assert_eq!(
        run.stderr.matches("Start compressing image").count(),
        2,
        "a/x.jpg named twice is done once"
    );
}

#[test]
fn skip_existing_resumes_cheaply() {
    let tmp = tempdir();
    let images = copy_photos(tmp.path());
    assert_eq!(run(tmp.path(), &[] as &[&str]).code, 0);
    let again = run(tmp.path(), &["--skip-existing", "--json"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    let report: serde_json::Value = serde_json::from_str(&again.stdout).expect("json");
    assert_eq!(report["totals"]["skipped"], 4);
    // An input changed after its output: redone.
    std::thread::sleep(Duration::from_millis(20));
    let data = fs::read(images.join("leaf.jpg")).expect("read");
    fs::write(images.join("leaf.jpg"), data).expect("rewrite");
    let third = run(tmp.path(), &["--skip-existing", "--json"]);
    let report: serde_json::Value = serde_json::from_str(&third.stdout).expect("json");
    assert_eq!(
        (
            report["totals"]["skipped"].as_u64(),
            report["totals"]["compressed"].as_u64()
        ),
        (Some(3), Some(1))
    );
}

#[test]
fn a_write_error_fails_that_file_and_leaves_nothing_partial() {
    let tmp = tempdir();
    let images = copy_photos(tmp.path());
    fs::write(images.join("tiny.jpg"), small_jpeg(64, 64)).expect("write");
    // 60 KiB per file: the tiny image fits, the photos' outputs do not.
    let run = run_with_file_limit(tmp.path(), 60, "-j 2");
    assert_eq!(run.code, 1, "{}", run.stderr);
    let out = tmp.path().join("COMPRESSED_IMAGES");
    assert_eq!(file_names(&out), ["compressed_tiny.jpg"], "{}", run.stderr);
    assert!(
        run.stderr
            .contains("cannot write COMPRESSED_IMAGES/compressed_dogs.jpg: File too large"),
        "{}",
        run.stderr
    );
    no_temporary_files(tmp.path());
}

#[test]
fn a_killed_run_leaves_only_complete_outputs_and_the_next_run_cleans_up() {
    let tmp = tempdir();
    many_photos(&tmp.path().join("many"), 40);
    // A leftover of an earlier killed run: nobody holds its lock, and it is an hour old.
    fs::create_dir(tmp.path().join("out")).expect("mkdir");
    let leftover = tmp.path().join("out/.photopress-4194999-old.tmp");
    fs::write(&leftover, b"partial").expect("write");
    // Last modified an hour ago: past the grace a next run gives unlocked temporary files.
    let age = |path: &Path| {
        fs::File::options()
            .append(true)
            .open(path)
            .and_then(|f| f.set_modified(std::time::SystemTime::now() - Duration::from_secs(3600)))
            .expect("age it");
    };
    age(&leftover);
    let mut child = command(tmp.path())
        .args(["many", "-o", "out", "-j", "2", "--quiet"])
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(60);
    while fs::read_dir(tmp.path().join("out")).expect("list").count() < 6
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
    let outputs: Vec<String> = file_names(&tmp.path().join("out"))
        .into_iter()
        .filter(|n| n.starts_with("compressed_"))
        .collect();
    assert!(
        !outputs.is_empty() && outputs.len() < 40,
        "killed mid-way: {} outputs",
        outputs.len()
    );
    assert_whole_jpegs(&tmp.path().join("out"), &outputs);
    // The kill may land while an output is being written: its temporary file is then seconds
    // old, which a next run leaves alone (it might be another run's, not yet locked). The next
    // run is taken to come later, as the first leftover's did: every temporary file is aged.
    for name in file_names(&tmp.path().join("out")) {
        if name.starts_with(".photopress-") {
            age(&tmp.path().join("out").join(&name));
        }
    }
    let rerun = run(tmp.path(), &["many", "-o", "out", "--skip-existing"]);
    assert_eq!(rerun.code, 0, "{}", rerun.stderr);
    assert_eq!(
        file_names(&tmp.path().join("out")).len(),
        40,
        "{:?}",
        file_names(&tmp.path().join("out"))
    );
    no_temporary_files(tmp.path());
}

#[test]
fn ctrl_c_finishes_the_images_in_progress_and_starts_no_more() {
    let tmp = tempdir();
    many_photos(&tmp.path().join("many"), 40);
    let child = command(tmp.path())
        .args(["many", "-o", "out", "-j", "1"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let out = tmp.path().join("out");
    let deadline = Instant::now() + Duration::from_secs(60);
    while (!out.exists() || fs::read_dir(&out).expect("list").count() < 3)
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    // SAFETY: sending a signal to our own child process.
    assert_eq!(
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) },
        0
    );
    let result = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&result.stderr);
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert_eq!(result.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("photopress: interrupted"), "{stderr}");
    // Acknowledged at once, with what happens now.
    let ack = stderr
        .lines()
        .find_map(|l| l.split_once(" WARN Interrupted: ").map(|(_, m)| m))
        .unwrap_or_else(|| panic!("no acknowledgement:\n{stderr}"));
    assert!(
        [
            "finishing the image in progress, starting no more",
            "starting no more images"
        ]
        .iter()
        .any(|what| ack == format!("{what}; Ctrl-C again to stop at once")),
        "{ack}"
    );
    // Every image that started also ended, and its output is whole.
    let started = stderr.matches("Start compressing image").count();
    let ended = stderr.matches("End compressing image").count();
    assert_eq!(started, ended, "{stderr}");
    assert!(ended < 40, "interrupted too late to tell: {ended} done");
    let outputs = file_names(&out);
    assert_eq!(outputs.len(), ended, "{outputs:?}");
    assert_whole_jpegs(&out, &outputs);
    no_temporary_files(tmp.path());
    // The report still comes, counting the images never started as such, with how to resume.
    assert!(
        stdout.contains(&format!(
            "Files compressed {ended}, failed 0, not started {}",
            40 - ended
        )),
        "{stdout}"
    );
    assert!(stdout.contains("--skip-existing"), "{stdout}");
}

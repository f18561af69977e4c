//! Nothing lost, nothing written where it must not be (issue "Nothing lost, nothing hangs,
//! nothing leaks"): inputs are never modified; outputs appear only complete (a write error, a
//! full disk, a killed or interrupted run, leftovers of dead runs, `--fsync`); outputs stay
//! inside the output folder and never land on an input (prefixes, output folders through
//! symlinks, symlinks at output names, two inputs with one output name, recursive trees with
//! links); permissions never widen. The tests check that the inputs are byte-identical
//! afterwards.

// The Ctrl-C test sends SIGINT to its child with libc::kill, the tests' one `unsafe` block (its
// SAFETY comment is on the assertion that holds it).
#![allow(unsafe_code, clippy::undocumented_unsafe_blocks)]

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use crate::common::*;

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
fn output_directory_is_created_exactly_once_by_eight_workers() {
    let tmp = tempdir();
    let images = tmp.path().join("many");
    fs::create_dir(&images).expect("mkdir");
    let small = encode_rgb(&pixels_of_size(64, 48), 64, 48, &Fixture::default());
    for i in 0..64 {
        fs::write(images.join(format!("img{i:02}.jpg")), &small).expect("write fixture");
    }
    let run = run(tmp.path(), &["--jobs", "8", "many", "-o", "deep/out"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let created: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("Creating directory deep/out"))
        .collect();
    assert_eq!(created.len(), 1, "{}", run.stderr);
    assert!(
        created[0].contains(" CompressOneImage Thread-"),
        "{}",
        created[0]
    );
    assert_eq!(file_names(&tmp.path().join("deep/out")).len(), 64);
    // Eight workers really were used.
    let threads: std::collections::BTreeSet<&str> = run
        .stderr
        .lines()
        .filter_map(|l| l.split(' ').nth(2))
        .filter(|t| t.starts_with("Thread-"))
        .collect();
    assert!(
        threads.len() > 1
            && threads
                .iter()
                .all(|t| t[7..].parse::<u32>().is_ok_and(|n| (1..=8).contains(&n))),
        "{threads:?}"
    );
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

//! A command line that fits people's habits (issue 13): dates kept, settings-aware resume, a
//! report in human terms, "nothing to do" as its own exit code, errors in the user's terms,
//! files taken by content, junk of other systems left alone, a bar that fits the terminal.
mod common;

use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime};

use common::*;

/// 2015-06-01 12:34:56.789 UTC and a day later: dates no run could give by accident.
fn old_times() -> (SystemTime, SystemTime) {
    let modified = SystemTime::UNIX_EPOCH + Duration::from_millis(1_433_162_096_789);
    (modified + Duration::from_secs(86_400), modified)
}

fn set_times(path: &Path, accessed: SystemTime, modified: SystemTime) {
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

fn times(path: &Path) -> (SystemTime, SystemTime) {
    let meta = fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (
        meta.accessed().expect("atime"),
        meta.modified().expect("mtime"),
    )
}

fn totals(run: &Run, key: &str) -> u64 {
    json(run)["totals"][key].as_u64().unwrap_or(u64::MAX)
}

/// The quality of the photopress marker (`COM` "photopress q=N") in a file's header.
fn marker_quality(path: &Path) -> Option<u8> {
    let data = fs::read(path).expect("read output");
    let at = data.windows(13).position(|w| w == b"photopress q=")?;
    let digits: String = data[at + 13..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .map(|&b| char::from(b))
        .collect();
    digits.parse().ok()
}

#[test]
fn preserve_gives_each_output_its_inputs_times() {
    let tmp = tempdir();
    let images = copy_photos(tmp.path());
    let before: Vec<Vec<u8>> = PHOTOS
        .iter()
        .map(|n| fs::read(images.join(n)).expect("read"))
        .collect();
    // Set after the read above, which may update the access time.
    let (accessed, modified) = old_times();
    for name in PHOTOS {
        set_times(&images.join(name), accessed, modified);
    }
    let first = run(tmp.path(), &["-p", "-o", "kept"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    for name in PHOTOS {
        let output = tmp.path().join("kept").join(format!("compressed_{name}"));
        // Checked before anything reads the output (a read may update its access time).
        assert_eq!(times(&output), (accessed, modified), "{name}");
        decode(&output);
        assert_eq!(
            times(&images.join(name)).1,
            modified,
            "input {name} touched"
        );
    }
    for (name, bytes) in PHOTOS.iter().zip(before) {
        assert!(
            fs::read(images.join(name)).expect("read") == bytes,
            "{name}"
        );
    }
    // Without it an output is a new file, dated now.
    let plain = run(tmp.path(), &["-o", "new"]);
    assert_eq!(plain.code, 0, "{}", plain.stderr);
    let out = times(&tmp.path().join("new/compressed_leaf.jpg")).1;
    assert!(
        out > SystemTime::now() - Duration::from_secs(3600),
        "{out:?}"
    );
}

#[test]
fn skip_existing_keeps_preserved_outputs_and_redoes_those_of_another_quality() {
    let tmp = tempdir();
    let images = copy_photos(tmp.path());
    let (accessed, modified) = old_times();
    for name in PHOTOS {
        set_times(&images.join(name), accessed, modified);
    }
    assert_eq!(run(tmp.path(), &["-p"]).code, 0);
    // Same time as the input: up to date.
    let again = run(tmp.path(), &["-p", "--skip-existing", "--json"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(totals(&again, "skipped"), 4, "{}", again.stderr);
    assert!(!again.stderr.contains("Not skipping"), "{}", again.stderr);

    // Another quality: every output is redone, each with the reason.
    let out = tmp.path().join("COMPRESSED_IMAGES");
    let q30 = fs::metadata(out.join("compressed_leaf.jpg"))
        .expect("out")
        .len();
    let q80 = run(tmp.path(), &["-p", "--skip-existing", "-q", "80", "--json"]);
    assert_eq!(q80.code, 0, "{}", q80.stderr);
    assert_eq!(totals(&q80, "compressed"), 4, "{}", q80.stderr);
    assert!(
        q80.stderr.contains(
            "INFO Not skipping IMAGES/leaf.jpg: its output was made at quality 30, this run asks for 80"
        ),
        "{}",
        q80.stderr
    );
    for name in PHOTOS {
        let output = out.join(format!("compressed_{name}"));
        // (The access time is the input's as this run found it: earlier runs read it.)
        assert_eq!(times(&output).1, modified, "{name}");
        assert_eq!(marker_quality(&output), Some(80), "{name}");
    }
    assert!(
        fs::metadata(out.join("compressed_leaf.jpg"))
            .expect("out")
            .len()
            > q30
    );

    // An output without a marker (here the original itself, as a kept-original copy would
    // be) cannot say what it was made for: redone.
    fs::copy(images.join("fig.jpg"), out.join("compressed_fig.jpg")).expect("copy");
    let fourth = run(tmp.path(), &["--skip-existing", "-q", "80", "--json"]);
    assert_eq!(
        (totals(&fourth, "skipped"), totals(&fourth, "compressed")),
        (3, 1),
        "{}",
        fourth.stderr
    );
    assert!(
        fourth
            .stderr
            .contains("Not skipping IMAGES/fig.jpg: its output carries no photopress marker"),
        "{}",
        fourth.stderr
    );
    assert_eq!(marker_quality(&out.join("compressed_fig.jpg")), Some(80));
}

#[test]
fn a_folder_whose_photos_are_in_sub_folders_hints_at_recursive_and_exits_3() {
    let tmp = tempdir();
    let holiday = tmp.path().join("holiday");
    let photo_bytes = fs::read(photo("leaf.jpg")).expect("read");
    for (dir, n) in [("day1", 2), ("day2/evening", 1), ("notes", 0)] {
        fs::create_dir_all(holiday.join(dir)).expect("mkdir");
        for i in 0..n {
            fs::write(holiday.join(dir).join(format!("p{i}.jpg")), &photo_bytes).expect("write");
        }
    }
    fs::write(holiday.join("notes/list.txt"), b"sun").expect("write");
    let run1 = run(tmp.path(), &["holiday"]);
    assert_eq!(run1.code, 3, "{}", run1.stderr);
    assert!(
        run1.stderr.contains(
            " WARN No JPEG files found in holiday; 2 sub-folders hold 3 JPEGs: add -r (--recursive) to compress them"
        ),
        "{}",
        run1.stderr
    );
    let (input, output, _, _) = parse_report(&run1.stdout);
    assert_eq!((input, output), (0, 0));
    assert!(!tmp.path().join("COMPRESSED_IMAGES").exists());

    let recursive = run(tmp.path(), &["holiday", "-r"]);
    assert_eq!(recursive.code, 0, "{}", recursive.stderr);
    let out = tmp.path().join("COMPRESSED_IMAGES");
    for path in [
        "day1/compressed_p0.jpg",
        "day1/compressed_p1.jpg",
        "day2/evening/compressed_p0.jpg",
    ] {
        decode(&out.join(path));
    }
}

#[test]
fn no_argument_and_no_images_folder_says_what_to_type() {
    let tmp = tempdir();
    let run1 = run(tmp.path(), &[] as &[&str]);
    assert_eq!(run1.code, 2, "{}", run1.stderr);
    assert_eq!(
        run1.stderr.trim(),
        "photopress: error: no IMAGES folder here; give the folders or files to compress: photopress DIR... (see --help)"
    );
    // Typed by the user, it is their input that is missing.
    let typed = run(tmp.path(), &["IMAGES"]);
    assert_eq!(typed.code, 2);
    assert!(
        typed.stderr.contains("input IMAGES does not exist"),
        "{}",
        typed.stderr
    );
    assert!(!tmp.path().join("COMPRESSED_IMAGES").exists());
}

#[test]
fn other_formats_named_jpg_say_what_they_are() {
    let tmp = tempdir();
    let images = copy_photos(tmp.path());
    let cases: [(&str, &[u8], &str); 5] = [
        (
            "png.jpg",
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01",
            "a PNG",
        ),
        ("gif.jpg", b"GIF89a\x01\0\x01\0\x80\0\0", "a GIF"),
        ("webp.jpg", b"RIFF\x24\0\0\0WEBPVP8 \x18\0\0\0", "a WebP"),
        ("heic.JPG", b"\0\0\0\x18ftypheic\0\0\0\0mif1heic", "a HEIC"),
        (
            "tiff.jpeg",
            b"II*\0\x08\0\0\0\x10\0\0\x01\x03\0",
            "a TIFF (or camera raw)",
        ),
    ];
    for (name, data, _) in cases {
        fs::write(images.join(name), data).expect("write");
    }
    let run = run(tmp.path(), &["--progress", "never"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    for (name, _, format) in cases {
        let line = format!(
            "ERROR Failed to compress image IMAGES/{name}: is {format} file (photopress compresses JPEG)"
        );
        assert!(run.stderr.contains(&line), "{line}\n{}", run.stderr);
    }
    assert!(
        run.stdout.contains("\nFiles compressed 4, failed 5\n"),
        "{}",
        run.stdout
    );
}

#[test]
fn files_named_explicitly_are_taken_by_their_content() {
    let tmp = tempdir();
    let leaf = fs::read(photo("leaf.jpg")).expect("read");
    for name in ["photo.jfif", "scan.JPE", "IMG_1", ".hidden.jpg"] {
        fs::write(tmp.path().join(name), &leaf).expect("write");
    }
    fs::write(tmp.path().join("notes"), b"not a picture at all").expect("write");
    fs::write(tmp.path().join("pic.png"), b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").expect("write");
    let run1 = run(
        tmp.path(),
        &[
            "photo.jfif",
            "scan.JPE",
            "IMG_1",
            ".hidden.jpg",
            "notes",
            "pic.png",
            "--json",
        ],
    );
    assert_eq!(run1.code, 1, "{}", run1.stderr);
    let out = tmp.path().join("COMPRESSED_IMAGES");
    assert_eq!(
        file_names(&out),
        [
            "compressed_.hidden.jpg",
            "compressed_IMG_1",
            "compressed_photo.jfif",
            "compressed_scan.JPE"
        ]
    );
    for name in file_names(&out) {
        let img = decode(&out.join(&name));
        assert_eq!(
            (img.width(), img.height()),
            (
                decode(&photo("leaf.jpg")).width(),
                decode(&photo("leaf.jpg")).height()
            )
        );
    }
    let report = json(&run1);
    let error = |input: &str| -> String {
        report["files"]
            .as_array()
            .and_then(|files| files.iter().find(|f| f["input"] == input))
            .and_then(|f| f["error"].as_str())
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(
        error("notes"),
        "not a JPEG: it does not start with a JPEG's bytes (FF D8 FF), and its name does not end in .jpg, .jpeg, .jfif or .jpe"
    );
    assert_eq!(
        error("pic.png"),
        "is a PNG file (photopress compresses JPEG)"
    );

    // In a folder, .jfif and .jpe are JPEG names; a name without extension is not looked at.
    let dir = tmp.path().join("dir");
    fs::create_dir(&dir).expect("mkdir");
    for name in ["a.jfif", "b.jpe", "IMG_2"] {
        fs::write(dir.join(name), &leaf).expect("write");
    }
    let folder = run(tmp.path(), &["dir", "-o", "dir_out"]);
    assert_eq!(folder.code, 0, "{}", folder.stderr);
    assert_eq!(
        file_names(&tmp.path().join("dir_out")),
        ["compressed_a.jfif", "compressed_b.jpe"]
    );
}

#[test]
fn hidden_and_system_entries_of_other_systems_are_left_alone() {
    let tmp = tempdir();
    let images = copy_photos(tmp.path());
    let leaf = fs::read(photo("leaf.jpg")).expect("read");
    // What a Mac, a Synology and a file manager leave beside the photos.
    fs::write(
        images.join("._leaf.jpg"),
        b"\0\x05\x16\x07\0\x02\0\0Mac OS X        ",
    )
    .expect("write");
    for dir in [".thumbnails", "@eaDir/leaf.jpg", ".trip"] {
        fs::create_dir_all(images.join(dir)).expect("mkdir");
    }
    fs::write(images.join(".thumbnails/leaf.jpg"), &leaf).expect("write");
    fs::write(images.join("@eaDir/leaf.jpg/SYNOPHOTO_THUMB_XL.jpg"), &leaf).expect("write");
    fs::write(images.join(".trip/beach.jpg"), &leaf).expect("write");
    fs::write(images.join(".secret.jpg"), &leaf).expect("write");
    let run1 = run(tmp.path(), &["-r", "--json"]);
    assert_eq!(run1.code, 0, "{}", run1.stderr);
    assert_eq!(totals(&run1, "files"), 4);
    assert!(
        run1.stderr.contains(
            "INFO Skipped 5 hidden or system entries in the folders (._*, .thumbnails, @eaDir...; -v names them, --hidden takes hidden ones)"
        ),
        "{}",
        run1.stderr
    );
    assert_eq!(file_names(&tmp.path().join("COMPRESSED_IMAGES")).len(), 4);

    // --hidden takes the hidden photos, never the AppleDouble file or the NAS's thumbnails.
    let hidden = run(tmp.path(), &["-r", "--hidden", "-o", "all", "--json"]);
    assert_eq!(hidden.code, 0, "{}", hidden.stderr);
    let all = tmp.path().join("all");
    assert_eq!(
        file_names(&all),
        [
            ".thumbnails",
            ".trip",
            "compressed_.secret.jpg",
            "compressed_dogs.jpg",
            "compressed_fig.jpg",
            "compressed_leaf.jpg",
            "compressed_mountains.jpg"
        ]
    );
    assert_eq!(file_names(&all.join(".trip")), ["compressed_beach.jpg"]);
}

#[test]
fn the_report_reads_in_human_terms_after_the_four_original_lines() {
    let tmp = tempdir();
    let images = copy_photos(tmp.path());
    let run = run(tmp.path(), &["-j", "2"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    let size = |p: &Path| fs::metadata(p).expect("size").len();
    let out = tmp.path().join("COMPRESSED_IMAGES");
    let real_in: u64 = PHOTOS.iter().map(|n| size(&images.join(n))).sum();
    let real_out: u64 = PHOTOS
        .iter()
        .map(|n| size(&out.join(format!("compressed_{n}"))))
        .sum();
    assert_eq!(lines[0], format!("Total files size {real_in}"));
    assert_eq!(lines[1], format!("Total compressed files size {real_out}"));
    assert!(lines[2].starts_with("Compression rate 0."), "{}", lines[2]);
    assert!(
        lines[3].starts_with("Processing duration (ms) "),
        "{}",
        lines[3]
    );
    let percent = ((real_out as f64 - real_in as f64) / real_in as f64 * 100.0).round();
    let size_line = lines
        .iter()
        .find(|l| l.starts_with("Size "))
        .unwrap_or_else(|| panic!("{}", run.stdout));
    assert!(
        size_line.contains(&format!(" ({percent} %), ")) && size_line.ends_with(" saved"),
        "{size_line}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Duration ") && l.ends_with(" on 2 threads")),
        "{}",
        run.stdout
    );
    // Each image's log line gives its sizes and the saving.
    for name in PHOTOS {
        let (i, o) = (
            size(&images.join(name)),
            size(&out.join(format!("compressed_{name}"))),
        );
        let expected = format!(
            "End compressing image, new image saved as compressed_{name}: {}",
            photopress::human::sizes(i, o)
        );
        assert!(run.stderr.contains(&expected), "{expected}\n{}", run.stderr);
    }
    assert!(
        run.stderr
            .contains("saved as compressed_leaf.jpg: 1.1 MiB -> "),
        "{}",
        run.stderr
    );
}

#[test]
fn the_failed_files_are_listed_last_up_to_twenty() {
    let tmp = tempdir();
    let images = copy_photos(tmp.path());
    for i in 0..23 {
        fs::write(images.join(format!("bad{i:02}.jpg")), b"").expect("write");
    }
    let run = run(tmp.path(), &["--quiet"]);
    assert_eq!(run.code, 1);
    let (_, listed) = run.stdout.split_once("\nFailed:\n").expect("listed");
    let listed: Vec<&str> = listed.lines().collect();
    assert_eq!(listed.len(), 21, "{}", run.stdout);
    assert_eq!(listed[0], "  IMAGES/bad00.jpg: the file is empty");
    assert_eq!(listed[19], "  IMAGES/bad19.jpg: the file is empty");
    assert_eq!(
        listed[20],
        "  and 3 more (each has an ERROR line in the log; --json lists them all)"
    );
}

/// Runs photopress on a pseudo-terminal (`script`), where colours and the bar are on.
fn run_on_terminal(cwd: &Path, args: &str, env: &[(&str, &str)]) -> String {
    let mut cmd = std::process::Command::new("script");
    cmd.args(["-qec"])
        .arg(format!("{} {args}", env!("CARGO_BIN_EXE_photopress")))
        .arg("/dev/null")
        .current_dir(cwd)
        .env_remove("RUST_LOG")
        .env_remove("NO_COLOR");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run script (util-linux)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn warnings_and_errors_are_coloured_on_a_terminal_unless_no_color() {
    let tmp = tempdir();
    let images = copy_photos(tmp.path());
    fs::write(images.join("zz.jpg"), b"garbage").expect("write");
    let coloured = run_on_terminal(tmp.path(), "--progress never -o a", &[]);
    assert!(
        coloured.contains(" \x1b[1;31mERROR\x1b[0m Failed to compress image IMAGES/zz.jpg"),
        "{coloured:?}"
    );
    assert!(coloured.contains(" INFO Start processing"), "{coloured:?}");
    let plain = run_on_terminal(tmp.path(), "--progress never -o b", &[("NO_COLOR", "1")]);
    assert!(
        plain.contains(" ERROR Failed to compress image IMAGES/zz.jpg"),
        "{plain:?}"
    );
    assert!(!plain.contains('\x1b'), "{plain:?}");
    // Into a pipe: never.
    let piped = run(tmp.path(), &["-o", "c"]);
    assert!(piped.stderr.contains(" ERROR Failed") && !piped.stderr.contains('\x1b'));
}

/// The visible width of each line the bar drew (escape sequences cut away).
fn bar_widths(stderr: &str) -> Vec<usize> {
    stderr
        .split(['\r', '\n'])
        .map(|segment| {
            let mut visible = String::new();
            let mut chars = segment.chars();
            while let Some(c) = chars.next() {
                if c == '\x1b' {
                    // CSI: ESC [ parameters final-byte
                    for c in chars.by_ref() {
                        if c.is_ascii_alphabetic() {
                            break;
                        }
                    }
                } else {
                    visible.push(c);
                }
            }
            visible
        })
        .filter(|line| line.contains(" files ") && !line.contains(" INFO "))
        .map(|line| line.chars().count())
        .collect()
}

#[test]
fn the_bar_fits_the_terminal_width() {
    let tmp = tempdir();
    copy_photos(tmp.path());
    for columns in [50usize, 80, 120] {
        let out = format!("o{columns}");
        let cols = columns.to_string();
        let run = {
            let mut cmd = command(tmp.path());
            cmd.args(["-j", "1", "-o", &out, "--progress", "always"])
                .env("COLUMNS", &cols);
            let o = cmd.output().expect("run");
            String::from_utf8_lossy(&o.stderr).into_owned()
        };
        let widths = bar_widths(&run);
        assert!(!widths.is_empty(), "no bar drawn at {columns}:\n{run}");
        // As wide as the terminal less two columns: room for the "^C" a terminal echoes
        // after it, which would wrap a full line and leave the bar stale above the clear.
        assert!(
            widths.iter().all(|&w| w <= columns - 2) && widths.iter().any(|&w| w == columns - 2),
            "{columns} columns: {widths:?}\n{run}"
        );
    }
}

//! What a run takes as its inputs: JPEG names in a folder, in sorted order; files named
//! explicitly, taken by their content (other formats named for what they are); hidden and
//! system entries of other systems left alone; `--exclude` globs; odd file names; and a folder
//! with nothing to compress (exit 3, with a hint at `-r` when sub-folders hold photos).

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;

use crate::common::{self, *};

#[test]
fn only_jpeg_names_are_taken_from_a_folder_in_sorted_order() {
    let tmp = tempdir();
    let images = tmp.path().join("in");
    fs::create_dir(&images).expect("mkdir");
    let small = encode_rgb(&pixels_of_size(40, 30), 40, 30, &Fixture::default());
    for name in ["b.JPG", "a.jpeg", "c.JpEg", "d.jpg"] {
        fs::write(images.join(name), &small).expect("write");
    }
    fs::write(images.join("notes.txt"), b"hello").expect("write");
    fs::write(images.join("pic.png"), b"\x89PNG").expect("write");
    let run = run(
        tmp.path(),
        &["in", "-o", "out", "--sequential", "--prefix", "small-"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        file_names(&tmp.path().join("out")),
        ["small-a.jpeg", "small-b.JPG", "small-c.JpEg", "small-d.jpg"]
    );
    let order: Vec<&str> = run
        .stderr
        .lines()
        .filter_map(|l| l.split("Start compressing image ").nth(1))
        .collect();
    assert_eq!(order, ["in/a.jpeg", "in/b.JPG", "in/c.JpEg", "in/d.jpg"]);
    assert!(
        !run.stderr.contains("notes.txt"),
        "skipped silently at the default level"
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
fn excluded_globs_match_the_relative_path_or_the_file_name() {
    let tmp = tempdir();
    let images = copy_photos(tmp.path());
    fs::create_dir_all(images.join("raw/deep")).expect("mkdir");
    fs::create_dir_all(images.join("trip")).expect("mkdir");
    fs::copy(photo("leaf.jpg"), images.join("raw/deep/a.jpg")).expect("copy");
    fs::copy(photo("leaf.jpg"), images.join("trip/fig_thumb.jpg")).expect("copy");
    fs::copy(photo("leaf.jpg"), images.join("dogs_thumb.jpg")).expect("copy");
    fs::copy(photo("leaf.jpg"), images.join("trip/kept.jpg")).expect("copy");
    let before = tree(&images);
    let done = run(
        tmp.path(),
        &[
            "-r",
            "--exclude",
            "*_thumb.jpg",
            "--exclude",
            "raw/**",
            "--exclude",
            "mountains.jpg",
            "--json",
        ],
    );
    assert_eq!(done.code, 0, "{}", done.stderr);
    assert!(
        done.stderr.contains("INFO Excluded 4 files (--exclude)"),
        "{}",
        done.stderr
    );
    let written: Vec<String> = tree(&tmp.path().join("COMPRESSED_IMAGES"))
        .into_iter()
        .map(|(rel, _)| rel)
        .collect();
    assert_eq!(
        written,
        [
            "compressed_dogs.jpg",
            "compressed_fig.jpg",
            "compressed_leaf.jpg",
            "trip/compressed_kept.jpg"
        ]
    );
    assert_eq!(totals(&done, "files"), 4);
    assert_eq!(tree(&images), before, "inputs untouched");

    let bad = run(tmp.path(), &["--exclude", "a[", "-n"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("--exclude"), "{}", bad.stderr);
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
fn an_input_without_jpegs_is_reported_with_exit_code_3() {
    let tmp = tempdir();
    fs::create_dir(tmp.path().join("empty")).expect("mkdir");
    fs::write(tmp.path().join("empty/readme.txt"), b"no photos").expect("write");
    let run = run(tmp.path(), &["empty", "--quiet"]);
    assert_eq!(run.code, 3, "nothing to do: {}", run.stderr);
    assert_eq!(
        run.stderr
            .lines()
            .map(|l| l.split_once(" WARN ").map(|(_, m)| m))
            .collect::<Vec<_>>(),
        [Some("No JPEG files found in empty")],
        "no hint without sub-folders: {}",
        run.stderr
    );
    let (input, output, _, last) = parse_report(&run.stdout);
    assert_eq!(
        (input, output, last.as_str()),
        (0, 0, "Files compressed 0, failed 0")
    );
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

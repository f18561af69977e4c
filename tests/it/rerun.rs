//! Running again: `--skip-existing` skips what is up to date and redoes, saying why, an output
//! made from a changed input, at another quality, with other settings (the marker's settings
//! hash) or by an earlier photopress; and a re-run never takes its own outputs as inputs nor
//! re-encodes a photopress output at the same quality (the prefix rule and the marker).

use std::fs;
use std::path::Path;
use std::time::Duration;

use crate::common::*;

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

/// The settings part (`s=...`) of the photopress marker in a file's header.
fn marker_settings(path: &Path) -> Option<String> {
    let data = fs::read(path).expect("read output");
    let at = data.windows(13).position(|w| w == b"photopress q=")?;
    let rest = &data[at..];
    let s = rest.windows(4).position(|w| w == b"; s=")?;
    Some(String::from_utf8_lossy(rest.get(s + 4..s + 12)?).into_owned())
}

#[test]
fn skip_existing_redoes_an_output_made_with_other_settings() {
    let tmp = tempdir();
    let images = copy_photos(tmp.path());
    let before = tree(&images);
    let out = tmp.path().join("COMPRESSED_IMAGES");
    let leaf = out.join("compressed_leaf.jpg");

    let stripped = run(tmp.path(), &["--strip", "--json"]);
    assert_eq!(stripped.code, 0, "{}", stripped.stderr);
    let made_stripped = marker_settings(&leaf).expect("a settings hash in the marker");

    // The same settings: up to date.
    let again = run(tmp.path(), &["--strip", "--skip-existing", "--json"]);
    assert_eq!(totals(&again, "skipped"), 4, "{}", again.stderr);
    assert!(!again.stderr.contains("Not skipping"), "{}", again.stderr);

    // Without --strip, at the same quality: every output is redone, each saying why.
    let plain = run(tmp.path(), &["--skip-existing", "--json"]);
    assert_eq!(plain.code, 0, "{}", plain.stderr);
    assert_eq!(totals(&plain, "skipped"), 0, "{}", plain.stderr);
    assert_eq!(totals(&plain, "compressed"), 4, "{}", plain.stderr);
    assert!(
        plain
            .stderr
            .contains("INFO Not skipping IMAGES/leaf.jpg: its output was made with other settings"),
        "{}",
        plain.stderr
    );
    let made_plain = marker_settings(&leaf).expect("a settings hash in the marker");
    assert_ne!(made_plain, made_stripped);

    // Now up to date for the plain run, and not for --method pixel.
    let third = run(tmp.path(), &["--skip-existing", "--json"]);
    assert_eq!(totals(&third, "skipped"), 4, "{}", third.stderr);
    let pixel = run(
        tmp.path(),
        &["--skip-existing", "--method", "pixel", "--json"],
    );
    assert_eq!(totals(&pixel, "skipped"), 0, "{}", pixel.stderr);
    assert_eq!(tree(&images), before, "inputs untouched");
}

#[test]
fn an_earlier_marker_without_settings_counts_as_other_settings() {
    let tmp = tempdir();
    let images = copy_photos(tmp.path());
    assert_eq!(run(tmp.path(), &["--quiet"]).code, 0);
    let leaf = tmp.path().join("COMPRESSED_IMAGES/compressed_leaf.jpg");
    // Rewrite the marker as an earlier photopress wrote it: `photopress q=30` and padding
    // in a comment of its own (the segment's length is kept).
    let mut data = fs::read(&leaf).expect("read");
    let at = data
        .windows(13)
        .position(|w| w == b"photopress q=")
        .expect("marker");
    let s = at
        + data[at..]
            .windows(4)
            .position(|w| w == b"; s=")
            .expect("settings");
    let len_at = at - 2;
    let body_len = s - at;
    let old_len = u16::from_be_bytes([data[len_at], data[len_at + 1]]) as usize;
    data.drain(at + body_len..at + old_len - 2);
    data[len_at..len_at + 2].copy_from_slice(&((body_len + 2) as u16).to_be_bytes());
    assert_eq!(&data[at..at + body_len], b"photopress q=30");
    fs::write(&leaf, &data).expect("write");

    let resumed = run(tmp.path(), &["--skip-existing", "--json"]);
    assert_eq!(resumed.code, 0, "{}", resumed.stderr);
    assert_eq!(totals(&resumed, "skipped"), 3, "{}", resumed.stderr);
    assert!(
        resumed
            .stderr
            .contains("Not skipping IMAGES/leaf.jpg: its output was made by an earlier photopress"),
        "{}",
        resumed.stderr
    );
    assert!(marker_settings(&leaf).is_some());
    assert_eq!(
        fs::read(images.join("leaf.jpg")).ok(),
        fs::read(photo("leaf.jpg")).ok()
    );
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

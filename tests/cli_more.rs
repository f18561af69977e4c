//! More of the command line people expect (issue 13, continued): a resume that notices any
//! changed setting, a dry run, JSON lines, shell completions and a man page, excludes.
mod common;

use std::fs;
use std::path::Path;

use common::*;

fn totals(run: &Run, key: &str) -> u64 {
    json(run)["totals"][key].as_u64().unwrap_or(u64::MAX)
}

/// Every file under `dir`, relative, with its bytes.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
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

#[test]
fn a_dry_run_lists_what_a_run_writes_and_writes_nothing() {
    let tmp = tempdir();
    let images = copy_photos(tmp.path());
    fs::create_dir(images.join("sub")).expect("mkdir");
    fs::copy(photo("leaf.jpg"), images.join("sub/leaf2.jpg")).expect("copy");
    let before = tree(tmp.path());
    let args = ["-r", "-o", "out/small", "--json"];

    let dry = run(tmp.path(), &[&args[..], &["-n"]].concat());
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert_eq!(tree(tmp.path()), before, "nothing written");
    assert!(!tmp.path().join("out").exists());
    let listed = json(&dry);
    let files = listed["files"].as_array().expect("files");
    let mut outputs: Vec<String> = files
        .iter()
        .map(|f| f["output"].as_str().unwrap_or("").to_string())
        .collect();
    outputs.sort();
    let sizes: u64 = files.iter().filter_map(|f| f["input_bytes"].as_u64()).sum();
    let expected: u64 = tree(&images).iter().map(|(_, b)| b.len() as u64).sum();
    assert_eq!(sizes, expected);
    assert_eq!(listed["totals"]["input_bytes"].as_u64(), Some(expected));
    assert_eq!(listed["totals"]["files"].as_u64(), Some(5));
    assert!(files.iter().all(|f| f["action"] == "compress"));

    let real = run(tmp.path(), &args);
    assert_eq!(real.code, 0, "{}", real.stderr);
    let mut written: Vec<String> = tree(&tmp.path().join("out/small"))
        .into_iter()
        .map(|(rel, _)| format!("out/small/{rel}"))
        .collect();
    written.sort();
    assert_eq!(outputs, written);
    assert_eq!(totals(&real, "input_bytes"), expected);

    // After the run, --skip-existing would skip them all; a changed setting, none.
    let after = tree(tmp.path());
    let skip = run(
        tmp.path(),
        &[&args[..], &["-n", "--skip-existing"]].concat(),
    );
    assert_eq!(
        json(&skip)["totals"]["skip"].as_u64(),
        Some(5),
        "{}",
        skip.stdout
    );
    let other = run(
        tmp.path(),
        &[&args[..], &["-n", "--skip-existing", "-q", "80"]].concat(),
    );
    let other = json(&other);
    assert_eq!(other["totals"]["compress"].as_u64(), Some(5));
    assert!(
        other["files"][0]["reason"]
            .as_str()
            .unwrap_or("")
            .contains("made at quality 30, this run asks for 80"),
        "{other}"
    );
    // The text form names each input, its output and what would be done.
    let text = run(
        tmp.path(),
        &["-r", "-o", "out/small", "-n", "--skip-existing"],
    );
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(
        text.stdout.contains(
            "would skip (up to date) IMAGES/sub/leaf2.jpg (1.1 MiB) -> out/small/sub/compressed_leaf2.jpg\n"
        ),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout
            .contains("Dry run: 5 files, 4.5 MiB (4702393 bytes): 0 to compress, 5 to skip"),
        "{}",
        text.stdout
    );
    assert_eq!(tree(tmp.path()), after, "nothing written");
}

#[test]
fn a_dry_run_of_an_empty_folder_exits_3() {
    let tmp = tempdir();
    fs::create_dir(tmp.path().join("empty")).expect("mkdir");
    let dry = run(tmp.path(), &["-n", "empty"]);
    assert_eq!(dry.code, 3, "{}", dry.stderr);
    assert!(dry.stdout.contains("Dry run: 0 files"), "{}", dry.stdout);
    assert_eq!(file_names(tmp.path()), ["empty"]);
}

#[test]
fn json_lines_give_one_object_per_file_then_the_totals() {
    let tmp = tempdir();
    let images = copy_photos(tmp.path());
    // A file that fails, and (after a first run) outputs that are skipped.
    fs::write(images.join("not.jpg"), b"\x89PNG\r\n\x1a\nrest").expect("write");
    let before = tree(&images);
    assert_eq!(run(tmp.path(), &["--quiet", "IMAGES/leaf.jpg"]).code, 0);

    let lines = run(tmp.path(), &["--skip-existing", "--json-lines"]);
    assert_eq!(lines.code, 1, "{}", lines.stderr);
    assert!(lines.stdout.ends_with('\n'));
    let parsed: Vec<serde_json::Value> = lines
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let (last, files) = parsed.split_last().expect("lines");
    let totals = &last["totals"];
    assert_eq!(files.len(), 5, "{}", lines.stdout);
    assert_eq!(totals["files"].as_u64(), Some(5));
    assert_eq!(totals["skipped"].as_u64(), Some(1));
    assert_eq!(totals["failed"].as_u64(), Some(1));
    assert_eq!(totals["compressed"].as_u64(), Some(3));
    let mut inputs: Vec<&str> = files.iter().filter_map(|f| f["input"].as_str()).collect();
    inputs.sort();
    assert_eq!(
        inputs,
        [
            "IMAGES/dogs.jpg",
            "IMAGES/fig.jpg",
            "IMAGES/leaf.jpg",
            "IMAGES/mountains.jpg",
            "IMAGES/not.jpg"
        ]
    );
    let mut output_bytes = 0;
    for f in files {
        match f["status"].as_str() {
            Some("failed") => {
                assert_eq!(f["input"], "IMAGES/not.jpg");
                assert!(f["error"].as_str().unwrap_or("").contains("PNG"), "{f}");
                assert!(f["output"].is_null());
            }
            Some("compressed" | "skipped") => {
                let output = tmp.path().join(f["output"].as_str().expect("output"));
                let written = fs::metadata(&output).expect("output written").len();
                assert_eq!(f["output_bytes"].as_u64(), Some(written), "{f}");
                output_bytes += written;
            }
            other => panic!("{other:?}: {f}"),
        }
    }
    assert_eq!(totals["output_bytes"].as_u64(), Some(output_bytes));
    assert_eq!(tree(&images), before, "inputs untouched");
    assert!(run(tmp.path(), &["--json", "--json-lines"]).code == 2);
}

/// Every long option `photopress --help` names.
fn long_options(cwd: &Path) -> Vec<String> {
    let help = run(cwd, &["--help"]);
    assert_eq!(help.code, 0, "{}", help.stderr);
    let mut names: Vec<String> = help
        .stdout
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|w| w.starts_with("--") && w.len() > 2)
        .map(str::to_string)
        .collect();
    names.sort();
    names.dedup();
    assert!(names.len() > 20, "{names:?}");
    names
}

#[test]
fn completion_scripts_are_generated_for_each_shell() {
    let tmp = tempdir();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let script = run(tmp.path(), &["completions", shell]);
        assert_eq!(script.code, 0, "{shell}: {}", script.stderr);
        assert!(script.stdout.contains("quality"), "{shell}");
        assert!(script.stdout.contains("dry-run"), "{shell}");
        if shell == "bash" {
            assert!(script.stdout.contains("--quality"));
            let checked = std::process::Command::new("bash")
                .arg("-n")
                .stdin(std::process::Stdio::piped())
                .spawn()
                .and_then(|mut bash| {
                    use std::io::Write;
                    bash.stdin
                        .take()
                        .expect("stdin")
                        .write_all(script.stdout.as_bytes())?;
                    bash.wait()
                })
                .expect("run bash -n");
            assert!(checked.success(), "bash -n refuses the script");
        }
    }
    let bad = run(tmp.path(), &["completions", "tcsh"]);
    assert_eq!(bad.code, 2);
    assert_eq!(
        file_names(tmp.path()),
        Vec::<String>::new(),
        "nothing written"
    );
}

#[test]
fn the_man_page_names_every_long_option_and_renders() {
    let tmp = tempdir();
    let page = run(tmp.path(), &["man"]);
    assert_eq!(page.code, 0, "{}", page.stderr);
    assert!(page.stdout.contains(".TH PHOTOPRESS 1"), "{}", page.stdout);
    let roff = page.stdout.replace("\\-", "-");
    for option in long_options(tmp.path()) {
        assert!(roff.contains(&option), "{option} is not in the man page");
    }
    // Rendered by man itself where it is installed (install-deps does not install it).
    let rendered = std::process::Command::new("man")
        .args(["-l", "-"])
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "100")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let Ok(mut man) = rendered else {
        eprintln!("man is not installed: the page's rendering is not checked");
        return;
    };
    {
        use std::io::Write;
        let mut stdin = man.stdin.take().expect("stdin");
        stdin.write_all(page.stdout.as_bytes()).expect("write");
    }
    let out = man.wait_with_output().expect("man");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("PHOTOPRESS(1)"), "{text}");
    assert!(text.contains("--skip-existing"), "{text}");
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

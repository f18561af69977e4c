//! The command line itself: a default run over IMAGES, jobs, usage errors and their exit
//! code, `--help` and `--version`, what to type when there is nothing to compress, `--dry-run`,
//! shell completions and the man page.

use std::fs;
use std::path::Path;

use crate::common::*;

#[test]
fn default_run_compresses_the_four_photos_into_compressed_images() {
    let tmp = tempdir();
    copy_photos(tmp.path());
    let run = run(tmp.path(), &[] as &[&str]);
    assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);
    let out = tmp.path().join("COMPRESSED_IMAGES");
    assert_eq!(
        file_names(&out),
        [
            "compressed_dogs.jpg",
            "compressed_fig.jpg",
            "compressed_leaf.jpg",
            "compressed_mountains.jpg"
        ]
    );
    for name in PHOTOS {
        let input = decode(&photo(name));
        let output = decode(&out.join(format!("compressed_{name}")));
        assert_eq!(
            (output.width(), output.height()),
            (input.width(), input.height()),
            "{name}"
        );
        // Quality 30 keeps the picture: no channel's mean moves by more than 2 levels.
        assert_close(mean_rgb(&output), mean_rgb(&input), 2.0, name);
        let (in_len, out_len) = (
            fs::metadata(photo(name)).expect("input").len(),
            fs::metadata(out.join(format!("compressed_{name}")))
                .expect("output")
                .len(),
        );
        assert!(
            out_len * 2 < in_len,
            "{name}: {out_len} bytes from {in_len}"
        );
    }
}

#[test]
fn sequential_and_parallel_runs_write_identical_bytes() {
    let tmp = tempdir();
    copy_photos(tmp.path());
    let seq = run(tmp.path(), &["--sequential", "-o", "seq"]);
    let par = run(tmp.path(), &["--jobs", "3", "-o", "par"]);
    assert_eq!(
        (seq.code, par.code),
        (0, 0),
        "{}\n{}",
        seq.stderr,
        par.stderr
    );
    for name in PHOTOS {
        let file = format!("compressed_{name}");
        let a = fs::read(tmp.path().join("seq").join(&file)).expect("seq output");
        let b = fs::read(tmp.path().join("par").join(&file)).expect("par output");
        assert!(
            a == b,
            "{file} differs between sequential and parallel runs"
        );
    }
    // The sequential run does every image on the main thread; the parallel one on the pool.
    let workers = |stderr: &str| -> Vec<String> {
        stderr
            .lines()
            .filter(|l| l.contains(" CompressOneImage ") && l.contains("Start compressing image"))
            .map(|l| l.split(' ').nth(2).unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(workers(&seq.stderr), vec!["main"; 4]);
    let par_workers = workers(&par.stderr);
    assert_eq!(par_workers.len(), 4);
    assert!(
        par_workers.iter().all(|w| w.starts_with("Thread-")),
        "{par_workers:?}"
    );
}

#[test]
fn bad_quality_is_a_usage_error() {
    let tmp = tempdir();
    copy_photos(tmp.path());
    for q in ["0", "101", "-5", "high"] {
        let run = run(tmp.path(), &[format!("--quality={q}")]);
        assert_eq!(run.code, 2, "quality {q}: {}", run.stderr);
        assert!(run.stderr.contains("--quality"), "{}", run.stderr);
    }
    assert!(!tmp.path().join("COMPRESSED_IMAGES").exists());
    assert_eq!(run(tmp.path(), &["-q", "100", "--allow-larger"]).code, 0);
}

#[test]
fn usage_errors_exit_2_before_any_work() {
    let tmp = tempdir();
    copy_photos(tmp.path());
    let missing = run(tmp.path(), &["nowhere"]);
    assert_eq!(missing.code, 2);
    assert!(
        missing.stderr.contains("input nowhere does not exist"),
        "{}",
        missing.stderr
    );

    fs::write(tmp.path().join("afile"), b"x").expect("write");
    let not_dir = run(tmp.path(), &["-o", "afile"]);
    assert_eq!(not_dir.code, 2);
    assert!(
        not_dir
            .stderr
            .contains("output afile exists and is not a directory"),
        "{}",
        not_dir.stderr
    );

    let before = fs::read(tmp.path().join("IMAGES/dogs.jpg")).expect("read");
    let overwrite = run(tmp.path(), &["-o", "IMAGES", "--prefix", ""]);
    assert_eq!(overwrite.code, 2);
    assert!(
        overwrite.stderr.contains("would overwrite input"),
        "{}",
        overwrite.stderr
    );
    assert_eq!(
        fs::read(tmp.path().join("IMAGES/dogs.jpg")).expect("read"),
        before
    );
    assert!(!tmp.path().join("COMPRESSED_IMAGES").exists());

    assert_eq!(run(tmp.path(), &["--jobs", "0"]).code, 2);
    assert_eq!(run(tmp.path(), &["--sequential", "--jobs", "2"]).code, 2);
}

#[test]
fn help_and_version() {
    let tmp = tempdir();
    let help = run(tmp.path(), &["--help"]);
    assert_eq!(help.code, 0);
    for flag in [
        "--output",
        "--quality",
        "--jobs",
        "--sequential",
        "--prefix",
        "--json",
        "--progress",
        "--quiet",
        "--verbose",
        "--preserve",
        "--hidden",
    ] {
        assert!(help.stdout.contains(flag), "--help lacks {flag}");
    }
    assert!(
        help.stdout
            .contains("3 nothing to do: no JPEG found in the inputs"),
        "{}",
        help.stdout
    );
    let version = run(tmp.path(), &["--version"]);
    assert_eq!(
        version.stdout.trim(),
        format!("photopress {}", env!("CARGO_PKG_VERSION"))
    );
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
fn a_mistyped_bucket_address_is_a_usage_error_and_writes_no_folder() {
    let tmp = tempdir();
    copy_photos(tmp.path());
    for bad in [
        "S3://out/x",
        "s3:/out/x",
        "s3:out",
        "http://example.com/x",
        "GS://b/x",
        "az:/c/x",
    ] {
        for args in [vec!["IMAGES", "-o", bad], vec![bad, "-o", "out"]] {
            let run = run(tmp.path(), &args);
            assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
            assert!(
                run.stderr.contains("mistyped bucket address")
                    || run.stderr.contains("addresses are not supported"),
                "{args:?}: {}",
                run.stderr
            );
        }
    }
    let mut left: Vec<String> = fs::read_dir(tmp.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["IMAGES"], "no folder named after the mistake");
}

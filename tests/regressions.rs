//! Inputs that once made the codec misbehave (see `tests/fuzz_regressions/README.md`): each
//! must now fail fast, with a clear per-file error, in every mode.
mod common;

use std::fs;
use std::path::PathBuf;

use common::*;
use photopress::ImageError;
use photopress::codec::{EncodeSettings, recompress};

fn regression_files() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("tests/fuzz_regressions")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 3,
        "regression inputs missing from {}",
        dir.display()
    );
    files
}

#[test]
fn decompression_bombs_are_refused_before_decoding() {
    for path in regression_files() {
        let data = fs::read(&path).expect("read");
        for strict in [true, false] {
            for best in [false, true] {
                let settings = EncodeSettings {
                    strict,
                    best,
                    ..EncodeSettings::default()
                };
                match recompress(&data, &settings) {
                    Err(ImageError::Unsupported(m)) => assert!(
                        m.contains("20000x20000 pixels in only")
                            && m.contains("decompression bomb"),
                        "{}: {m}",
                        path.display()
                    ),
                    other => panic!("{}: {other:?}", path.display()),
                }
            }
        }
    }
}

#[test]
fn bombs_fail_alone_in_a_batch() {
    let tmp = tempdir();
    let images = copy_photos(tmp.path());
    for path in regression_files() {
        fs::copy(&path, images.join(path.file_name().expect("name"))).expect("copy");
    }
    let run = run(tmp.path(), &["--accept-truncated"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        run.stderr.matches("decompression bomb").count(),
        3,
        "{}",
        run.stderr
    );
    assert!(
        run.stdout.ends_with("Files compressed 4, failed 3\n"),
        "{}",
        run.stdout
    );
}

#[test]
fn an_image_over_the_memory_budget_fails_with_the_figures() {
    let tmp = tempdir();
    copy_photos(tmp.path());
    let run = run(tmp.path(), &["--max-memory", "20M"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    // leaf.jpg (2.3 MP) fits in 20 MiB; the 4.5 and 6.3 MP photos do not.
    assert!(
        run.stdout.ends_with("Files compressed 1, failed 3\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("IMAGES/dogs.jpg: needs about")
            && run
                .stderr
                .contains("more than the 20 MiB budget (--max-memory)"),
        "{}",
        run.stderr
    );
    assert_eq!(common::run(tmp.path(), &["--max-memory", "lots"]).code, 2);
}

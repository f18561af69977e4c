//! The log on stderr: each line's time, component, thread and level, `--quiet`, colours on a
//! terminal (not into a pipe, not under NO_COLOR), and the progress bar: drawn only when asked
//! or on a terminal, never garbling a log line, as wide as the terminal.

use std::fs;
use std::path::Path;

use crate::common::*;

#[test]
fn log_lines_have_time_component_thread_and_level() {
    let tmp = tempdir();
    copy_photos(tmp.path());
    let run = run(tmp.path(), &["-j", "2"]);
    assert_eq!(run.code, 0);
    let lines: Vec<&str> = run.stderr.lines().collect();
    // batch start, directory, start+end per image, batch end
    assert_eq!(lines.len(), 1 + 1 + 4 * 2 + 1, "{}", run.stderr);
    for line in &lines {
        let fields: Vec<&str> = line.splitn(5, ' ').collect();
        assert_eq!(fields.len(), 5, "{line}");
        let time = fields[0];
        assert!(
            time.len() == 12 && time.as_bytes()[2] == b':' && time.as_bytes()[8] == b'.',
            "time {time} in {line}"
        );
        assert!(
            ["ProcessImages", "CompressOneImage"].contains(&fields[1]),
            "{line}"
        );
        assert!(
            fields[2] == "main" || fields[2].starts_with("Thread-"),
            "{line}"
        );
        assert_eq!(fields[3], "INFO", "{line}");
    }
    assert!(lines[0].contains("ProcessImages main INFO Start processing 4 images from IMAGES"));
    assert!(
        run.stderr
            .contains("End compressing image, new image saved as compressed_leaf.jpg")
    );
    assert!(
        lines
            .last()
            .is_some_and(|l| l.contains("ProcessImages main INFO End processing"))
    );
}

#[test]
fn quiet_logs_only_problems() {
    let tmp = tempdir();
    let images = copy_photos(tmp.path());
    fs::write(images.join("zz.jpg"), b"garbage").expect("write");
    let run = run(tmp.path(), &["--quiet"]);
    assert_eq!(run.code, 1);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", run.stderr);
    assert!(
        lines[0].contains(" ERROR Failed to compress image IMAGES/zz.jpg: not a valid JPEG"),
        "{}",
        lines[0]
    );
}

#[test]
fn progress_bar_draws_only_when_asked_and_never_garbles_log_lines() {
    let tmp = tempdir();
    copy_photos(tmp.path());
    // stderr is a pipe here: `auto` draws nothing.
    let auto = run(tmp.path(), &["-j", "1", "-o", "a"]);
    assert!(
        !auto.stderr.contains('\x1b') && !auto.stderr.contains(" files "),
        "{}",
        auto.stderr
    );

    let always = run(tmp.path(), &["-j", "1", "-o", "b", "--progress", "always"]);
    assert_eq!(always.code, 0, "{}", always.stderr);
    assert!(always.stderr.contains("4/4 files"), "{}", always.stderr);
    // The bar is cleared before each log line: cut away its segments, and every log line is
    // whole, starting with its time stamp.
    let lines: Vec<&str> = always
        .stderr
        .split("\x1b[2K")
        .flat_map(str::lines)
        .filter(|l| l.contains(" INFO "))
        .collect();
    assert_eq!(lines.len(), 11, "{}", always.stderr);
    for line in lines {
        let b = line.as_bytes();
        assert!(
            b.len() > 13 && b[2] == b':' && b[5] == b':' && b[8] == b'.' && b[12] == b' ',
            "garbled: {line:?}"
        );
    }
    // The report on stdout is untouched by the bar.
    assert!(
        always.stdout.starts_with("Total files size "),
        "{}",
        always.stdout
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

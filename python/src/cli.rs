//! The `photopress` command of the Python package: the binary's own source compiled into the
//! module (one definition of every option, message and exit code), run from Python's
//! `photopress` entry point with Python's `sys.argv`.
use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

use pyo3::prelude::*;

// Its `main` is the binary's; here `run` is called instead.
#[allow(dead_code)]
#[path = "../../src/bin/photopress/main.rs"]
mod command;

/// main(argv) -> int: runs the command with `argv` (the program's name first) and returns its
/// exit status, the GIL released throughout.
#[pyfunction]
pub fn main(py: Python<'_>, argv: Vec<OsString>) -> u8 {
    let code = py.detach(|| {
        let code = command::run(argv);
        let _ = std::io::stdout().flush();
        let _ = std::io::stderr().flush();
        code
    });
    status(code)
}

/// The number behind an `ExitCode` (std keeps it private; it has equality).
fn status(code: ExitCode) -> u8 {
    (0..=u8::MAX)
        .find(|&n| ExitCode::from(n) == code)
        .unwrap_or(1)
}

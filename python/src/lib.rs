//! `photopress._native`: the library for Python (photopress/__init__.py wraps it in typed
//! functions and classes). Every call releases the GIL while Rust works, so Python threads
//! compress in parallel; errors become `photopress.ImageError` (the image could not be
//! compressed; the message names the file when there is one) or `photopress.SetupError` (the
//! options or places do not hold together), both `photopress.Error`s.
mod cli;
mod options;

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use options::Scope;
use photopress::batch::{Observer, Silent};
use photopress::cancel::Cancel;
use photopress::storage::location::Location;
use photopress::{Compressed, Error as PpError, Outcome};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

pyo3::create_exception!(
    photopress,
    Error,
    pyo3::exceptions::PyException,
    "Anything photopress refuses or fails at."
);
pyo3::create_exception!(
    photopress,
    ImageError,
    Error,
    "An image that could not be compressed (not a JPEG, corrupt, too large, unwritable output)."
);
pyo3::create_exception!(
    photopress,
    SetupError,
    Error,
    "Options or places that do not hold together (nothing was done)."
);

/// The error as Python's exception, its message prefixed with `file` (the image it is about)
/// when there is one, as the command's per-file lines are.
fn raise(err: PpError, file: Option<&std::path::Path>) -> PyErr {
    match err {
        PpError::Setup(err) => SetupError::new_err(err.to_string()),
        PpError::Image(err) => match file {
            Some(file) => ImageError::new_err(format!("{}: {err}", file.display())),
            None => ImageError::new_err(err.to_string()),
        },
    }
}

/// The calls now running with the GIL released, and the most seen at once (what the tests
/// read to show that two Python threads compress in parallel).
static RUNNING: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// Runs `work` with the GIL released, counted in RUNNING and PEAK.
fn detached<T: Send>(py: Python<'_>, work: impl FnOnce() -> T + Send) -> T {
    py.detach(|| {
        let now = RUNNING.fetch_add(1, Ordering::SeqCst) + 1;
        PEAK.fetch_max(now, Ordering::SeqCst);
        let out = work();
        RUNNING.fetch_sub(1, Ordering::SeqCst);
        out
    })
}

/// The fields every result has, as a dict for photopress.Result / FileResult.
fn result_dict<'py>(py: Python<'py>, out: &Compressed) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("input_bytes", out.input_bytes)?;
    dict.set_item("output_bytes", out.data.len())?;
    dict.set_item("kept_original", out.kept_original)?;
    dict.set_item("method", out.method.map(|m| m.as_str()))?;
    dict.set_item("quality", out.quality)?;
    dict.set_item("score", out.score)?;
    dict.set_item("candidates", out.candidates)?;
    dict.set_item("dimensions", out.dimensions)?;
    Ok(dict)
}

/// compress(data, options) -> dict: one JPEG in memory (photopress.compress).
#[pyfunction]
#[pyo3(signature = (data, **kwargs))]
fn compress<'py>(
    py: Python<'py>,
    data: &[u8],
    kwargs: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyDict>> {
    let options = options::from_kwargs(kwargs, Scope::Bytes, PathBuf::new())?;
    let out =
        detached(py, || photopress::compress_bytes(data, &options)).map_err(|e| raise(e, None))?;
    let dict = result_dict(py, &out)?;
    dict.set_item("data", PyBytes::new(py, &out.data))?;
    Ok(dict)
}

/// compress_file(input, output, options) -> dict: one file to a path (photopress.compress_file).
#[pyfunction]
#[pyo3(signature = (input, output, **kwargs))]
fn compress_file<'py>(
    py: Python<'py>,
    input: PathBuf,
    output: PathBuf,
    kwargs: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyDict>> {
    let options = options::from_kwargs(kwargs, Scope::File, PathBuf::new())?;
    let out = detached(py, || photopress::compress_file(&input, &output, &options))
        .map_err(|e| raise(e, Some(&input)))?;
    result_dict(py, &out)
}

/// Calls Python's `on_file` with each finished image's record (its JSON line), from the worker
/// that did it, holding the GIL for the call. The first exception it raises stops the batch
/// as Ctrl-C does, and is raised by `compress_dir` once the images in progress are done.
struct OnFile<'a> {
    call: Py<PyAny>,
    cancel: &'a Cancel,
    raised: Mutex<Option<PyErr>>,
}

impl Observer for OnFile<'_> {
    fn image_done(&self, outcome: &Outcome) {
        let mut raised = self.raised.lock().unwrap_or_else(|e| e.into_inner());
        if raised.is_some() {
            return;
        }
        let line = photopress::report::json_line(outcome);
        if let Err(err) = Python::attach(|py| self.call.call1(py, (line,)).map(drop)) {
            self.cancel.cancel();
            *raised = Some(err);
        }
    }
}

/// compress_dir(inputs, output, on_file, options) -> (JSON report, text report): the
/// command's batch (photopress.compress_dir). Ctrl-C stops it as it stops the command: no
/// image starts after it, those in progress finish, then KeyboardInterrupt is raised.
#[pyfunction]
#[pyo3(signature = (inputs, output, on_file=None, **kwargs))]
fn compress_dir<'py>(
    py: Python<'py>,
    inputs: Vec<OsString>,
    output: OsString,
    on_file: Option<Py<PyAny>>,
    kwargs: Option<&Bound<'py, PyDict>>,
) -> PyResult<(String, String)> {
    let mut options = options::from_kwargs(kwargs, Scope::Batch, PathBuf::from(&output))?;
    let places =
        |text: &OsString| Location::parse(text).map_err(|e| SetupError::new_err(e.to_string()));
    let inputs = inputs.iter().map(places).collect::<PyResult<Vec<_>>>()?;
    options.set_output(places(&output)?);
    let cancel = Cancel::new();
    let on_file = on_file.map(|call| OnFile {
        call,
        cancel: &cancel,
        raised: Mutex::new(None),
    });
    let observer: &dyn Observer = match &on_file {
        Some(on_file) => on_file,
        None => &Silent,
    };
    let (result, interrupted) = std::thread::scope(|scope| {
        let batch = scope.spawn(|| photopress::compress_dir(&inputs, &options, observer, &cancel));
        let mut interrupted = None;
        while !batch.is_finished() {
            // Python runs its signal handlers only on the main thread, between bytecodes:
            // this thread waits without the GIL and looks in at them now and then.
            py.detach(|| std::thread::sleep(Duration::from_millis(50)));
            if interrupted.is_none()
                && let Err(err) = py.check_signals()
            {
                cancel.cancel();
                interrupted = Some(err);
            }
        }
        (batch.join(), interrupted)
    });
    if let Some(err) = interrupted {
        return Err(err);
    }
    if let Some(err) =
        on_file.and_then(|f| f.raised.into_inner().unwrap_or_else(|e| e.into_inner()))
    {
        return Err(err);
    }
    let result = result
        .map_err(|_| Error::new_err("the batch stopped on an internal error"))?
        .map_err(|e| SetupError::new_err(e.to_string()))?;
    Ok((
        photopress::report::json(&result),
        photopress::report::text(&result),
    ))
}

/// The most calls that ran at once with the GIL released since the last reset, and resets it.
#[pyfunction]
fn _take_peak_parallel_calls() -> usize {
    PEAK.swap(RUNNING.load(Ordering::SeqCst), Ordering::SeqCst)
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("Error", py.get_type::<Error>())?;
    m.add("ImageError", py.get_type::<ImageError>())?;
    m.add("SetupError", py.get_type::<SetupError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(compress, m)?)?;
    m.add_function(wrap_pyfunction!(compress_file, m)?)?;
    m.add_function(wrap_pyfunction!(compress_dir, m)?)?;
    m.add_function(wrap_pyfunction!(cli::main, m)?)?;
    m.add_function(wrap_pyfunction!(_take_peak_parallel_calls, m)?)?;
    Ok(())
}

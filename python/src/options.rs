//! The keyword arguments of the Python API, as one `Options`: each named as the field (or
//! `names::Setting`) it sets, so that the library's messages, which name settings by their
//! fields, name the keyword a Python user typed. Values are checked here (types, ranges,
//! target and size strings) and by `Options::validate`; a wrong one raises `SetupError` (a
//! wrong type `TypeError`), naming the keyword.
use std::ffi::OsString;
use std::path::PathBuf;

use photopress::jpeg::resize::Resize;
use photopress::options::target;
use photopress::options::{Method, Operation, Options};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::SetupError;

/// What a call compresses, and so which keywords it takes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// `compress`: bytes in memory.
    Bytes,
    /// `compress_file`: one file (also `fsync`, `preserve`).
    File,
    /// `compress_dir`: a batch (every keyword).
    Batch,
}

/// The keywords of a batch only, and of files and batches only.
const BATCH_ONLY: &[&str] = &[
    "jobs",
    "sequential",
    "prefix",
    "recursive",
    "skip_existing",
    "hidden",
    "exclude",
];
const FILES_ONLY: &[&str] = &["fsync", "preserve"];

/// `Options` from the keyword arguments in `kwargs` (`None` values are left at their
/// defaults) for a call of `scope`. `output` is the output folder of a batch.
pub fn from_kwargs(
    kwargs: Option<&Bound<'_, PyDict>>,
    scope: Scope,
    output: PathBuf,
) -> PyResult<Options> {
    let mut options = Options {
        output_dir: output,
        max_memory: photopress::memory::default_limit(),
        ..Options::default()
    };
    let mut quality = None;
    let mut prefix = None;
    let mut resize = Resize::default();
    let (mut archive, mut restore) = (false, false);
    if let Some(kwargs) = kwargs {
        for (key, value) in kwargs.iter() {
            let key: String = key.extract()?;
            let refused = (scope != Scope::Batch && BATCH_ONLY.contains(&key.as_str()))
                || (scope == Scope::Bytes && FILES_ONLY.contains(&key.as_str()));
            if refused {
                return Err(PyTypeError::new_err(format!(
                    "{key} applies to compress_dir{} only",
                    if FILES_ONLY.contains(&key.as_str()) {
                        " and compress_file"
                    } else {
                        ""
                    }
                )));
            }
            if value.is_none() {
                continue;
            }
            let value = &value;
            match key.as_str() {
                "quality" => quality = Some(int_in(value, &key, 1, 100)? as u8),
                "jobs" => options.jobs = int_in(value, &key, 1, 4096)? as usize,
                "sequential" => options.sequential = flag(value, &key)?,
                "prefix" => prefix = Some(value.extract::<OsString>()?),
                "recursive" => options.recursive = flag(value, &key)?,
                "strip" => options.strip = flag(value, &key)?,
                "strip_icc" => options.strip_icc = flag(value, &key)?,
                "allow_larger" => options.allow_larger = flag(value, &key)?,
                "skip_existing" => options.skip_existing = flag(value, &key)?,
                "accept_corrupt" => options.accept_corrupt = flag(value, &key)?,
                "best" => options.best = flag(value, &key)?,
                "method" => options.method = method(value)?,
                "max_memory" => options.max_memory = size(value, &key)?,
                "max_file_size" => options.max_file_size = size(value, &key)?,
                "fsync" => options.fsync = flag(value, &key)?,
                "extended" => options.extended = flag(value, &key)?,
                "progressive" => options.progressive = flag(value, &key)?,
                "lossless" => options.lossless = flag(value, &key)?,
                "preserve" => options.preserve = flag(value, &key)?,
                "hidden" => options.hidden = flag(value, &key)?,
                "exclude" => options.exclude = value.extract::<Vec<String>>()?,
                "target_quality" => options.target_quality = Some(quality_target(value)?),
                "target_size" => options.target_size = Some(size_limit(value, &key)?),
                "min_savings" => options.min_savings = Some(size_limit(value, &key)?),
                "long_edge" => resize.long_edge = Some(side(value, &key)?),
                "width" => resize.width = Some(side(value, &key)?),
                "height" => resize.height = Some(side(value, &key)?),
                "upscale" => resize.upscale = flag(value, &key)?,
                "archive" => archive = flag(value, &key)?,
                "restore" => restore = flag(value, &key)?,
                "archive_strict" => options.archive_strict = flag(value, &key)?,
                _ => {
                    return Err(PyTypeError::new_err(format!(
                        "unexpected keyword argument '{key}'"
                    )));
                }
            }
        }
    }
    options.operation = match (archive, restore) {
        (true, true) => {
            return Err(SetupError::new_err(
                "archive and restore cannot be combined",
            ));
        }
        (true, false) => Operation::Archive,
        (false, true) => Operation::Restore,
        (false, false) => Operation::Compress,
    };
    // The command line's defaults.
    options.quality = quality.unwrap_or(Options::default_quality(options.has_target()));
    options.prefix =
        prefix.unwrap_or_else(|| OsString::from(Options::default_prefix(options.operation)));
    if resize.long_edge.is_some() || resize.width.is_some() || resize.height.is_some() {
        options.resize = Some(resize);
    } else if resize.upscale {
        return Err(SetupError::new_err(
            "upscale needs long_edge, width or height",
        ));
    }
    Ok(options)
}

fn flag(value: &Bound<'_, PyAny>, key: &str) -> PyResult<bool> {
    value
        .extract::<bool>()
        .map_err(|_| PyTypeError::new_err(format!("{key} must be True or False")))
}

fn int_in(value: &Bound<'_, PyAny>, key: &str, low: i64, high: i64) -> PyResult<i64> {
    if value.extract::<bool>().is_ok() {
        return Err(PyTypeError::new_err(format!("{key} must be an integer")));
    }
    let n: i64 = value
        .extract()
        .map_err(|_| PyTypeError::new_err(format!("{key} must be an integer")))?;
    if !(low..=high).contains(&n) {
        return Err(SetupError::new_err(format!(
            "{key} must be between {low} and {high}, got {n}"
        )));
    }
    Ok(n)
}

fn side(value: &Bound<'_, PyAny>, key: &str) -> PyResult<u32> {
    Ok(int_in(value, key, 1, i64::from(photopress::jpeg::resize::MAX_SIDE))? as u32)
}

fn method(value: &Bound<'_, PyAny>) -> PyResult<Method> {
    match value.extract::<String>()?.as_str() {
        "auto" => Ok(Method::Auto),
        "dct" => Ok(Method::Dct),
        "pixel" => Ok(Method::Pixel),
        other => Err(SetupError::new_err(format!(
            "method must be 'auto', 'dct' or 'pixel', got {other:?}"
        ))),
    }
}

/// A byte count: an integer, or a string as the command line takes it (`"512M"`).
fn size(value: &Bound<'_, PyAny>, key: &str) -> PyResult<u64> {
    let text = size_text(value, key)?;
    photopress::memory::parse_size(&text).map_err(|e| SetupError::new_err(format!("{key}: {e}")))
}

/// A size or a share of each input: an integer (bytes) or a string (`"200K"`, `"60%"`).
fn size_limit(value: &Bound<'_, PyAny>, key: &str) -> PyResult<target::SizeLimit> {
    let text = size_text(value, key)?;
    target::parse_size_limit(&text).map_err(|e| SetupError::new_err(format!("{key}: {e}")))
}

fn size_text(value: &Bound<'_, PyAny>, key: &str) -> PyResult<String> {
    if value.extract::<bool>().is_err() {
        if let Ok(n) = value.extract::<u64>() {
            return Ok(n.to_string());
        }
        if let Ok(text) = value.extract::<String>() {
            return Ok(text);
        }
    }
    Err(PyTypeError::new_err(format!(
        "{key} must be a number of bytes or a string such as \"200K\""
    )))
}

/// `"ssimulacra2:70"`, or a bare score (70) for the one metric.
fn quality_target(value: &Bound<'_, PyAny>) -> PyResult<target::QualityTarget> {
    let text = match value.extract::<String>() {
        Ok(text) => text,
        Err(_) => match value.extract::<f64>() {
            Ok(score) if value.extract::<bool>().is_err() => format!("ssimulacra2:{score}"),
            _ => {
                return Err(PyTypeError::new_err(
                    "target_quality must be a score (70) or \"ssimulacra2:70\"",
                ));
            }
        },
    };
    target::parse_quality_target(&text)
        .map_err(|e| SetupError::new_err(format!("target_quality: {e}")))
}

//! `photopress report --verify`: each done key's output, as its latest record names it, checked
//! where it lies — a local file's size (`stat`), an object's (one `HEAD`) — against the bytes
//! the record says were written. What is missing or of another size is listed; the job is
//! then not complete. The outputs to check come from the merge in key order, a part at a time
//! ([`List`]), so memory stays bounded whatever the job's size; the buckets are connected once
//! each.
use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::List;
use crate::storage::{Bucket, ObjectUrl, StorageError};

/// A done key's output as its latest record says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Written {
    /// The relative key.
    pub key: String,
    /// The output's location: a path or `s3://bucket/key`.
    pub output: String,
    /// The bytes the record says were written.
    pub bytes: u64,
}

/// An output that is not what its record says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrongOutput {
    /// The relative key of its input.
    pub key: String,
    /// The output's location.
    pub output: String,
    /// The bytes its record says were written.
    pub recorded_bytes: u64,
    /// The bytes found there; `None` when nothing is there (or it cannot be read: `problem`).
    pub found_bytes: Option<u64>,
    /// What is wrong, in words.
    pub problem: String,
}

impl WrongOutput {
    /// One line of the text report.
    pub fn describe(&self) -> String {
        format!("{}: {} ({})", self.key, self.output, self.problem)
    }
}

/// Checks every output `report.written` lists and sets `report.wrong_outputs`; a merge that
/// was not [`super::JobMerge::verifying`] has nothing to check. An error is a temporary
/// file's; a bucket that cannot be reached makes each of its outputs wrong, with the cause.
pub fn verify_outputs(report: &mut super::JobReport) -> io::Result<()> {
    let Some(written) = report.written.take() else {
        return Ok(());
    };
    let mut wrong = List::new(super::list::IN_MEMORY);
    let mut buckets: HashMap<String, Result<Bucket, String>> = HashMap::new();
    written.for_each(|w| {
        let found = if crate::storage::is_object_url(&w.output) {
            object_size(&w.output, &mut buckets)
        } else {
            file_size(Path::new(&w.output))
        };
        let problem = match found {
            Ok(Some(size)) if size == w.bytes => return Ok(()),
            Ok(Some(size)) => (
                Some(size),
                format!("{size} bytes, the record says {}", w.bytes),
            ),
            Ok(None) => (None, "missing".to_string()),
            Err(why) => (None, why),
        };
        wrong.push(WrongOutput {
            key: w.key,
            output: w.output,
            recorded_bytes: w.bytes,
            found_bytes: problem.0,
            problem: problem.1,
        })
    })?;
    report.wrong_outputs = Some(wrong.finish()?);
    Ok(())
}

/// A local output's size; `None` when there is none.
fn file_size(path: &Path) -> Result<Option<u64>, String> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_file() => Ok(Some(meta.len())),
        Ok(_) => Err("not a regular file".to_string()),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(format!("cannot read it: {err}")),
    }
}

/// An object output's size (one HEAD); `None` when there is none.
fn object_size(
    url: &str,
    buckets: &mut HashMap<String, Result<Bucket, String>>,
) -> Result<Option<u64>, String> {
    let parsed = ObjectUrl::parse(url).map_err(|e| e.to_string())?;
    let bucket = buckets
        .entry(parsed.root().to_string())
        .or_insert_with(|| Bucket::connect(&parsed.root()).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|why| format!("cannot reach its bucket: {why}"))?;
    match bucket.head(parsed.prefix()) {
        Ok(info) => Ok(Some(info.size)),
        Err(StorageError::NotFound { .. }) => Ok(None),
        Err(err) => Err(err.to_string()),
    }
}

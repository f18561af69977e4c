//! One image to compress: where it comes from, where its result goes, and the relative key
//! that shards and manifests know it by. Made by the scans (`scan`, `objects`), checked by
//! `guard`, done by `compress`.
use std::path::{Path, PathBuf};

/// One image to compress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The input: a local file as found (the input argument joined with the path below it), or
    /// an object's address (`s3://bucket/key`).
    pub input: PathBuf,
    /// Where its result is written: a local path or an object's address.
    pub output: PathBuf,
    /// The relative key: the input's path below its input root, `/`-separated (a file named on
    /// the command line: its name). What shards hash and manifests record.
    pub key: String,
    /// Where the input's bytes come from.
    pub source: Source,
    /// Where the output goes.
    pub dest: Dest,
    /// A problem found while scanning (an unreadable folder, an output name taken by another
    /// input): the job fails with this message without being read.
    pub problem: Option<String>,
}

/// Where a job's input is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The local file `input`.
    File,
    /// The object `key` below the input bucket's prefix, with what the listing (or key list)
    /// said of it.
    Object {
        /// The object's size in bytes as listed; `None` when unknown (an unreadable key, a
        /// key-list line without it). Used to order the work and by the dry run.
        size: Option<u64>,
        /// The object's ETag as listed; `None` when unknown, and a resumed run then asks the
        /// server (HEAD) for the input's version.
        etag: Option<String>,
    },
}

/// Where a job's output is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dest {
    /// The local file `output`.
    File,
    /// This key below the output bucket's prefix.
    Object(String),
}

impl Job {
    /// A job for a local file, `output` its local output.
    pub fn file(input: PathBuf, output: PathBuf, key: String, problem: Option<String>) -> Job {
        Job {
            input,
            output,
            key,
            source: Source::File,
            dest: Dest::File,
            problem,
        }
    }
}

/// The relative key of a file `name` in the folder `rel` below its input root.
pub fn relative_key(rel: &Path, name: &std::ffi::OsStr) -> String {
    let mut key = String::new();
    for part in rel.components() {
        key.push_str(&part.as_os_str().to_string_lossy());
        key.push('/');
    }
    key.push_str(&name.to_string_lossy());
    key
}

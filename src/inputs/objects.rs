//! Jobs beyond one folder: inputs listed from a bucket prefix or read from a key list, outputs
//! sent to a bucket prefix, and the shard filter. The local folder scan stays in `scan`; this
//! module turns the other sources into the same [`Job`]s, so the batch is one pipeline.
//!
//! Output keys mirror the input keys under the output prefix with the same prefix rule as
//! files: `sub/a.jpg` → `<output prefix>/sub/<prefix>a.jpg`.
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use tracing::{info, warn};

use crate::error::SetupError;
use crate::inputs::keylist::KeyEntry;
use crate::inputs::walk::{Dest, Job, Source, is_jpeg_name};
use crate::options::Options;
use crate::storage::location::Location;
use crate::storage::{Bucket, ObjectUrl, validate_key_rel};

/// The output key of an input key: the same folders, the file name with the prefix.
pub fn output_key(key: &str, prefix: &OsStr) -> String {
    let prefix = prefix.to_string_lossy();
    match key.rsplit_once('/') {
        Some((dir, name)) => format!("{dir}/{prefix}{name}"),
        None => format!("{prefix}{key}"),
    }
}

/// Jobs for the JPEG objects below `bucket`'s prefix (its sub-prefixes too with `recursive`).
/// Keys the listing found but that cannot be read fail alone.
pub fn list_jobs(bucket: &Bucket, opts: &Options) -> Result<Vec<Job>, SetupError> {
    let url = bucket.url();
    let listing = bucket
        .list("", opts.recursive)
        .map_err(|e| SetupError::Storage(e.to_string()))?;
    if !opts.recursive && !listing.sub_prefixes.is_empty() {
        info!(
            target: "ProcessImages",
            "{} holds {} sub-prefixes that are not read without -r",
            url,
            listing.sub_prefixes.len()
        );
    }
    let mut jobs = Vec::new();
    for object in listing.objects {
        if !is_jpeg_name(Path::new(&object.key_rel)) {
            continue;
        }
        jobs.push(object_job(
            url,
            object.key_rel,
            Some(object.size),
            object.etag,
            None,
        ));
    }
    for bad in listing.invalid {
        if is_jpeg_name(Path::new(&bad.key)) {
            let problem = format!("the key cannot be read: {}", bad.reason);
            jobs.push(object_job(url, bad.key, None, None, Some(problem)));
        } else {
            warn!(target: "ProcessImages", "Skipping {}: {}", url.object_url(&bad.key), bad.reason);
        }
    }
    jobs.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(jobs)
}

fn object_job(
    url: &ObjectUrl,
    key: String,
    size: Option<u64>,
    etag: Option<String>,
    problem: Option<String>,
) -> Job {
    Job {
        input: PathBuf::from(url.object_url(&key)),
        output: PathBuf::new(),
        key,
        source: Source::Object { size, etag },
        dest: Dest::File,
        problem,
    }
}

/// Jobs for the keys of a key list, below `root` (a folder or a bucket prefix). Keys were
/// checked when the list was read; names that are not JPEG names are taken too (the list
/// says what to do).
pub fn key_jobs(root: &Location, entries: Vec<KeyEntry>) -> Vec<Job> {
    entries
        .into_iter()
        .map(|entry| match root {
            Location::Object(url) => object_job(url, entry.key, entry.size, entry.etag, None),
            Location::Local(dir) => {
                // A checked key has no `..`, no leading `/`, no empty segment.
                let problem = validate_key_rel(&entry.key).err().map(|e| e.to_string());
                let input = dir.join(&entry.key);
                Job::file(input, PathBuf::new(), entry.key, problem)
            }
        })
        .collect()
}

/// Sets each job's output: below the local output folder (as the folder scan does), or
/// below the output bucket prefix.
pub fn set_outputs(jobs: &mut [Job], opts: &Options) {
    for job in jobs {
        let key = output_key(&job.key, &opts.prefix);
        match &opts.output_url {
            Some(url) => {
                job.output = PathBuf::from(url.object_url(&key));
                job.dest = Dest::Object(key);
            }
            None => {
                job.output = key
                    .split('/')
                    .fold(opts.output_dir.clone(), |p, s| p.join(s));
                job.dest = Dest::File;
            }
        }
    }
}

/// The jobs of a run whose inputs or output may be in a bucket, or that reads a key list:
/// listed (or read from `keys`, relative to the one input), kept to this run's shard, given
/// their outputs, and — for a local output — checked like the folder scan's.
pub fn jobs(
    inputs: &[Location],
    keys: Option<Vec<KeyEntry>>,
    input_bucket: Option<&Bucket>,
    opts: &Options,
) -> Result<Vec<Job>, SetupError> {
    let mut jobs = match keys {
        Some(mut keys) => {
            let [root] = inputs else {
                return Err(SetupError::KeysNeedOneInput(inputs.len()));
            };
            keys.sort_by(|a, b| a.key.cmp(&b.key));
            keys.dedup_by(|a, b| a.key == b.key);
            key_jobs(root, keys)
        }
        None => {
            let mut jobs = Vec::new();
            for input in inputs {
                match (input, input_bucket) {
                    (Location::Object(_), Some(bucket)) => jobs.extend(list_jobs(bucket, opts)?),
                    (Location::Object(url), None) => {
                        return Err(SetupError::Storage(format!("{url}: no connection")));
                    }
                    (Location::Local(path), _) => {
                        jobs.extend(crate::inputs::walk::scan(std::slice::from_ref(path), opts)?)
                    }
                }
            }
            jobs
        }
    };
    keep_shard(&mut jobs, opts);
    set_outputs(&mut jobs, opts);
    if opts.output_url.is_none() {
        crate::inputs::guard::check(&mut jobs, &opts.output_dir)?;
    }
    Ok(jobs)
}

/// Keeps the jobs of this run's shard.
pub fn keep_shard(jobs: &mut Vec<Job>, opts: &Options) {
    if opts.shard.count <= 1 {
        return;
    }
    let before = jobs.len();
    jobs.retain(|job| opts.shard.contains(job.key.as_bytes()));
    info!(
        target: "ProcessImages",
        "{}: {} of {} images",
        opts.shard,
        jobs.len(),
        before
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_keys_mirror_the_input_keys_with_the_prefix() {
        let p = OsStr::new("compressed_");
        assert_eq!(output_key("a.jpg", p), "compressed_a.jpg");
        assert_eq!(output_key("x/y/a.jpg", p), "x/y/compressed_a.jpg");
        assert_eq!(output_key("x/a.jpg", OsStr::new("")), "x/a.jpg");
    }
}

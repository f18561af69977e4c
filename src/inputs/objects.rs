//! Jobs beyond one folder: inputs listed from a bucket prefix or read from a key list, outputs
//! sent to a bucket prefix, and the shard filter. The local folder scan stays in `scan`; this
//! module turns the other sources into the same [`Job`]s, so the batch is one pipeline.
//!
//! Output keys mirror the input keys under the output prefix with the same prefix rule as
//! files: `sub/a.jpg` → `<output prefix>/sub/<prefix>a.jpg`.
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use tracing::{debug, info, warn};

use crate::error::SetupError;
use crate::inputs::keylist::KeyEntry;
use crate::inputs::walk::{Dest, Job, Source, is_jpeg_name, is_skipped_in_walks};
use crate::options::{Operation, Options};
use crate::storage::location::Location;
use crate::storage::{Bucket, ObjectUrl, validate_key_rel};

/// The output key of an input key: the same folders, the file name with the prefix (and
/// `.lep` added or taken off when archiving or restoring: [`Operation::output_name`]).
pub fn output_key(key: &str, prefix: &OsStr, operation: Operation) -> String {
    let (dir, name) = match key.rsplit_once('/') {
        Some((dir, name)) => (Some(dir), name),
        None => (None, key),
    };
    let name = operation.output_name(prefix, OsStr::new(name));
    let name = name.to_string_lossy();
    match dir {
        Some(dir) => format!("{dir}/{name}"),
        None => name.into_owned(),
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
    let filter = KeyFilter::new(url, opts);
    let (mut hidden, mut in_output) = (0usize, 0usize);
    let mut jobs = Vec::new();
    for object in listing.objects {
        match filter.leaves_out(&object.key_rel) {
            Some(LeftOut::NotJpeg) => continue,
            Some(LeftOut::HiddenOrSystem) => {
                debug!(target: "ProcessImages", "Skipping {}: a hidden or system key", url.object_url(&object.key_rel));
                hidden += 1;
                continue;
            }
            Some(LeftOut::InOutput) => {
                in_output += 1;
                continue;
            }
            None => {}
        }
        jobs.push(object_job(
            url,
            object.key_rel,
            Some(object.size),
            object.etag,
            None,
        ));
    }
    if hidden > 0 {
        info!(
            target: "ProcessImages",
            "Skipped {hidden} hidden or system keys in {url} (._*, .thumbnails/, @eaDir/...; -v names them{})",
            if opts.hidden { String::new() } else { format!(", {} takes hidden ones", crate::names::name(crate::names::Setting::Hidden)) }
        );
    }
    if in_output > 0 {
        info!(target: "ProcessImages", "Left out {in_output} keys under the output prefix, which lies inside the input prefix");
    }
    for bad in listing.invalid {
        if filter.leaves_out(&bad.key).is_none() {
            let problem = format!("the key cannot be read: {}", bad.reason);
            jobs.push(object_job(url, bad.key, None, None, Some(problem)));
        } else {
            warn!(target: "ProcessImages", "Skipping {}: {}", url.object_url(&bad.key), bad.reason);
        }
    }
    jobs.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(jobs)
}

/// Why a listed key is not an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeftOut {
    /// Its name is not a JPEG name.
    NotJpeg,
    /// One of its segments is hidden (`.thumbnails/`, `._x.jpg`; unless `--hidden`) or a
    /// system entry (`@eaDir/`, `Thumbs.db`...): the rule of folder walks.
    HiddenOrSystem,
    /// It lies under the output prefix, inside the input prefix (the outputs of a run).
    InOutput,
}

/// The rule a bucket listing's keys go through, the same as a folder walk's: JPEG names only,
/// no hidden or system entries, nothing under the output when the output is inside the input
/// (so a rerun never takes its own outputs as inputs).
pub struct KeyFilter {
    hidden: bool,
    /// Archives (`.lep`) are the inputs, not JPEGs (a restore).
    archives: bool,
    /// The output prefix relative to the input prefix, with a trailing `/`, when the output
    /// lies inside the input.
    output_below: Option<String>,
}

impl KeyFilter {
    /// The filter for listing `input` under `opts` (`--hidden`, the output prefix).
    pub fn new(input: &ObjectUrl, opts: &Options) -> Self {
        let output_below = opts.output_url.as_ref().and_then(|out| {
            if out.root() != input.root() {
                return None;
            }
            let rel = match input.prefix() {
                "" => out.prefix(),
                prefix => out.prefix().strip_prefix(prefix)?.strip_prefix('/')?,
            };
            (!rel.is_empty()).then(|| format!("{rel}/"))
        });
        KeyFilter {
            hidden: opts.hidden,
            archives: opts.operation == Operation::Restore,
            output_below,
        }
    }

    /// Why `key_rel` (relative to the input prefix) is not an input, or `None` when it is.
    pub fn leaves_out(&self, key_rel: &str) -> Option<LeftOut> {
        if self
            .output_below
            .as_deref()
            .is_some_and(|out| key_rel.starts_with(out))
        {
            return Some(LeftOut::InOutput);
        }
        if key_rel
            .split('/')
            // (`.` and `..` are not names but invalid keys, reported as such.)
            .any(|s| !matches!(s, "." | "..") && is_skipped_in_walks(OsStr::new(s), self.hidden))
        {
            return Some(LeftOut::HiddenOrSystem);
        }
        let name_taken = if self.archives {
            crate::options::is_archive_name(Path::new(key_rel))
        } else {
            is_jpeg_name(Path::new(key_rel))
        };
        if !name_taken {
            return Some(LeftOut::NotJpeg);
        }
        None
    }
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
        let key = output_key(&job.key, &opts.prefix, opts.operation);
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
        let c = Operation::Compress;
        assert_eq!(output_key("a.jpg", p, c), "compressed_a.jpg");
        assert_eq!(output_key("x/y/a.jpg", p, c), "x/y/compressed_a.jpg");
        assert_eq!(output_key("x/a.jpg", OsStr::new(""), c), "x/a.jpg");
        assert_eq!(
            output_key("x/a.jpg", p, Operation::Archive),
            "x/compressed_a.jpg.lep"
        );
        assert_eq!(
            output_key("x/a.jpg.lep", OsStr::new(""), Operation::Restore),
            "x/a.jpg"
        );
    }

    fn url(text: &str) -> ObjectUrl {
        ObjectUrl::parse(text).expect("a valid address")
    }

    #[test]
    fn listed_keys_follow_the_folder_walk_rules() {
        let input = url("s3://b/photos");
        let opts = Options {
            output_url: Some(url("s3://b/photos/small")),
            ..Options::default()
        };
        let filter = KeyFilter::new(&input, &opts);
        assert_eq!(filter.leaves_out("a.jpg"), None);
        assert_eq!(filter.leaves_out("sub/a.JPEG"), None);
        assert_eq!(
            filter.leaves_out("smaller/a.jpg"),
            None,
            "a sibling, not the output"
        );
        assert_eq!(
            filter.leaves_out("small/compressed_a.jpg"),
            Some(LeftOut::InOutput)
        );
        assert_eq!(filter.leaves_out("a.png"), Some(LeftOut::NotJpeg));
        for hidden in [
            ".thumbnails/a.jpg",
            "x/._a.jpg",
            "@eaDir/a.jpg",
            "x/#recycle/a.jpg",
            ".a.jpg",
        ] {
            assert_eq!(
                filter.leaves_out(hidden),
                Some(LeftOut::HiddenOrSystem),
                "{hidden}"
            );
        }
        let with_hidden = KeyFilter::new(
            &input,
            &Options {
                hidden: true,
                ..opts.clone()
            },
        );
        assert_eq!(with_hidden.leaves_out(".thumbnails/a.jpg"), None);
        assert_eq!(
            with_hidden.leaves_out("x/._a.jpg"),
            Some(LeftOut::HiddenOrSystem)
        );
        assert_eq!(
            with_hidden.leaves_out("@eaDir/a.jpg"),
            Some(LeftOut::HiddenOrSystem)
        );

        // The whole bucket as input, the output a prefix of it; another bucket; the output
        // above the input.
        let whole = KeyFilter::new(&url("s3://b"), &opts);
        assert_eq!(
            whole.leaves_out("photos/small/a.jpg"),
            Some(LeftOut::InOutput)
        );
        assert_eq!(whole.leaves_out("photos/a.jpg"), None);
        let other = Options {
            output_url: Some(url("s3://c/photos/small")),
            ..Options::default()
        };
        assert_eq!(
            KeyFilter::new(&input, &other).leaves_out("small/a.jpg"),
            None
        );
        let above = Options {
            output_url: Some(url("s3://b")),
            ..Options::default()
        };
        assert_eq!(KeyFilter::new(&input, &above).leaves_out("a.jpg"), None);
    }
}

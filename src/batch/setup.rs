//! From the places the command line names to the batch's jobs and buckets: local inputs go
//! through the folder scan as they always did; bucket inputs or outputs, key lists and shards
//! through `objects`. Used by the command line and by library users alike.
use std::ffi::OsStr;
use std::path::PathBuf;

use tracing::error;

use crate::batch::Storage;
use crate::error::SetupError;
use crate::inputs::keylist;
use crate::inputs::objects;
use crate::inputs::walk::{self, Job};
use crate::names::{Setting, name};
use crate::options::Options;
use crate::storage::Bucket;
use crate::storage::location::{self, Location};

/// Largest key list read (`--keys-from`): about 40 million keys of 100 bytes.
const MAX_KEY_LIST: u64 = 4 << 30;

/// The jobs of a run and the buckets it reads and writes.
pub struct Prepared {
    /// The jobs of this run's shard, the `--exclude` patterns applied.
    pub jobs: Vec<Job>,
    /// The input and output buckets, connected (none for a local side).
    pub storage: Storage,
    /// The inputs as the log names them.
    pub names: Vec<String>,
}

/// Lists (or reads from `keys_from`) the jobs of `inputs` under `options`, connecting to the
/// buckets involved.
pub fn prepare(
    inputs: &[Location],
    keys_from: Option<&OsStr>,
    options: &Options,
) -> Result<Prepared, SetupError> {
    options.validate()?;
    let keys = match keys_from {
        Some(place) => Some(read_keys(place)?),
        None => None,
    };
    prepare_keys(inputs, keys, options)
}

/// [`prepare`] with the keys given (relative to the one input; key-list lines that could not
/// be used as failing jobs) instead of read from a key list: the keys of an event.
pub fn prepare_keys(
    inputs: &[Location],
    keys: Option<(Vec<keylist::KeyEntry>, Vec<Job>)>,
    options: &Options,
) -> Result<Prepared, SetupError> {
    options.validate()?;
    let connect = |url| Bucket::connect(url).map_err(|e| SetupError::Storage(e.to_string()));
    let input_bucket = match inputs.iter().find_map(|i| match i {
        Location::Object(url) => Some(url),
        Location::Local(_) => None,
    }) {
        Some(url) => {
            if inputs.len() > 1 {
                return Err(SetupError::Usage(
                    "a bucket input must be the only INPUT".into(),
                ));
            }
            Some(connect(url)?)
        }
        None => None,
    };
    let output_bucket = match &options.output_url {
        Some(url) => Some(connect(url)?),
        None => None,
    };
    let simple = keys.is_none() && input_bucket.is_none() && output_bucket.is_none();
    let jobs = if simple {
        let paths: Vec<PathBuf> = inputs
            .iter()
            .filter_map(|i| match i {
                Location::Local(p) => Some(p.clone()),
                Location::Object(_) => None,
            })
            .collect();
        let mut jobs = walk::scan(&paths, options)?;
        objects::keep_shard(&mut jobs, options);
        jobs
    } else {
        let (entries, bad) = match keys {
            Some((entries, bad)) => (Some(entries), bad),
            None => (None, Vec::new()),
        };
        let mut jobs = objects::jobs(inputs, entries, input_bucket.as_ref(), options)?;
        jobs.extend(
            bad.into_iter()
                .filter(|j| options.shard.contains(j.key.as_bytes())),
        );
        jobs.sort_by(|a, b| a.key.cmp(&b.key).then_with(|| a.input.cmp(&b.input)));
        jobs
    };
    let jobs = exclude(jobs, &options.exclude)?;
    Ok(Prepared {
        jobs,
        storage: Storage {
            input: input_bucket,
            output: output_bucket,
        },
        names: inputs.iter().map(Location::to_string).collect(),
    })
}

/// The jobs whose key or file name matches none of the `--exclude` patterns.
fn exclude(jobs: Vec<Job>, patterns: &[String]) -> Result<Vec<Job>, SetupError> {
    if patterns.is_empty() {
        return Ok(jobs);
    }
    let mut set = globset::GlobSetBuilder::new();
    for pattern in patterns {
        let glob = globset::Glob::new(pattern).map_err(|e| {
            SetupError::Usage(format!("{} {pattern:?}: {e}", name(Setting::Exclude)))
        })?;
        set.add(glob);
    }
    let set = set
        .build()
        .map_err(|e| SetupError::Usage(format!("{}: {e}", name(Setting::Exclude))))?;
    let before = jobs.len();
    let kept: Vec<Job> = jobs
        .into_iter()
        .filter(|job| {
            let name = job.key.rsplit('/').next().unwrap_or(&job.key);
            let excluded = set.is_match(&job.key) || set.is_match(name);
            if excluded {
                tracing::debug!(target: "ProcessImages", "Excluding {} (--exclude)", job.input.display());
            }
            !excluded
        })
        .collect();
    if kept.len() < before {
        tracing::info!(target: "ProcessImages", "Excluded {} files (--exclude)", before - kept.len());
    }
    Ok(kept)
}

/// A key list's entries, and a failing job for each bad line (it fails alone).
fn read_keys(place: &OsStr) -> Result<(Vec<keylist::KeyEntry>, Vec<Job>), SetupError> {
    let bytes = location::read_small(place, MAX_KEY_LIST)
        .map_err(|e| SetupError::Usage(format!("{}: {e}", name(Setting::KeysFrom))))?;
    let (entries, bad) = keylist::parse(&String::from_utf8_lossy(&bytes));
    let failing = bad
        .into_iter()
        .map(|b| {
            error!(target: "ProcessImages", "{} line {}: {:?}: {}", name(Setting::KeysFrom), b.line, b.text, b.reason);
            let problem = format!("line {} of the key list: {}", b.line, b.reason);
            Job::file(PathBuf::from(&b.text), PathBuf::new(), b.text, Some(problem))
        })
        .collect();
    Ok((entries, failing))
}

//! The plan step of an array job: list the input once and write one key list per shard
//! (`shard-<K>.keys`, see `keylist`), plus `plan.json`, so that N tasks each read their own
//! list (`--keys-from`) instead of each listing ten million keys.
use std::path::Path;

use serde::Serialize;
use tracing::warn;

use crate::error::SetupError;
use crate::inputs::keylist::{self, KeyEntry};
use crate::inputs::walk::is_jpeg_name;
use crate::options::Options;
use crate::photo::output::{self, WriteOptions};
use crate::shard;
use crate::storage::Bucket;
use crate::storage::location::Location;

/// What a plan wrote.
#[derive(Debug, Serialize)]
pub struct PlanSummary {
    /// The input listed, a folder or `s3://bucket/prefix`.
    pub input: String,
    /// Whether sub-folders or sub-prefixes were listed too (`--recursive`).
    pub recursive: bool,
    /// How many key lists were written (`--shard-count`).
    pub shard_count: u64,
    /// JPEG keys written, over all lists.
    pub keys: usize,
    /// Keys in each shard's list, by shard index.
    pub per_shard: Vec<usize>,
    /// Keys that were listed but cannot be read (left out of the lists), with why.
    pub invalid: Vec<(String, String)>,
}

/// Largest key list read back.
const MAX_KEY_LIST: u64 = 4 << 30;

/// The name of shard `index`'s key list.
pub fn keys_name(index: u64) -> String {
    format!("shard-{index}.keys")
}

/// Lists `input` (a folder or a bucket prefix; sub-folders with `opts.recursive`) and writes
/// the key lists of `count` shards to `to` (a folder, created if missing, or a prefix).
pub fn plan(
    input: &Location,
    count: u64,
    to: &Location,
    opts: &Options,
) -> Result<PlanSummary, SetupError> {
    if count == 0 {
        return Err(SetupError::Usage("--shard-count must be at least 1".into()));
    }
    let (entries, invalid) = list(input, opts)?;
    let lists = shard::split_keys(entries, count);
    let summary = PlanSummary {
        input: input.to_string(),
        recursive: opts.recursive,
        shard_count: count,
        keys: lists.iter().map(Vec::len).sum(),
        per_shard: lists.iter().map(Vec::len).collect(),
        invalid,
    };
    let mut files: Vec<(String, Vec<u8>)> = lists
        .iter()
        .enumerate()
        .map(|(k, list)| (keys_name(k as u64), keylist::write(list).into_bytes()))
        .collect();
    let json = serde_json::to_string_pretty(&summary).unwrap_or_default();
    files.push(("plan.json".into(), json.into_bytes()));
    write_files(to, files)?;
    Ok(summary)
}

/// Listed keys, and keys that cannot be read with why.
type Listed = (Vec<KeyEntry>, Vec<(String, String)>);

fn list(input: &Location, opts: &Options) -> Result<Listed, SetupError> {
    match input {
        Location::Local(path) => {
            let jobs = crate::inputs::walk::list(std::slice::from_ref(path), opts)?;
            let mut invalid = Vec::new();
            let mut entries = Vec::new();
            for job in jobs {
                match (&job.problem, crate::storage::validate_key_rel(&job.key)) {
                    (None, Ok(())) => entries.push(KeyEntry {
                        size: std::fs::metadata(&job.input).ok().map(|m| m.len()),
                        key: job.key,
                        etag: None,
                    }),
                    (Some(problem), _) => invalid.push((job.key, problem.clone())),
                    (None, Err(why)) => invalid.push((job.key, why.to_string())),
                }
            }
            Ok((entries, invalid))
        }
        Location::Object(url) => {
            let bucket = Bucket::connect(url).map_err(|e| SetupError::Storage(e.to_string()))?;
            let listing = bucket
                .list("", opts.recursive)
                .map_err(|e| SetupError::Storage(e.to_string()))?;
            let entries = listing
                .objects
                .into_iter()
                .filter(|o| is_jpeg_name(Path::new(&o.key_rel)))
                .map(|o| KeyEntry {
                    key: o.key_rel,
                    size: Some(o.size),
                    etag: o.etag,
                })
                .collect();
            let invalid = listing
                .invalid
                .into_iter()
                .map(|bad| (bad.key, bad.reason))
                .collect();
            Ok((entries, invalid))
        }
    }
}

fn write_files(to: &Location, files: Vec<(String, Vec<u8>)>) -> Result<(), SetupError> {
    match to {
        Location::Local(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| SetupError::OutputNotWritable {
                path: dir.clone(),
                message: e.to_string(),
            })?;
            for (name, bytes) in files {
                let opts = WriteOptions {
                    mode: Some(0o644),
                    fsync: true,
                    ..WriteOptions::default()
                };
                output::write_atomic(&dir.join(&name), &bytes, opts)
                    .map_err(|e| SetupError::Storage(e.to_string()))?;
            }
        }
        Location::Object(url) => {
            let bucket = Bucket::connect(url).map_err(|e| SetupError::Storage(e.to_string()))?;
            for (name, bytes) in files {
                bucket
                    .put(&name, bytes.into())
                    .map_err(|e| SetupError::Storage(e.to_string()))?;
            }
        }
    }
    Ok(())
}

/// Reads the keys of every shard's list of a plan (for `photopress report --plan`).
pub fn read_keys(plan: &Location, count: u64) -> Result<Vec<String>, String> {
    // One connection for every list of a bucket plan (not one per shard).
    let bucket = match plan {
        Location::Object(url) => Some(Bucket::connect(url).map_err(|e| e.to_string())?),
        Location::Local(_) => None,
    };
    let mut keys = Vec::new();
    for k in 0..count {
        let name = keys_name(k);
        let place = plan.join(&name).map_err(|e| e.to_string())?;
        let text = match &bucket {
            Some(bucket) => bucket
                .get(&name, MAX_KEY_LIST)
                .map(|f| f.bytes.to_vec())
                .map_err(|e| e.to_string())?,
            None => crate::storage::location::read_small(
                std::ffi::OsStr::new(&place.to_string()),
                MAX_KEY_LIST,
            )?,
        };
        let (entries, bad) = keylist::parse(&String::from_utf8_lossy(&text));
        for b in bad {
            warn!(target: "ProcessImages", "{place} line {}: {}", b.line, b.reason);
        }
        keys.extend(entries.into_iter().map(|e| e.key));
    }
    Ok(keys)
}

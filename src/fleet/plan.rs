//! The plan step of an array job: list the input once and write one key list per shard
//! (`shard-<K>.keys`, see `keylist`), plus `plan.json`, so that N tasks each read their own
//! list (`--keys-from`) instead of each listing ten million keys.
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;
use tracing::warn;

use crate::error::SetupError;
use crate::inputs::keylist::{self, KeyEntry};
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

/// The key lists' lines held in memory, all shards together, before they are appended to
/// their files: the plan's memory, whatever the number of keys.
const BUFFER_BYTES: usize = 16 << 20;

/// The name of shard `index`'s key list.
pub fn keys_name(index: u64) -> String {
    format!("shard-{index}.keys")
}

/// Lists `input` (a folder or a bucket prefix; sub-folders with `opts.recursive`) and writes
/// the key lists of `count` shards to `to` (a folder, created if missing, or a prefix).
///
/// Keys go to their shard's list as the listing finds them, in the listing's order (a folder
/// walk's: each folder's names sorted; a bucket's: by key): each list's lines wait in memory
/// until all lists together hold [`BUFFER_BYTES`], then every list is appended to its file
/// in a temporary folder (opened, written, closed: no file stays open, so no shard count
/// meets the open-file limit); once the listing is done, each file is moved into place
/// (local) or uploaded (bucket). A bucket's listing itself is still held whole by
/// `Bucket::list` (its rules for folder markers and doubled keys need all of it).
pub fn plan(
    input: &Location,
    count: u64,
    to: &Location,
    opts: &Options,
) -> Result<PlanSummary, SetupError> {
    plan_buffered(input, count, to, opts, BUFFER_BYTES)
}

/// [`plan`], the lists appended to their files whenever they hold `buffer_bytes`.
fn plan_buffered(
    input: &Location,
    count: u64,
    to: &Location,
    opts: &Options,
    buffer_bytes: usize,
) -> Result<PlanSummary, SetupError> {
    if count == 0 {
        return Err(SetupError::Usage(format!(
            "{} must be at least 1",
            crate::names::name(crate::names::Setting::ShardCount)
        )));
    }
    let mut lists = ShardLists::new(count, to, buffer_bytes);
    let mut invalid = Vec::new();
    list_each(input, opts, &mut |listed| match listed {
        Listed::Key(entry) => lists.push(&entry),
        Listed::Invalid(key, why) => {
            invalid.push((key, why));
            Ok(())
        }
    })?;
    let per_shard = lists.finish()?;
    let summary = PlanSummary {
        input: input.to_string(),
        recursive: opts.recursive,
        shard_count: count,
        keys: per_shard.iter().sum(),
        per_shard,
        invalid,
    };
    let json = serde_json::to_string_pretty(&summary).unwrap_or_default();
    write_files(to, vec![("plan.json".into(), json.into_bytes())])?;
    Ok(summary)
}

/// What a listing hands over: a key for a list, or a key that cannot be read, with why.
enum Listed {
    Key(KeyEntry),
    Invalid(String, String),
}

/// Lists `input`, handing each key to `each` as it comes.
fn list_each(
    input: &Location,
    opts: &Options,
    each: &mut dyn FnMut(Listed) -> Result<(), SetupError>,
) -> Result<(), SetupError> {
    match input {
        Location::Local(path) => crate::inputs::walk::list_each(path, opts, &mut |job, size| {
            each(
                match (job.problem, crate::storage::validate_key_rel(&job.key)) {
                    (None, Ok(())) => Listed::Key(KeyEntry {
                        size,
                        key: job.key,
                        etag: None,
                    }),
                    (Some(problem), _) => Listed::Invalid(job.key, problem),
                    (None, Err(why)) => Listed::Invalid(job.key, why.to_string()),
                },
            )
        }),
        Location::Object(url) => {
            let bucket = Bucket::connect(url).map_err(|e| SetupError::Storage(e.to_string()))?;
            // The batch's rules: no hidden or system keys, nothing under the output.
            let filter = crate::inputs::objects::KeyFilter::new(url, opts);
            // Key by key as the sorted listing goes: nothing held per key.
            let rest = bucket.list_each("", opts.recursive, &mut |o| {
                if filter.leaves_out(&o.key_rel).is_some() {
                    return Ok(());
                }
                each(Listed::Key(KeyEntry {
                    key: o.key_rel,
                    size: Some(o.size),
                    etag: o.etag,
                }))
            })?;
            for bad in rest.invalid {
                if filter.leaves_out(&bad.key).is_none() {
                    each(Listed::Invalid(bad.key, bad.reason))?;
                }
            }
            Ok(())
        }
    }
}

/// The key lists being written (see [`plan`]).
struct ShardLists<'a> {
    to: &'a Location,
    /// Each shard's lines not yet in its file.
    buffers: Vec<String>,
    /// The bytes `buffers` hold together, and how many they may hold.
    buffered: usize,
    buffer_bytes: usize,
    /// Keys in each shard's list.
    keys: Vec<usize>,
    /// The temporary folder of the lists, once something is written (local: inside `to`, so
    /// that a list is renamed into place; bucket: the system's temporary folder).
    spill: Option<tempfile::TempDir>,
}

impl<'a> ShardLists<'a> {
    fn new(count: u64, to: &'a Location, buffer_bytes: usize) -> Self {
        let count = usize::try_from(count).unwrap_or(usize::MAX);
        ShardLists {
            to,
            buffers: (0..count).map(|_| String::new()).collect(),
            buffered: 0,
            buffer_bytes,
            keys: vec![0; count],
            spill: None,
        }
    }

    fn push(&mut self, entry: &KeyEntry) -> Result<(), SetupError> {
        let count = self.buffers.len() as u64;
        let shard = shard::shard_of(entry.key.as_bytes(), count) as usize;
        let (Some(buffer), Some(keys)) = (self.buffers.get_mut(shard), self.keys.get_mut(shard))
        else {
            return Ok(());
        };
        let before = buffer.len();
        keylist::push_line(buffer, entry);
        *keys += 1;
        self.buffered += buffer.len() - before;
        if self.buffered >= self.buffer_bytes {
            self.flush()?;
        }
        Ok(())
    }

    /// Appends every buffer to its file.
    fn flush(&mut self) -> Result<(), SetupError> {
        let dir = self.spill_dir()?;
        for (index, buffer) in self.buffers.iter_mut().enumerate() {
            if buffer.is_empty() {
                continue;
            }
            let path = dir.join(keys_name(index as u64));
            let written = open_list(&path).and_then(|mut file| file.write_all(buffer.as_bytes()));
            written.map_err(|e| SetupError::Storage(format!("{}: {e}", path.display())))?;
            buffer.clear();
        }
        self.buffered = 0;
        Ok(())
    }

    fn spill_dir(&mut self) -> Result<PathBuf, SetupError> {
        if let Some(dir) = &self.spill {
            return Ok(dir.path().to_path_buf());
        }
        let made = match self.to {
            Location::Local(to) => {
                create_dir(to)?;
                tempfile::Builder::new()
                    .prefix(".photopress-plan-")
                    .tempdir_in(to)
            }
            Location::Object(_) => tempfile::Builder::new()
                .prefix("photopress-plan-")
                .tempdir(),
        };
        let dir = made.map_err(|e| SetupError::Storage(format!("a temporary folder: {e}")))?;
        let path = dir.path().to_path_buf();
        self.spill = Some(dir);
        Ok(path)
    }

    /// Writes what is left and puts every list in its place; the keys in each list.
    fn finish(mut self) -> Result<Vec<usize>, SetupError> {
        let storage = |e: &dyn std::fmt::Display| SetupError::Storage(e.to_string());
        match self.to {
            Location::Local(to) => {
                let dir = self.spill_dir()?;
                // Each list: its last lines appended, synced (as a list written whole would
                // be), then renamed into place; an empty shard's list is created here. Several
                // lists at a time: the syncs wait on the disk, not on the processor.
                let place = |index: usize| {
                    let name = keys_name(index as u64);
                    let (from, dest) = (dir.join(&name), to.join(&name));
                    let last = self.buffers.get(index).map_or("", String::as_str);
                    open_list(&from)
                        .and_then(|mut f| {
                            f.write_all(last.as_bytes())?;
                            f.sync_all()
                        })
                        .and_then(|()| std::fs::rename(&from, &dest))
                        .map_err(|e| storage(&format!("{}: {e}", dest.display())))
                };
                in_parallel(self.buffers.len(), 8, place)?;
                std::fs::File::open(to)
                    .and_then(|d| d.sync_all())
                    .map_err(|e| storage(&format!("{}: {e}", to.display())))?;
            }
            Location::Object(url) => {
                let bucket = Bucket::connect(url).map_err(|e| storage(&e))?;
                let spilled = self.spill.as_ref().map(|d| d.path().to_path_buf());
                for (index, last) in self.buffers.iter_mut().enumerate() {
                    let name = keys_name(index as u64);
                    let mut bytes = match spilled.as_ref().map(|d| d.join(&name)) {
                        None => Vec::new(),
                        Some(path) => match std::fs::read(&path) {
                            Ok(bytes) => bytes,
                            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
                            Err(e) => return Err(storage(&format!("{}: {e}", path.display()))),
                        },
                    };
                    bytes.extend_from_slice(std::mem::take(last).as_bytes());
                    bucket.put(&name, bytes.into()).map_err(|e| storage(&e))?;
                }
            }
        }
        Ok(self.keys)
    }
}

/// Calls `each(0)` ... `each(count - 1)` on up to `threads` threads; the first error.
fn in_parallel(
    count: usize,
    threads: usize,
    each: impl Fn(usize) -> Result<(), SetupError> + Sync,
) -> Result<(), SetupError> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let work = || loop {
        let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if index >= count {
            return Ok(());
        }
        each(index)?;
    };
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.min(count).max(1))
            .map(|_| scope.spawn(work))
            .collect();
        let mut result = Ok(());
        for worker in workers {
            let done = worker
                .join()
                .unwrap_or_else(|_| Err(SetupError::Storage("a writer thread panicked".into())));
            result = result.and(done);
        }
        result
    })
}

/// Opens a list's file to append to it, created if missing (`rw-r--r--` less the umask, as
/// `plan.json`).
fn open_list(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o644);
    options.open(path)
}

fn create_dir(dir: &Path) -> Result<(), SetupError> {
    std::fs::create_dir_all(dir).map_err(|e| SetupError::OutputNotWritable {
        path: dir.to_path_buf(),
        message: e.to_string(),
    })
}

fn write_files(to: &Location, files: Vec<(String, Vec<u8>)>) -> Result<(), SetupError> {
    match to {
        Location::Local(dir) => {
            create_dir(dir)?;
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

/// Reads the keys of every shard's list of a plan, shard 0 first, and hands each to `each`
/// (for `photopress report --plan`); one list is held at a time. The first error (a read's,
/// or `each`'s) stops it.
/// The keys a plan listed but could not use, with why (plan.json's `invalid`); none for a
/// plan that has no plan.json.
pub fn left_out(plan: &Location) -> Result<Vec<(String, String)>, String> {
    let place = plan.join("plan.json").map_err(|e| e.to_string())?;
    let text = match crate::storage::location::read_small(
        std::ffi::OsStr::new(&place.to_string()),
        MAX_KEY_LIST,
    ) {
        Ok(text) => text,
        Err(_) => return Ok(Vec::new()),
    };
    #[derive(serde::Deserialize)]
    struct Invalid {
        #[serde(default)]
        invalid: Vec<(String, String)>,
    }
    serde_json::from_slice::<Invalid>(&text)
        .map(|p| p.invalid)
        .map_err(|e| format!("{place}: {e}"))
}

pub fn each_key(
    plan: &Location,
    count: u64,
    each: &mut dyn FnMut(&str) -> Result<(), String>,
) -> Result<(), String> {
    // One connection for every list of a bucket plan (not one per shard).
    let bucket = match plan {
        Location::Object(url) => Some(Bucket::connect(url).map_err(|e| e.to_string())?),
        Location::Local(_) => None,
    };
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
        for entry in entries {
            each(&entry.key)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;

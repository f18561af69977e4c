//! The manifest of a run, on disk or in a bucket: the parts a run writes (whole files or
//! objects, each only after the outputs it records exist), the parts an earlier run of the same
//! shard left (read back for resume), and the input versions that resume compares.
//!
//! The format and the resume rule are `manifest`'s; this module only moves bytes.
use std::fs;
use std::path::Path;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::warn;

use crate::fleet::manifest::{self, ManifestWriter, Record, ResumeIndex};
use crate::inputs::version;
use crate::inputs::walk::{Job, Source};
use crate::options::Options;
use crate::outcome::{Outcome, Status};
use crate::photo::output::{self, WriteOptions};
use crate::storage::Bucket;

/// Largest manifest part read back (a part holds at most a few hundred records).
const MAX_PART_BYTES: u64 = 64 << 20;

/// What [`Root::each_part`] hands each part to: its name and bytes; an error stops the reading.
pub type EachPart<'a> = dyn FnMut(&str, Vec<u8>) -> Result<(), String> + 'a;

/// Where a run's manifest lives: below the local output folder or the output bucket prefix.
pub enum Root<'a> {
    /// A local folder (the output folder, or the folder `photopress report` is given).
    Local(&'a Path),
    /// A bucket handle: names are relative to its prefix.
    Object(&'a Bucket),
}

impl Root<'_> {
    /// Writes one whole part (`name` relative to the root).
    pub(crate) fn write(&self, name: &str, bytes: Vec<u8>) -> Result<(), String> {
        match self {
            Root::Local(dir) => {
                let path = name.split('/').fold(dir.to_path_buf(), |p, s| p.join(s));
                if let Some(parent) = path.parent() {
                    fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
                }
                let opts = WriteOptions {
                    mode: Some(0o644),
                    fsync: true,
                    ..WriteOptions::default()
                };
                output::write_atomic(&path, &bytes, opts).map_err(|e| e.to_string())
            }
            Root::Object(bucket) => bucket
                .put(name, bytes.into())
                .map(drop)
                .map_err(|e| e.to_string()),
        }
    }

    /// One small file (`name` relative to the root), at most `max` bytes; `None` when there is
    /// none.
    pub(crate) fn read_small(&self, name: &str, max: u64) -> Result<Option<Vec<u8>>, String> {
        match self {
            Root::Local(dir) => {
                let path = name.split('/').fold(dir.to_path_buf(), |p, s| p.join(s));
                match fs::metadata(&path) {
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(format!("{}: {e}", path.display())),
                    Ok(meta) if meta.len() > max => {
                        Err(format!("{}: larger than {max} bytes", path.display()))
                    }
                    Ok(_) => fs::read(&path)
                        .map(Some)
                        .map_err(|e| format!("{}: {e}", path.display())),
                }
            }
            Root::Object(bucket) => match bucket.get(name, max) {
                Ok(fetched) => Ok(Some(fetched.bytes.to_vec())),
                Err(crate::storage::StorageError::NotFound { .. }) => Ok(None),
                Err(e) => Err(e.to_string()),
            },
        }
    }

    /// Every part below `dir` (relative to the root), with its name.
    pub fn read_parts(&self, dir: &str) -> Result<Vec<(String, Vec<u8>)>, String> {
        let mut parts = Vec::new();
        self.each_part(dir, &mut |name, bytes| {
            parts.push((name.to_string(), bytes));
            Ok(())
        })?;
        Ok(parts)
    }

    /// Every part below `dir` (relative to the root), read one at a time and handed to `each`
    /// with its name, in the order they were written (by [`manifest::part_order`], then by
    /// name, as [`manifest::parse_parts`] orders them): what is held is the parts' names and
    /// one part's bytes. The first error (a read's, or `each`'s) stops it.
    pub fn each_part(&self, dir: &str, each: &mut EachPart<'_>) -> Result<(), String> {
        let mut names = self.part_names(dir)?;
        names.sort_by(|(a, _), (b, _)| {
            (manifest::part_order(a), a).cmp(&(manifest::part_order(b), b))
        });
        for (name, source) in names {
            let bytes = match (self, source) {
                (Root::Object(bucket), PartSource::Key(key_rel)) => bucket
                    .get(&key_rel, MAX_PART_BYTES)
                    .map_err(|e| e.to_string())?
                    .bytes
                    .to_vec(),
                // A local root lists paths only.
                (Root::Local(_), PartSource::Key(key)) => return Err(format!("{key}: no bucket")),
                (_, PartSource::Path(path)) => {
                    fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?
                }
            };
            each(&name, bytes)?;
        }
        Ok(())
    }

    /// The names of the parts below `dir` (local paths, or object addresses), each with where
    /// to read it.
    fn part_names(&self, dir: &str) -> Result<Vec<(String, PartSource)>, String> {
        let mut names = Vec::new();
        match self {
            Root::Local(root) => {
                let base = dir.split('/').fold(root.to_path_buf(), |p, s| p.join(s));
                let mut stack = vec![base];
                while let Some(folder) = stack.pop() {
                    let Ok(entries) = fs::read_dir(&folder) else {
                        continue;
                    };
                    for entry in entries.flatten() {
                        let path = entry.path();
                        let name = entry.file_name().to_string_lossy().into_owned();
                        let Ok(meta) = fs::symlink_metadata(&path) else {
                            continue;
                        };
                        if meta.is_dir() {
                            stack.push(path);
                        } else if meta.is_file()
                            && manifest::is_part_name(&name)
                            && meta.len() <= MAX_PART_BYTES
                        {
                            let name = path.to_string_lossy().into_owned();
                            names.push((name, PartSource::Path(path)));
                        }
                    }
                }
            }
            Root::Object(bucket) => {
                let listing = bucket.list(dir, true).map_err(|e| e.to_string())?;
                for object in listing.objects {
                    let name = object.key_rel.rsplit('/').next().unwrap_or_default();
                    if manifest::is_part_name(name) {
                        let name = bucket.url().object_url(&object.key_rel);
                        names.push((name, PartSource::Key(object.key_rel)));
                    }
                }
            }
        }
        Ok(names)
    }
}

/// Where a part is read: a local file, or a key below the bucket handle's prefix.
enum PartSource {
    Path(std::path::PathBuf),
    Key(String),
}

/// A job's input version before it is read (a stat, or the listing's ETag, or a HEAD).
pub fn version_before(job: &Job, input_bucket: Option<&Bucket>) -> Option<String> {
    match &job.source {
        Source::File => fs::metadata(&job.input)
            .ok()
            .map(|m| version::file_version(&m)),
        Source::Object {
            etag: Some(etag), ..
        } => Some(version::object_version(Some(etag), 0)),
        Source::Object { .. } => {
            let info = input_bucket?.head(&job.key).ok()?;
            Some(version::object_version(info.etag.as_deref(), info.size))
        }
    }
}

/// The earlier records of this run's shard.
pub fn resume_index(root: &Root<'_>, opts: &Options) -> ResumeIndex {
    let dir = manifest::shard_dir(opts.shard.count, opts.shard.index);
    match root.read_parts(&dir) {
        Ok(parts) => {
            let (records, warnings) = manifest::parse_parts(parts);
            for w in warnings {
                warn!(target: "ProcessImages", "{w}");
            }
            ResumeIndex::new(records)
        }
        Err(err) => {
            warn!(target: "ProcessImages", "Cannot read the earlier manifest ({err}); everything is done again");
            ResumeIndex::default()
        }
    }
}

/// A run's manifest being written: records in, parts out as they fill.
pub struct Journal<'a> {
    root: Root<'a>,
    writer: Mutex<ManifestWriter>,
    /// Whether this run recorded anything.
    recorded: std::sync::atomic::AtomicBool,
    settings: String,
    shard: (u64, u64),
}

impl<'a> Journal<'a> {
    /// A manifest for the shard of `opts` below `root`, its records marked with the options'
    /// settings fingerprint; nothing is written until records come.
    pub fn new(root: Root<'a>, opts: &Options) -> Self {
        let run_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        Journal {
            root,
            writer: Mutex::new(ManifestWriter::new(
                opts.shard.index,
                opts.shard.count,
                run_ms,
                std::process::id(),
            )),
            settings: opts.fingerprint(),
            shard: (opts.shard.index, opts.shard.count),
            recorded: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Records one outcome (its output is already written); writes a part when enough are
    /// waiting. A part that cannot be written is a warning: the outputs are there, a rerun
    /// only redoes their work.
    pub fn record(&self, outcome: &Outcome) {
        let record = self.to_record(outcome);
        self.recorded
            .store(true, std::sync::atomic::Ordering::Relaxed);
        let part = {
            let mut writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
            writer.push(&record);
            writer.should_flush().then(|| writer.take_part()).flatten()
        };
        if let Some((name, bytes)) = part {
            self.write(&name, bytes);
        }
    }

    /// Writes what is still waiting; a run that recorded nothing (its shard had no keys, or
    /// an earlier run did them all) writes an empty part, which says the shard ran.
    pub fn finish(&self) {
        let mut writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let part = match writer.take_part() {
            Some(part) => Some(part),
            None if !self.recorded.load(std::sync::atomic::Ordering::Relaxed) => {
                Some(writer.take_empty_part())
            }
            None => None,
        };
        drop(writer);
        if let Some((name, bytes)) = part {
            self.write(&name, bytes);
        }
    }

    fn write(&self, name: &str, bytes: Vec<u8>) {
        if let Err(err) = self.root.write(name, bytes) {
            warn!(target: "ProcessImages", "Cannot write the manifest part {name}: {err}");
        }
    }

    fn to_record(&self, o: &Outcome) -> Record {
        let status = o.status.kind();
        Record {
            key: o.key.clone(),
            input: o.input.to_string_lossy().into_owned(),
            version: o.version.clone().unwrap_or_default(),
            output: o.output.to_string_lossy().into_owned(),
            input_bytes: o.input_bytes,
            output_bytes: o.output_bytes,
            status,
            method: o.method.map(|m| m.as_str().to_string()),
            settings: self.settings.clone(),
            started: o.started.into(),
            duration_ms: o.duration.as_secs_f64() * 1e3,
            error: match &o.status {
                Status::Failed(err) => Some(err.to_string()),
                _ => None,
            },
            shard: self.shard.0,
            shards: self.shard.1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parts of three shards and two runs, named so that the file system's order and the
    /// names' order are not the order written; a temporary file and a part too large are not
    /// parts.
    #[test]
    fn parts_come_one_at_a_time_in_the_order_written() {
        let tmp = tempfile::tempdir().unwrap();
        let names = [
            "_photopress/n3/shard-2/part-200-9-0.ndjson",
            "_photopress/n3/shard-0/part-100-7-10.ndjson",
            "_photopress/n3/shard-0/part-100-7-9.ndjson",
            "_photopress/n3/shard-1/part-100-8-0.ndjson",
            "_photopress/n3/shard-1/part-99-8-0.ndjson",
            "_photopress/n3/shard-0/part-100-7-0.ndjson",
        ];
        for (i, name) in names.iter().enumerate() {
            let path = tmp.path().join(name);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, format!("line {i}\n")).unwrap();
        }
        fs::write(
            tmp.path()
                .join("_photopress/n3/shard-0/.tmp-part-1-1-1.ndjson"),
            "x",
        )
        .unwrap();
        let root = Root::Local(tmp.path());
        let mut seen = Vec::new();
        root.each_part("_photopress/n3", &mut |name, bytes| {
            seen.push((name.to_string(), bytes));
            Ok(())
        })
        .unwrap();
        let file = |n: &String| n.rsplit('/').next().unwrap_or_default().to_string();
        let order: Vec<String> = seen.iter().map(|(n, _)| file(n)).collect();
        assert_eq!(
            order,
            [
                "part-99-8-0.ndjson",
                "part-100-7-0.ndjson",
                "part-100-7-9.ndjson",
                "part-100-7-10.ndjson",
                "part-100-8-0.ndjson",
                "part-200-9-0.ndjson",
            ]
        );
        // parse_parts puts the same parts, read all at once and given in another order, in
        // the same order (its warnings, one for each part's line, name them in turn).
        let mut all = root.read_parts("_photopress/n3").unwrap();
        all.reverse();
        let (_, warnings) = manifest::parse_parts(all);
        let named: Vec<String> = warnings
            .iter()
            .map(|w| file(&w.split(' ').next().unwrap_or_default().to_string()))
            .collect();
        assert_eq!(named, order);
        // An error of the callback stops the reading.
        let mut calls = 0;
        let stopped = root.each_part("", &mut |_, _| {
            calls += 1;
            Err("stop".into())
        });
        assert_eq!((stopped, calls), (Err("stop".to_string()), 1));
    }
}

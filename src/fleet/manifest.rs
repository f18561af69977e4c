//! The manifest: one NDJSON line per image a shard handled, for resume and the job's report.
//!
//! A shard's manifest is a set of parts, `<output root>/_photopress/n<N>/shard-<K>/part-<unix_ms>-<pid>-<seq>.ndjson`,
//! each written whole (object storage has no append; a local part is renamed into place) and
//! only after the outputs it records. [`ManifestWriter`] turns records into parts but does no
//! I/O, so local folders and buckets share it; readers get every part's bytes and call
//! [`parse_parts`]. A part is whole or absent, so a line that does not parse is a defect of
//! that line alone: it is skipped with a warning and its key is simply redone.
//!
//! Resume ([`ResumeIndex`]): a key is done when its latest record says compressed,
//! kept-original or skipped, for the same input version and the same settings.
use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::outcome::Kind;

/// A part is cut after this many records...
pub const FLUSH_RECORDS: usize = 256;
/// ...or when this long has passed since the last part, so a killed task loses little.
pub const FLUSH_INTERVAL: Duration = Duration::from_secs(30);

/// One manifest line. Field order is the line's order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The relative key (`sub/a.jpg`), what the shard rule hashes.
    pub key: String,
    /// The input's full location (a path or `s3://bucket/key`).
    pub input: String,
    /// What identifies the input's content: `etag:"…"` or `size:…,mtime_ns:…`.
    pub version: String,
    /// The output's full location.
    pub output: String,
    /// Size of the input in bytes (0 if it could not be read).
    pub input_bytes: u64,
    /// Size of the output in bytes (0 if none was written).
    pub output_bytes: u64,
    /// What happened to the image: `compressed`, `kept-original`, `skipped`, `failed` or
    /// `not-started`.
    pub status: Kind,
    /// `dct` or `pixel`; `None` when the image was not re-encoded. Kept as text so a reader
    /// does not reject lines from a build with another method.
    pub method: Option<String>,
    /// The fingerprint of every option that changes output bytes (opaque here).
    pub settings: String,
    /// When the work on this key began; written as RFC 3339 with milliseconds, in UTC.
    #[serde(with = "rfc3339_ms")]
    pub started: DateTime<Utc>,
    /// How long the work on this key took, in milliseconds (written as 0 when not finite).
    pub duration_ms: f64,
    /// The error's message when `status` is `failed`; `None` otherwise.
    pub error: Option<String>,
    /// The index of the shard that wrote the record.
    pub shard: u64,
    /// The shard count of the run that wrote it (1 for a `--manifest` run without
    /// `--shard-count`).
    pub shards: u64,
}

impl Record {
    /// The line, without its newline.
    pub fn to_line(&self) -> String {
        let mut record = std::borrow::Cow::Borrowed(self);
        // serde_json writes a non-finite float as `null`, which would make the line unreadable.
        if !self.duration_ms.is_finite() {
            record.to_mut().duration_ms = 0.0;
        }
        // Strings, integers and finite floats always serialize.
        serde_json::to_string(&*record).unwrap_or_default()
    }
}

mod rfc3339_ms {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(time: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&time.to_rfc3339_opts(SecondsFormat::Millis, true))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&text)
            .map(|time| time.with_timezone(&Utc))
            .map_err(|err| D::Error::custom(format!("started {text:?}: {err}")))
    }
}

/// `started` as the manifest writes it (RFC 3339, milliseconds, UTC).
pub fn format_started(time: &DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The folder of shard `index` of `count`, relative to the output root.
pub fn shard_dir(count: u64, index: u64) -> String {
    format!("_photopress/n{count}/shard-{index}")
}

/// The file name of a part: `unix_ms` and `pid` name the run that wrote it (its start, its
/// process), `seq` counts that run's parts from 0.
pub fn part_name(unix_ms: u64, pid: u32, seq: u64) -> String {
    format!("part-{unix_ms}-{pid}-{seq}.ndjson")
}

/// The order parts were written in, from a part's name (or a path ending in one): by run start,
/// then process, then sequence. `None` for a name that is not a part's.
pub fn part_order(name: &str) -> Option<(u64, u32, u64)> {
    let file = name.rsplit('/').next().unwrap_or(name);
    let middle = file.strip_prefix("part-")?.strip_suffix(".ndjson")?;
    let mut fields = middle.split('-');
    let order = (
        fields.next()?.parse().ok()?,
        fields.next()?.parse().ok()?,
        fields.next()?.parse().ok()?,
    );
    fields.next().is_none().then_some(order)
}

/// Whether a listed file is a part (and not, say, a temporary file of a local write).
pub fn is_part_name(name: &str) -> bool {
    part_order(name).is_some()
}

/// Collects a shard's records and cuts them into parts for the caller to write.
#[derive(Debug)]
pub struct ManifestWriter {
    dir: String,
    run_ms: u64,
    pid: u32,
    seq: u64,
    buffer: Vec<u8>,
    pending: usize,
    last_part: Instant,
}

impl ManifestWriter {
    /// A writer for `shard` of `shards`, for a run that started at `run_ms` (Unix milliseconds)
    /// in process `pid`.
    pub fn new(shard: u64, shards: u64, run_ms: u64, pid: u32) -> Self {
        ManifestWriter {
            dir: shard_dir(shards, shard),
            run_ms,
            pid,
            seq: 0,
            buffer: Vec::new(),
            pending: 0,
            last_part: Instant::now(),
        }
    }

    /// Adds a record. Call it only once the record's output is written.
    pub fn push(&mut self, record: &Record) {
        self.buffer.extend_from_slice(record.to_line().as_bytes());
        self.buffer.push(b'\n');
        self.pending += 1;
    }

    /// Records added since the last part.
    pub fn pending(&self) -> usize {
        self.pending
    }

    /// Whether it is time to cut a part: [`FLUSH_RECORDS`] records waiting, or some waiting
    /// for [`FLUSH_INTERVAL`] since the last part (or the start).
    pub fn should_flush(&self) -> bool {
        self.should_flush_at(Instant::now())
    }

    /// [`Self::should_flush`] at a given time.
    pub fn should_flush_at(&self, now: Instant) -> bool {
        self.pending >= FLUSH_RECORDS
            || (self.pending > 0 && now.duration_since(self.last_part) >= FLUSH_INTERVAL)
    }

    /// The waiting records as a part: its path relative to the output root
    /// (`_photopress/n<N>/shard-<K>/part-….ndjson`) and its bytes, to be written whole. `None`
    /// when no record waits.
    /// A part with no record: what a run whose shard had nothing to do writes, so that the
    /// job's report sees the shard did its part.
    pub fn take_empty_part(&mut self) -> (String, Vec<u8>) {
        let name = format!(
            "{}/{}",
            self.dir,
            part_name(self.run_ms, self.pid, self.seq)
        );
        self.seq += 1;
        self.last_part = Instant::now();
        (name, Vec::new())
    }

    pub fn take_part(&mut self) -> Option<(String, Vec<u8>)> {
        if self.pending == 0 {
            return None;
        }
        let name = format!(
            "{}/{}",
            self.dir,
            part_name(self.run_ms, self.pid, self.seq)
        );
        self.seq += 1;
        self.pending = 0;
        self.last_part = Instant::now();
        Some((name, std::mem::take(&mut self.buffer)))
    }
}

/// The records of one part, and a warning for each line that does not parse (naming the part
/// and the line, from 1). Blank lines are ignored.
pub fn parse_part(name: &str, bytes: &[u8]) -> (Vec<Record>, Vec<String>) {
    let mut records = Vec::new();
    let mut warnings = Vec::new();
    for (index, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Record>(line) {
            Ok(record) => records.push(record),
            Err(err) => warnings.push(format!(
                "{name} line {}: skipped, not a manifest record: {err}",
                index + 1
            )),
        }
    }
    (records, warnings)
}

/// The records of several parts (of one shard or many), in the order they were written: parts
/// sorted by [`part_order`] (names that are not parts' first, by name), lines in file order.
pub fn parse_parts(
    parts: impl IntoIterator<Item = (String, Vec<u8>)>,
) -> (Vec<Record>, Vec<String>) {
    let mut parts: Vec<(String, Vec<u8>)> = parts.into_iter().collect();
    parts.sort_by(|(a, _), (b, _)| (part_order(a), a).cmp(&(part_order(b), b)));
    let mut records = Vec::new();
    let mut warnings = Vec::new();
    for (name, bytes) in &parts {
        let (mut r, mut w) = parse_part(name, bytes);
        records.append(&mut r);
        warnings.append(&mut w);
    }
    (records, warnings)
}

/// Each key's latest record, to decide what a rerun skips.
#[derive(Debug, Default)]
pub struct ResumeIndex {
    latest: HashMap<String, Record>,
}

impl ResumeIndex {
    /// Indexes `records` given in the order they were written ([`parse_parts`]): the latest
    /// record of a key is the one with the latest `started`, and of those the last given.
    pub fn new(records: impl IntoIterator<Item = Record>) -> Self {
        let mut latest: HashMap<String, Record> = HashMap::new();
        for record in records {
            match latest.get_mut(&record.key) {
                Some(known) if record.started < known.started => {}
                Some(known) => *known = record,
                None => {
                    latest.insert(record.key.clone(), record);
                }
            }
        }
        ResumeIndex { latest }
    }

    /// The record that makes `key` done for this input `version` and these `settings`, if
    /// any: its latest record, when that says compressed, kept-original or skipped with the
    /// same version and settings. `None` means: process it.
    pub fn done(&self, key: &str, version: &str, settings: &str) -> Option<&Record> {
        self.latest
            .get(key)
            .filter(|r| r.status.is_done() && r.version == version && r.settings == settings)
    }

    /// The latest record of `key`, whatever its status.
    pub fn latest(&self, key: &str) -> Option<&Record> {
        self.latest.get(key)
    }

    /// Keys with a record.
    pub fn len(&self) -> usize {
        self.latest.len()
    }

    /// True when no key has a record.
    pub fn is_empty(&self) -> bool {
        self.latest.is_empty()
    }
}

#[cfg(test)]
mod tests;

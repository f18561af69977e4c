//! The whole job's report, from every shard's manifest records, in bounded memory.
//!
//! Records are fed one by one ([`JobMerge::add`]), in the order they were written (parts by
//! [`crate::fleet::manifest::part_order`], lines in file order). Each shard's latest record of
//! a key stands for that shard (as for resume); a key recorded by several shards counts once,
//! by its latest record, and is reported. Sizes count as in the batch report: keys with an
//! output (compressed, kept-original, skipped) add their input and output bytes, failed and
//! not-started ones add none.
//!
//! What is kept: no table of keys. Each record becomes one entry of an external sort (`crate::extsort`):
//! its key, then a fixed 59-byte state (its place among the records, its start, duration,
//! shard, status, method, sizes, and the index of its settings text in a table of the
//! distinct settings) and, for a failure only, its error message. Up to [`SORT_BUFFER_BYTES`]
//! of entries are held in memory; beyond that they are sorted and written to anonymous
//! temporary files, merged at the end. The merged entries come grouped by key, in key order:
//! each group is decided alone (the latest record of each shard, the key's latest record) and
//! forgotten, and the lists the report gives by key (failed keys, keys done twice, keys done
//! with other settings) come out sorted as the report wants them; each holds its first
//! items in memory and the rest in a temporary file (`List`). The keys done with other
//! settings than the most common ones take a second read of the merged entries, only when
//! the done keys have more than one setting. Plan keys (`--plan`) join the same sort; the
//! ones no record mentions are sorted back into plan order by a second, small sort. Memory
//! is the sort's buffer, one part's records, the table of settings and the lists' first
//! items, whatever the number of records.
use std::collections::{BTreeSet, HashMap};
use std::io;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::fleet::manifest::Record;
use crate::outcome::{Kind, Totals};

mod list;
mod render;
mod verify;

pub use list::List;
pub use render::{json, text, write_json};
pub use verify::{WrongOutput, verify_outputs};

/// Text lists longer than this are cut (the JSON document has them whole).
const TEXT_LIST_LIMIT: usize = 50;

/// Bytes of merge entries held in memory before they go to a temporary file, sorted.
pub const SORT_BUFFER_BYTES: usize = 64 << 20;

/// The same for the plan keys that no record mentions, sorted back into plan order.
const MISSING_BUFFER_BYTES: usize = 16 << 20;

/// Counts and byte totals of a job: a batch's [`Totals`], summed over
/// each key's latest record.
pub type JobTotals = Totals;

/// A key whose latest record is a failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedKey {
    /// The relative key.
    pub key: String,
    /// The shard whose record it is.
    pub shard: u64,
    /// The error message the record holds (empty when it holds none).
    pub error: String,
}

/// A key done (compressed, kept-original or skipped) by more than one shard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoneTwice {
    /// The relative key.
    pub key: String,
    /// The shards whose latest record of it is done, in ascending order.
    pub shards: Vec<u64>,
}

/// A key done with settings other than the job's most common ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OtherSettings {
    /// The relative key.
    pub key: String,
    /// The settings fingerprint of its latest record.
    pub settings: String,
}

/// What the job did, and what looks wrong with it. Lists are sorted by key (`missing`: in plan
/// order); each may be millions long, and holds its first items in memory ([`List`]).
#[derive(Debug)]
pub struct JobReport {
    /// The job's shard count, as given to [`JobMerge::finish`] (`photopress report` reads it
    /// from the folder's name, `n4`, else from the records).
    pub shard_count: u64,
    /// Manifest lines read (every record, superseded ones included).
    pub records: u64,
    /// The totals over each key's latest record.
    pub totals: JobTotals,
    /// From the earliest start to the latest end, in milliseconds.
    pub wall_ms: f64,
    /// The images' own durations added up (in key order), in milliseconds.
    pub summed_ms: f64,
    /// Keys whose latest record is a failure.
    pub failed: List<FailedKey>,
    /// Shards in `0..shard_count` with no record at all.
    pub shards_without_records: Vec<u64>,
    /// Keys done by more than one shard.
    pub done_twice: List<DoneTwice>,
    /// The most common settings among done keys (the first by text on a tie).
    pub settings: Option<String>,
    /// Done keys whose latest record has settings other than `settings`.
    pub other_settings: List<OtherSettings>,
    /// Plan keys that no record mentions; `None` without a plan.
    pub missing: Option<List<String>>,
    /// Under [`JobMerge::verifying`], each done key's output as its latest record says (where,
    /// and how many bytes), for [`verify_outputs`] to check; `None` otherwise.
    pub written: Option<List<verify::Written>>,
    /// What [`verify_outputs`] found: outputs missing, or not of their recorded size; `None`
    /// when the outputs were not checked.
    pub wrong_outputs: Option<List<WrongOutput>>,
}

/// Whether the job is complete: every key done once, with one setting, no shard without a
/// manifest, nothing failed, not started or missing from the plan.
pub fn complete(report: &JobReport) -> bool {
    report.failed.is_empty()
        && report.totals.not_started == 0
        && report.shards_without_records.is_empty()
        && report.done_twice.is_empty()
        && report.other_settings.is_empty()
        && report.missing.as_ref().is_none_or(List::is_empty)
        && report.wrong_outputs.as_ref().is_none_or(List::is_empty)
}

/// Merges the records of a job's shards (and its plan's keys) into a [`JobReport`].
pub struct JobMerge {
    records: u64,
    plan_keys: u64,
    max_shards: Option<u64>,
    /// Each distinct settings text, by its index in the entries.
    settings: Vec<String>,
    settings_index: HashMap<String, u32>,
    sorter: crate::extsort::Sorter,
    /// The scratch payload of the entry being added.
    payload: Vec<u8>,
    list_in_memory: usize,
    missing_buffer: usize,
    /// Shards that wrote a part, records or none.
    shards_with_parts: BTreeSet<u64>,
    /// Keys the plan listed but could not use, with why: failed keys of the job.
    left_out: Vec<(String, String)>,
    /// Keep each done record's output location, for [`verify_outputs`].
    verify: bool,
}

impl Default for JobMerge {
    fn default() -> Self {
        Self::new()
    }
}

/// An entry's payload starts with its kind: records sort before plan keys in a key's group.
const RECORD: u8 = 0;
const PLAN_KEY: u8 = 1;

impl JobMerge {
    /// A merge holding at most [`SORT_BUFFER_BYTES`] of entries in memory.
    pub fn new() -> Self {
        Self::with_buffers(SORT_BUFFER_BYTES, list::IN_MEMORY, MISSING_BUFFER_BYTES)
    }

    fn with_buffers(sort_bytes: usize, list_in_memory: usize, missing_bytes: usize) -> Self {
        JobMerge {
            records: 0,
            plan_keys: 0,
            max_shards: None,
            settings: Vec::new(),
            settings_index: HashMap::new(),
            sorter: crate::extsort::Sorter::new(sort_bytes),
            payload: Vec::with_capacity(128),
            list_in_memory: list_in_memory.max(TEXT_LIST_LIMIT),
            missing_buffer: missing_bytes,
            shards_with_parts: BTreeSet::new(),
            left_out: Vec::new(),
            verify: false,
        }
    }

    /// A merge that also keeps, for each key done, where its latest record says its output
    /// is and its size (`photopress report --verify`): the report's `written`, for
    /// [`verify_outputs`]. Costs the outputs' locations in the sort (on disk past its buffer).
    pub fn verifying(mut self) -> Self {
        self.verify = true;
        self
    }

    /// A key the plan listed but could not use (`why`): the job failed it.
    pub fn add_left_out(&mut self, key: String, why: String) {
        self.left_out.push((key, why));
    }

    /// Notes that shard `shard` wrote a part (an empty one says it had nothing to do).
    pub fn saw_shard(&mut self, shard: u64) {
        self.shards_with_parts.insert(shard);
    }

    /// Adds a record; give them in the order they were written. An error is a temporary
    /// file's.
    pub fn add(&mut self, record: &Record) -> io::Result<()> {
        let settings = match self.settings_index.get(&record.settings) {
            Some(&index) => index,
            None => {
                let index = u32::try_from(self.settings.len())
                    .map_err(|_| io::Error::other("more than 2^32 distinct settings"))?;
                self.settings.push(record.settings.clone());
                self.settings_index.insert(record.settings.clone(), index);
                index
            }
        };
        let state = State {
            order: self.records,
            secs: record.started.timestamp(),
            nanos: record.started.timestamp_subsec_nanos(),
            duration_ms: record.duration_ms,
            shard: record.shard,
            input_bytes: record.input_bytes,
            output_bytes: record.output_bytes,
            status: record.status,
            dct: record
                .method
                .as_deref()
                .and_then(crate::outcome::re_encoded_by_dct),
            settings,
        };
        self.records += 1;
        self.max_shards = Some(
            self.max_shards
                .map_or(record.shards, |m| m.max(record.shards)),
        );
        self.payload.clear();
        state.encode(&mut self.payload);
        // Only a failure's message is ever reported; a done record's output only checked.
        if record.status == Kind::Failed
            && let Some(error) = &record.error
        {
            self.payload.extend_from_slice(error.as_bytes());
        } else if self.verify && record.status.is_done() {
            self.payload.extend_from_slice(record.output.as_bytes());
        }
        self.sorter.push(record.key.as_bytes(), &self.payload)
    }

    /// Adds a key of the plan; give them in plan order.
    pub fn add_plan_key(&mut self, key: &str) -> io::Result<()> {
        let mut payload = [0u8; 9];
        payload[0] = PLAN_KEY;
        payload[1..].copy_from_slice(&self.plan_keys.to_be_bytes());
        self.plan_keys += 1;
        self.sorter.push(key.as_bytes(), &payload)
    }

    /// The largest shard count the records name (`None` before any record).
    pub fn max_shards(&self) -> Option<u64> {
        self.max_shards
    }

    /// The report of a job of `shard_count` shards; `plan` says whether there was a plan
    /// (whose keys were added with [`Self::add_plan_key`]).
    pub fn finish(self, shard_count: u64, plan: bool) -> io::Result<JobReport> {
        let sorted = self.sorter.finish()?;
        let mut pass = FirstPass {
            shard_count,
            totals: JobTotals::default(),
            span: None,
            summed_ms: 0.0,
            seen_shards: BTreeSet::new(),
            settings_count: vec![0; self.settings.len()],
            failed: List::new(self.list_in_memory),
            done_twice: List::new(self.list_in_memory),
            missing: crate::extsort::Sorter::new(self.missing_buffer),
            written: self.verify.then(|| List::new(self.list_in_memory)),
        };
        groups(&sorted, |group| pass.group(group))?;
        for (key, why) in &self.left_out {
            pass.totals = pass.totals.merge(Totals::count(Kind::Failed, None, 0, 0));
            pass.failed.push(FailedKey {
                key: key.clone(),
                shard: crate::shard::shard_of(key.as_bytes(), shard_count.max(1)),
                error: format!("left out by the plan: {why}"),
            })?;
        }
        // The most common settings, the first by text on a tie.
        let winner = (0..self.settings.len())
            .filter(|&i| pass.settings_count[i] > 0)
            .max_by(|&a, &b| {
                (pass.settings_count[a].cmp(&pass.settings_count[b]))
                    .then_with(|| self.settings[b].cmp(&self.settings[a]))
            });
        let mut other_settings = List::new(self.list_in_memory);
        if pass.settings_count.iter().filter(|&&n| n > 0).count() > 1 {
            groups(&sorted, |group| {
                let latest = &group.latest;
                if group.has_records
                    && latest.status.is_done()
                    && Some(latest.settings as usize) != winner
                {
                    other_settings.push(OtherSettings {
                        key: group.key_text(),
                        settings: self.settings[latest.settings as usize].clone(),
                    })?;
                }
                Ok(())
            })?;
        }
        drop(sorted);
        let missing = if plan {
            let mut missing = List::new(self.list_in_memory);
            pass.missing
                .finish()?
                .for_each(|_, key| missing.push(String::from_utf8_lossy(key).into_owned()))?;
            Some(missing.finish()?)
        } else {
            None
        };
        Ok(JobReport {
            shard_count,
            records: self.records,
            totals: pass.totals,
            wall_ms: pass.span.map_or(0.0, |(start, end)| end - start),
            summed_ms: pass.summed_ms,
            failed: pass.failed.finish()?,
            shards_without_records: (0..shard_count)
                .filter(|k| !pass.seen_shards.contains(k) && !self.shards_with_parts.contains(k))
                .collect(),
            done_twice: pass.done_twice.finish()?,
            settings: winner.map(|i| self.settings[i].clone()),
            other_settings: other_settings.finish()?,
            missing,
            written: pass.written.map(List::finish).transpose()?,
            wrong_outputs: None,
        })
    }
}

/// What the merge keeps of a record (besides its key, and a failure's message).
#[derive(Debug, Clone, Copy)]
struct State {
    /// Its place among the records given, from 0.
    order: u64,
    /// Its start: seconds and nanoseconds of the Unix time.
    secs: i64,
    nanos: u32,
    duration_ms: f64,
    shard: u64,
    input_bytes: u64,
    output_bytes: u64,
    status: Kind,
    /// `Some(true)` for the `dct` method, `Some(false)` for another, `None` for none.
    dct: Option<bool>,
    /// Its settings' index in the table of settings.
    settings: u32,
}

/// The encoded size of a [`State`], after the payload's kind byte.
const STATE_BYTES: usize = 58;

const KINDS: [Kind; 5] = [
    Kind::Compressed,
    Kind::KeptOriginal,
    Kind::Skipped,
    Kind::Failed,
    Kind::NotStarted,
];

impl State {
    /// The payload: the kind byte, then the order big-endian (so that a key's records sort in
    /// the order given), then the rest.
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(RECORD);
        out.extend_from_slice(&self.order.to_be_bytes());
        out.extend_from_slice(&self.secs.to_le_bytes());
        out.extend_from_slice(&self.nanos.to_le_bytes());
        out.extend_from_slice(&self.duration_ms.to_le_bytes());
        out.extend_from_slice(&self.shard.to_le_bytes());
        out.extend_from_slice(&self.input_bytes.to_le_bytes());
        out.extend_from_slice(&self.output_bytes.to_le_bytes());
        out.push(KINDS.iter().position(|&k| k == self.status).unwrap_or(0) as u8);
        out.push(match self.dct {
            None => 0,
            Some(true) => 1,
            Some(false) => 2,
        });
        out.extend_from_slice(&self.settings.to_le_bytes());
    }

    /// A record's state and the rest of its payload (a failure's message), from a payload
    /// [`Self::encode`] wrote (without its kind byte).
    fn decode(bytes: &[u8]) -> Option<(State, &[u8])> {
        let (fixed, rest) = bytes.split_at_checked(STATE_BYTES)?;
        let u64_at = |at: usize| Some(u64::from_le_bytes(fixed.get(at..at + 8)?.try_into().ok()?));
        let state = State {
            order: u64::from_be_bytes(fixed.get(0..8)?.try_into().ok()?),
            secs: i64::from_le_bytes(fixed.get(8..16)?.try_into().ok()?),
            nanos: u32::from_le_bytes(fixed.get(16..20)?.try_into().ok()?),
            duration_ms: f64::from_bits(u64_at(20)?),
            shard: u64_at(28)?,
            input_bytes: u64_at(36)?,
            output_bytes: u64_at(44)?,
            status: *KINDS.get(usize::from(*fixed.get(52)?))?,
            dct: match fixed.get(53)? {
                0 => None,
                1 => Some(true),
                _ => Some(false),
            },
            settings: u32::from_le_bytes(fixed.get(54..58)?.try_into().ok()?),
        };
        Some((state, rest))
    }

    /// The order of "latest": the later start, then the later given.
    fn later_than(&self, other: &State) -> bool {
        (self.secs, self.nanos, self.order) > (other.secs, other.nanos, other.order)
    }

    fn started(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.secs, self.nanos).unwrap_or_default()
    }
}

/// One key's entries, merged.
struct Group {
    key: Vec<u8>,
    has_records: bool,
    /// The key's latest record, and the rest of its payload: its error message when it is a
    /// failure, its output when it is done and the merge is verifying.
    latest: State,
    rest: Vec<u8>,
    /// Each shard's latest record of the key, in the order the shards first appear.
    shards: Vec<State>,
    /// The key's first place in the plan, if the plan has it.
    plan_order: Option<u64>,
}

impl Group {
    fn key_text(&self) -> String {
        String::from_utf8_lossy(&self.key).into_owned()
    }
}

/// Reads the sorted entries a group (one key) at a time.
fn groups(
    sorted: &crate::extsort::Sorted,
    mut each: impl FnMut(&Group) -> io::Result<()>,
) -> io::Result<()> {
    let mut group: Option<Group> = None;
    sorted.for_each(|key, payload| {
        if group.as_ref().is_some_and(|g| g.key != key)
            && let Some(done) = group.take()
        {
            each(&done)?;
        }
        let group = group.get_or_insert_with(|| Group {
            key: key.to_vec(),
            has_records: false,
            latest: State {
                order: 0,
                secs: 0,
                nanos: 0,
                duration_ms: 0.0,
                shard: 0,
                input_bytes: 0,
                output_bytes: 0,
                status: Kind::NotStarted,
                dct: None,
                settings: 0,
            },
            rest: Vec::new(),
            shards: Vec::new(),
            plan_order: None,
        });
        match payload.split_first() {
            Some((&RECORD, rest)) => {
                let Some((state, tail)) = State::decode(rest) else {
                    return Err(io::Error::other("a merge entry that does not decode"));
                };
                // Records come in the order given: a later one wins unless it started earlier.
                match group.shards.iter_mut().find(|s| s.shard == state.shard) {
                    Some(known) if (state.secs, state.nanos) < (known.secs, known.nanos) => {}
                    Some(known) => *known = state,
                    None => group.shards.push(state),
                }
                if !group.has_records || state.later_than(&group.latest) {
                    group.latest = state;
                    group.rest.clear();
                    group.rest.extend_from_slice(tail);
                }
                group.has_records = true;
            }
            Some((&PLAN_KEY, rest)) => {
                if group.plan_order.is_none() {
                    let order = rest.get(..8).and_then(|b| b.try_into().ok());
                    group.plan_order = order.map(u64::from_be_bytes);
                }
            }
            _ => return Err(io::Error::other("a merge entry of no known kind")),
        }
        Ok(())
    })?;
    match group {
        Some(last) => each(&last),
        None => Ok(()),
    }
}

/// What the first read of the merged entries gathers.
struct FirstPass {
    shard_count: u64,
    totals: JobTotals,
    span: Option<(f64, f64)>,
    summed_ms: f64,
    seen_shards: BTreeSet<u64>,
    settings_count: Vec<u64>,
    failed: List<FailedKey>,
    done_twice: List<DoneTwice>,
    /// Plan keys with no record: their plan order, then the key.
    missing: crate::extsort::Sorter,
    /// Done keys' outputs, when verifying.
    written: Option<List<verify::Written>>,
}

impl FirstPass {
    fn group(&mut self, group: &Group) -> io::Result<()> {
        if !group.has_records {
            if let Some(order) = group.plan_order {
                self.missing.push(&order.to_be_bytes(), &group.key)?;
            }
            return Ok(());
        }
        for s in &group.shards {
            if s.shard < self.shard_count {
                self.seen_shards.insert(s.shard);
            }
        }
        let latest = &group.latest;
        self.totals = self.totals.merge(Totals::count(
            latest.status,
            latest.dct,
            latest.input_bytes,
            latest.output_bytes,
        ));
        if let Some(written) = &mut self.written
            && latest.status.is_done()
        {
            written.push(verify::Written {
                key: group.key_text(),
                output: String::from_utf8_lossy(&group.rest).into_owned(),
                bytes: latest.output_bytes,
            })?;
        }
        let mut done_by: Vec<u64> = group
            .shards
            .iter()
            .filter(|s| s.status.is_done())
            .map(|s| s.shard)
            .collect();
        if done_by.len() > 1 {
            done_by.sort_unstable();
            self.done_twice.push(DoneTwice {
                key: group.key_text(),
                shards: done_by,
            })?;
        }
        match latest.status {
            Kind::Failed => self.failed.push(FailedKey {
                key: group.key_text(),
                shard: latest.shard,
                error: String::from_utf8_lossy(&group.rest).into_owned(),
            })?,
            status if status.is_done() => {
                if let Some(count) = self.settings_count.get_mut(latest.settings as usize) {
                    *count += 1;
                }
            }
            _ => {}
        }
        // A not-started key did no work: its time is not the job's.
        if latest.status != Kind::NotStarted {
            let start = latest.started().timestamp_micros() as f64 / 1e3;
            let end = start + latest.duration_ms;
            self.span = Some(
                self.span
                    .map_or((start, end), |(s, e)| (s.min(start), e.max(end))),
            );
            self.summed_ms += latest.duration_ms;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;

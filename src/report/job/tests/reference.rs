//! The job report as it was before the merge was bounded: every key's records in a table in
//! memory. The reference the bounded merge is compared with (`tests::same_as_the_reference`).
#![allow(dead_code)]
use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;

use serde::Serialize;

use crate::fleet::manifest::Record;
use crate::outcome::{Kind, Totals};
use crate::report::job::{DoneTwice, FailedKey, OtherSettings};

/// Text lists longer than this are cut (the JSON document has them whole).
const TEXT_LIST_LIMIT: usize = 50;

/// Counts and byte totals of a job: a batch's [`Totals`], summed over
/// each key's latest record.
pub type JobTotals = Totals;

/// The totals of one record (the batch's rule, [`Totals::count`]).
fn totals_of(record: &Record) -> JobTotals {
    let dct = record.method.as_deref().map(|method| method == "dct");
    Totals::count(record.status, dct, record.input_bytes, record.output_bytes)
}

/// What the job did, and what looks wrong with it. Lists are sorted by key (`missing`: in plan
/// order).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobSummary {
    /// The job's shard count, as given to [`summarize`] (`photopress report` reads it from the
    /// folder's name, `n4`, else from the records).
    pub shard_count: u64,
    /// Manifest lines read (every record, superseded ones included).
    pub records: u64,
    /// The totals over each key's latest record.
    pub totals: JobTotals,
    /// From the earliest start to the latest end, in milliseconds.
    pub wall_ms: f64,
    /// The images' own durations added up, in milliseconds.
    pub summed_ms: f64,
    /// Keys whose latest record is a failure.
    pub failed: Vec<FailedKey>,
    /// Shards in `0..shard_count` with no record at all.
    pub shards_without_records: Vec<u64>,
    /// Keys done by more than one shard.
    pub done_twice: Vec<DoneTwice>,
    /// The most common settings among done keys (the first by text on a tie).
    pub settings: Option<String>,
    /// Done keys whose latest record has settings other than `settings`.
    pub other_settings: Vec<OtherSettings>,
    /// Plan keys that no record mentions; `None` without a plan.
    pub missing: Option<Vec<String>>,
}

/// Whether the job is complete: every key done once, with one setting, no shard without a
/// manifest, nothing failed, not started or missing from the plan.
pub fn complete(summary: &JobSummary) -> bool {
    summary.failed.is_empty()
        && summary.totals.not_started == 0
        && summary.shards_without_records.is_empty()
        && summary.done_twice.is_empty()
        && summary.other_settings.is_empty()
        && summary.missing.as_ref().is_none_or(Vec::is_empty)
}

/// One shard's latest record of a key, with when it was given (ties on `started` go to the
/// later one).
struct Entry {
    order: u64,
    record: Record,
}

/// Gathers records of a job's shards.
pub struct Summarizer {
    shard_count: u64,
    given: u64,
    keys: HashMap<String, Vec<Entry>>,
}

impl Summarizer {
    /// A summarizer for a job of `shard_count` shards.
    pub fn new(shard_count: u64) -> Self {
        Summarizer {
            shard_count,
            given: 0,
            keys: HashMap::new(),
        }
    }

    /// Adds a record; give them in the order they were written.
    pub fn add(&mut self, record: Record) {
        let order = self.given;
        self.given += 1;
        let entries = self.keys.entry(record.key.clone()).or_default();
        match entries.iter_mut().find(|e| e.record.shard == record.shard) {
            Some(known) if record.started < known.record.started => {}
            Some(known) => *known = Entry { order, record },
            None => entries.push(Entry { order, record }),
        }
    }

    /// The summary; `plan` is every key the plan listed, if there was one.
    pub fn finish(self, plan: Option<&[String]>) -> JobSummary {
        let mut totals = JobTotals::default();
        let mut failed = Vec::new();
        let mut done_twice = Vec::new();
        let mut seen_shards = BTreeSet::new();
        let mut settings_count: HashMap<&str, u64> = HashMap::new();
        let mut span: Option<(f64, f64)> = None;
        let mut summed_ms = 0.0;
        let mut counted: Vec<&Record> = Vec::with_capacity(self.keys.len());
        for entries in self.keys.values() {
            seen_shards.extend(entries.iter().map(|e| e.record.shard));
            let Some(latest) = entries
                .iter()
                .max_by(|a, b| (a.record.started, a.order).cmp(&(b.record.started, b.order)))
            else {
                continue;
            };
            let record = &latest.record;
            counted.push(record);
            totals = totals.merge(totals_of(record));
            let mut done_by: Vec<u64> = entries
                .iter()
                .filter(|e| e.record.status.is_done())
                .map(|e| e.record.shard)
                .collect();
            if done_by.len() > 1 {
                done_by.sort_unstable();
                done_twice.push(DoneTwice {
                    key: record.key.clone(),
                    shards: done_by,
                });
            }
            match record.status {
                Kind::Failed => failed.push(FailedKey {
                    key: record.key.clone(),
                    shard: record.shard,
                    error: record.error.clone().unwrap_or_default(),
                }),
                status if status.is_done() => {
                    *settings_count.entry(record.settings.as_str()).or_default() += 1;
                }
                _ => {}
            }
            // A not-started key did no work: its time is not the job's.
            if record.status != Kind::NotStarted {
                let start = record.started.timestamp_micros() as f64 / 1e3;
                let end = start + record.duration_ms;
                span = Some(span.map_or((start, end), |(s, e)| (s.min(start), e.max(end))));
                summed_ms += record.duration_ms;
            }
        }
        let settings = settings_count
            .iter()
            .max_by(|(a, m), (b, n)| m.cmp(n).then_with(|| b.cmp(a)))
            .map(|(s, _)| s.to_string());
        let mut other_settings: Vec<OtherSettings> = counted
            .iter()
            .filter(|r| r.status.is_done() && Some(&r.settings) != settings.as_ref())
            .map(|r| OtherSettings {
                key: r.key.clone(),
                settings: r.settings.clone(),
            })
            .collect();
        other_settings.sort_by(|a, b| a.key.cmp(&b.key));
        failed.sort_by(|a, b| a.key.cmp(&b.key));
        done_twice.sort_by(|a, b| a.key.cmp(&b.key));
        let missing = plan.map(|keys| {
            let mut listed = HashSet::new();
            keys.iter()
                .filter(|k| !self.keys.contains_key(k.as_str()) && listed.insert(k.as_str()))
                .cloned()
                .collect()
        });
        JobSummary {
            shard_count: self.shard_count,
            records: self.given,
            totals,
            wall_ms: span.map_or(0.0, |(start, end)| end - start),
            summed_ms,
            failed,
            shards_without_records: (0..self.shard_count)
                .filter(|k| !seen_shards.contains(k))
                .collect(),
            done_twice,
            settings,
            other_settings,
            missing,
        }
    }
}

/// The summary of `records` (in the order written) of a job of `shard_count` shards.
pub fn summarize(
    records: impl IntoIterator<Item = Record>,
    shard_count: u64,
    plan: Option<&[String]>,
) -> JobSummary {
    let mut summarizer = Summarizer::new(shard_count);
    for record in records {
        summarizer.add(record);
    }
    summarizer.finish(plan)
}

/// The text report: the batch report's four lines, then the job's details and problems.
pub fn text(summary: &JobSummary) -> String {
    let t = &summary.totals;
    let mut out = String::new();
    out.push_str(&crate::report::seed_lines(t, summary.wall_ms));
    let _ = writeln!(out, "Summed image duration (ms) {:.1}", summary.summed_ms);
    if t.dct + t.pixel > 0 {
        let _ = writeln!(out, "Methods dct {}, pixel {}", t.dct, t.pixel);
    }
    let _ = write!(out, "Files {}: compressed {}", t.files, t.compressed);
    if t.kept_original > 0 {
        let _ = write!(out, ", kept original {}", t.kept_original);
    }
    if t.skipped > 0 {
        let _ = write!(out, ", skipped {}", t.skipped);
    }
    let _ = write!(out, ", failed {}", t.failed);
    if t.not_started > 0 {
        let _ = write!(out, ", not started {}", t.not_started);
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Shards {}, manifest lines {}",
        summary.shard_count, summary.records
    );
    list(
        &mut out,
        "Failed files",
        summary
            .failed
            .iter()
            .map(|f| format!("{}: {}", f.key, f.error)),
    );
    let shards = summary.shards_without_records.iter().map(u64::to_string);
    list(&mut out, "Shards without records", shards);
    let twice = summary.done_twice.iter().map(|d| {
        let shards: Vec<String> = d.shards.iter().map(u64::to_string).collect();
        format!("{} (shards {})", d.key, shards.join(", "))
    });
    list(&mut out, "Keys done by more than one shard", twice);
    if !summary.other_settings.is_empty() {
        let _ = writeln!(
            out,
            "Most common settings: {}",
            summary.settings.as_deref().unwrap_or_default()
        );
    }
    let other = summary
        .other_settings
        .iter()
        .map(|o| format!("{}: {}", o.key, o.settings));
    list(&mut out, "Keys done with other settings", other);
    if let Some(missing) = &summary.missing {
        list(
            &mut out,
            "Plan keys with no record",
            missing.iter().cloned(),
        );
    }
    out
}

/// Appends `title (count):` and the items, one per indented line, when there are any.
fn list(out: &mut String, title: &str, items: impl ExactSizeIterator<Item = String>) {
    let count = items.len();
    if count == 0 {
        return;
    }
    let _ = writeln!(out, "{title} ({count}):");
    for item in items.take(TEXT_LIST_LIMIT) {
        let _ = writeln!(out, "  {item}");
    }
    if count > TEXT_LIST_LIMIT {
        let _ = writeln!(
            out,
            "  ... and {} more ({} lists all)",
            count - TEXT_LIST_LIMIT,
            // The words of today's report (a256438): the setting's name.
            crate::names::name(crate::names::Setting::Json)
        );
    }
}

#[derive(Serialize)]
struct JsonSummary<'a> {
    #[serde(flatten)]
    summary: &'a JobSummary,
    rate: f64,
}

/// The JSON report: the [`JobSummary`]'s fields, and `rate`.
pub fn json(summary: &JobSummary) -> String {
    let document = JsonSummary {
        summary,
        rate: summary.totals.rate(),
    };
    // Serializing plain strings and numbers cannot fail.
    serde_json::to_string_pretty(&document).unwrap_or_default()
}

//! The job report in words and as JSON.
use std::fmt::Write as _;
use std::io::{self, Write};

use serde::Serialize;

use super::{
    DoneTwice, FailedKey, JobReport, JobTotals, List, OtherSettings, TEXT_LIST_LIMIT, WrongOutput,
};

/// The text report: the batch report's four lines, then the job's details and problems.
pub fn text(summary: &JobReport) -> String {
    let t = &summary.totals;
    let mut out = String::new();
    out.push_str(&crate::report::seed_lines(t, summary.wall_ms));
    let _ = writeln!(out, "Summed image duration (ms) {:.1}", summary.summed_ms);
    if t.dct + t.pixel > 0 {
        let _ = writeln!(out, "Methods dct {}, pixel {}", t.dct, t.pixel);
    }
    let _ = writeln!(
        out,
        "Files {}: {}",
        t.files,
        crate::report::status_counts(t)
    );
    let _ = writeln!(
        out,
        "Shards {}, manifest lines {}",
        summary.shard_count, summary.records
    );
    let failed = summary.failed.first().iter();
    list(
        &mut out,
        "Failed files",
        summary.failed.len(),
        failed.map(|f| format!("{}: {}", f.key, f.error)),
    );
    let without = &summary.shards_without_records;
    let shards = without.iter().map(u64::to_string);
    list(&mut out, "Shards without records", without.len(), shards);
    let twice = summary.done_twice.first().iter().map(|d| {
        let shards: Vec<String> = d.shards.iter().map(u64::to_string).collect();
        format!("{} (shards {})", d.key, shards.join(", "))
    });
    let title = "Keys done by more than one shard";
    list(&mut out, title, summary.done_twice.len(), twice);
    if !summary.other_settings.is_empty() {
        let _ = writeln!(
            out,
            "Most common settings: {}",
            summary.settings.as_deref().unwrap_or_default()
        );
    }
    let other = summary.other_settings.first().iter();
    list(
        &mut out,
        "Keys done with other settings",
        summary.other_settings.len(),
        other.map(|o| format!("{}: {}", o.key, o.settings)),
    );
    if let Some(missing) = &summary.missing {
        list(
            &mut out,
            "Plan keys with no record",
            missing.len(),
            missing.first().iter().cloned(),
        );
    }
    if let Some(wrong) = &summary.wrong_outputs {
        let _ = writeln!(
            out,
            "Outputs checked: {}, missing or not as recorded: {}",
            summary.totals.compressed + summary.totals.kept_original + summary.totals.skipped,
            wrong.len()
        );
        list(
            &mut out,
            "Outputs missing or not as recorded",
            wrong.len(),
            wrong.first().iter().map(WrongOutput::describe),
        );
    }
    out
}

/// Appends `title (count):` and the first items, one per indented line, when there are any.
fn list(out: &mut String, title: &str, count: usize, items: impl Iterator<Item = String>) {
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
            crate::names::name(crate::names::Setting::Json)
        );
    }
}

/// The JSON document: the report's fields in order, and `rate`.
#[derive(Serialize)]
struct JsonReport<'a> {
    shard_count: u64,
    records: u64,
    totals: &'a JobTotals,
    wall_ms: f64,
    summed_ms: f64,
    failed: &'a List<FailedKey>,
    shards_without_records: &'a [u64],
    done_twice: &'a List<DoneTwice>,
    settings: &'a Option<String>,
    other_settings: &'a List<OtherSettings>,
    missing: &'a Option<List<String>>,
    #[serde(skip_serializing_if = "not_checked")]
    wrong_outputs: &'a Option<List<WrongOutput>>,
    rate: f64,
}

/// The outputs were not checked (no `--verify`): no `wrong_outputs` field.
fn not_checked(wrong: &&Option<List<WrongOutput>>) -> bool {
    wrong.is_none()
}

/// Writes the JSON report (the [`JobReport`]'s fields, and `rate`; no newline at the end),
/// each list read back from its file as it goes.
pub fn write_json(report: &JobReport, out: impl Write) -> io::Result<()> {
    let document = JsonReport {
        shard_count: report.shard_count,
        records: report.records,
        totals: &report.totals,
        wall_ms: report.wall_ms,
        summed_ms: report.summed_ms,
        failed: &report.failed,
        shards_without_records: &report.shards_without_records,
        done_twice: &report.done_twice,
        settings: &report.settings,
        other_settings: &report.other_settings,
        missing: &report.missing,
        wrong_outputs: &report.wrong_outputs,
        rate: report.totals.rate(),
    };
    let mut out = io::BufWriter::with_capacity(64 << 10, out);
    serde_json::to_writer_pretty(&mut out, &document)?;
    out.flush()
}

/// The JSON report as a string (see [`write_json`]).
pub fn json(report: &JobReport) -> io::Result<String> {
    let mut out = Vec::new();
    write_json(report, &mut out)?;
    String::from_utf8(out).map_err(io::Error::other)
}

//! The report of a batch: the text summary and the JSON document.
//!
//! JSON paths are text: a path that is not valid UTF-8 has each invalid byte replaced by
//! U+FFFD (Rust's `to_string_lossy`).
pub mod job;

use std::fmt::Write as _;

use serde::Serialize;

use crate::human;
use crate::options::Method;
use crate::outcome::{BatchResult, Outcome, Status, Totals};

/// How many failed files the text report lists by name (all are in the log and the JSON).
pub const FAILURES_LISTED: usize = 20;

/// The files by status, as the reports' `Files` line gives them: `compressed N`, then
/// `kept original`, `skipped` (when any), `failed`, and `not started` (when any).
pub fn status_counts(t: &Totals) -> String {
    let mut out = format!("compressed {}", t.compressed);
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
    out
}

/// The four lines of the original exercise, as it wrote them (raw bytes, the rate with two
/// decimals, milliseconds): first in a batch's report and in a whole job's (`summary`).
pub fn seed_lines(t: &Totals, duration_ms: f64) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Total files size {}", t.input_bytes);
    let _ = writeln!(out, "Total compressed files size {}", t.output_bytes);
    let _ = writeln!(out, "Compression rate {:.2}", t.rate());
    let _ = writeln!(out, "Processing duration (ms) {duration_ms:.1}");
    out
}

/// The text report, one figure per line: the four lines of the original exercise first, as
/// they were (raw bytes, rate, milliseconds), then the same in human terms, the counts per
/// status, and the failed files with their causes, last, so that they do not scroll away.
pub fn text(result: &BatchResult) -> String {
    let t = &result.totals;
    let mut out = seed_lines(t, result.duration.as_secs_f64() * 1e3);
    if t.dct + t.pixel > 0 {
        let _ = writeln!(out, "Methods dct {}, pixel {}", t.dct, t.pixel);
    }
    let (saved, what) = if t.output_bytes <= t.input_bytes {
        (t.input_bytes - t.output_bytes, "saved")
    } else {
        (t.output_bytes - t.input_bytes, "more")
    };
    let _ = writeln!(
        out,
        "Size {}, {} {what}",
        human::sizes(t.input_bytes, t.output_bytes),
        human::size(saved)
    );
    let threads = match result.threads {
        1 => "1 thread".to_string(),
        n => format!("{n} threads"),
    };
    let _ = writeln!(
        out,
        "Duration {} on {threads}",
        human::duration(result.duration)
    );
    let _ = writeln!(out, "Files {}", status_counts(t));
    if t.not_started > 0 {
        let _ = writeln!(
            out,
            "Interrupted: {} images not started; run the same command again with {} to do only those",
            t.not_started,
            crate::names::name(crate::names::Setting::SkipExisting)
        );
    }
    let failures: Vec<_> = result
        .outcomes
        .iter()
        .filter_map(|o| match &o.status {
            Status::Failed(err) => Some((&o.input, err)),
            _ => None,
        })
        .collect();
    if !failures.is_empty() {
        let _ = writeln!(out, "Failed:");
        for (input, err) in failures.iter().take(FAILURES_LISTED) {
            let _ = writeln!(out, "  {}: {err}", input.display());
        }
        if failures.len() > FAILURES_LISTED {
            let _ = writeln!(
                out,
                "  and {} more (each has an ERROR line in the log; {} lists them all)",
                failures.len() - FAILURES_LISTED,
                crate::names::name(crate::names::Setting::Json)
            );
        }
    }
    out
}

#[derive(Serialize)]
struct JsonReport<'a> {
    files: Vec<JsonFile<'a>>,
    totals: JsonTotals,
}

#[derive(Serialize)]
struct JsonFile<'a> {
    input: String,
    output: Option<String>,
    input_bytes: u64,
    output_bytes: u64,
    status: &'a str,
    method: Option<&'a str>,
    /// The quality written (chosen per image under a target).
    quality: Option<u8>,
    /// The `--target-quality` score of the output against the input.
    #[serde(skip_serializing_if = "Option::is_none")]
    score: Option<f64>,
    /// Candidates encoded to choose the quality, under a target.
    #[serde(skip_serializing_if = "Option::is_none")]
    candidates: Option<u32>,
    /// The output's mode (progressive or baseline), when one was written this run.
    progressive: Option<bool>,
    /// Archives and restores: the output was proven to give back the input bit for bit.
    #[serde(skip_serializing_if = "Option::is_none")]
    verified: Option<bool>,
    error: Option<String>,
    /// The output's size as displayed, for resized files only.
    #[serde(skip_serializing_if = "Option::is_none")]
    width: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    height: Option<usize>,
}

#[derive(Serialize)]
struct JsonTotals {
    files: u64,
    compressed: u64,
    kept_original: u64,
    skipped: u64,
    failed: u64,
    not_started: u64,
    input_bytes: u64,
    output_bytes: u64,
    dct: u64,
    pixel: u64,
    rate: f64,
    duration_ms: f64,
    threads: usize,
}

/// The JSON report: `{"files":[...],"totals":{...}}`.
pub fn json(result: &BatchResult) -> String {
    let report = JsonReport {
        files: result.outcomes.iter().map(json_file).collect(),
        totals: json_totals(result),
    };
    // Serializing plain strings and numbers cannot fail.
    serde_json::to_string_pretty(&report).unwrap_or_default()
}

/// One file of the JSON report, as `--json-lines` prints it: one line, no newline.
pub fn json_line(outcome: &Outcome) -> String {
    serde_json::to_string(&json_file(outcome)).unwrap_or_default()
}

/// The last line of `--json-lines`: `{"totals":{...}}`, the JSON report's totals.
pub fn json_totals_line(result: &BatchResult) -> String {
    serde_json::json!({ "totals": json_totals(result) }).to_string()
}

fn json_file(o: &Outcome) -> JsonFile<'_> {
    let failed = matches!(o.status, Status::Failed(_) | Status::NotStarted);
    JsonFile {
        input: o.input.to_string_lossy().into_owned(),
        output: (!failed).then(|| o.output.to_string_lossy().into_owned()),
        input_bytes: o.input_bytes,
        output_bytes: o.output_bytes,
        status: o.status.as_str(),
        method: o.method.map(Method::as_str),
        quality: o.quality,
        // Rounded down: a score shown is never above the one measured.
        score: o.score.map(|s| (s * 1000.0).floor() / 1000.0),
        candidates: o.candidates,
        progressive: o.progressive,
        verified: o.verified,
        error: match &o.status {
            Status::Failed(err) => Some(err.to_string()),
            _ => None,
        },
        width: o.dimensions.map(|d| d.0),
        height: o.dimensions.map(|d| d.1),
    }
}

fn json_totals(result: &BatchResult) -> JsonTotals {
    let t = &result.totals;
    JsonTotals {
        files: t.files,
        compressed: t.compressed,
        kept_original: t.kept_original,
        skipped: t.skipped,
        failed: t.failed,
        not_started: t.not_started,
        input_bytes: t.input_bytes,
        output_bytes: t.output_bytes,
        dct: t.dct,
        pixel: t.pixel,
        rate: t.rate(),
        duration_ms: result.duration.as_secs_f64() * 1e3,
        threads: result.threads,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Outcome;
    use crate::outcome::Totals;
    use std::path::PathBuf;
    use std::time::Duration;

    fn result() -> BatchResult {
        let outcomes = vec![
            Outcome {
                key: "a.jpg".into(),
                version: None,
                started: std::time::SystemTime::UNIX_EPOCH,
                duration: Duration::ZERO,
                input: PathBuf::from("IMAGES/a.jpg"),
                output: PathBuf::from("OUT/compressed_a.jpg"),
                input_bytes: 3000,
                output_bytes: 1000,
                status: Status::Compressed,
                method: Some(Method::Dct),
                quality: None,
                score: None,
                candidates: None,
                dimensions: None,
                progressive: None,
                verified: None,
            },
            Outcome {
                started: std::time::SystemTime::UNIX_EPOCH,
                status: Status::Failed(crate::error::ImageError::Empty),
                ..Outcome::new(
                    PathBuf::from("IMAGES/b.jpg"),
                    PathBuf::from("OUT/compressed_b.jpg"),
                    "b.jpg".into(),
                )
            },
        ];
        let totals = outcomes
            .iter()
            .map(Totals::of)
            .fold(Totals::default(), Totals::merge);
        BatchResult {
            outcomes,
            totals,
            duration: Duration::from_micros(528_900),
            threads: 2,
        }
    }

    #[test]
    fn text_report_lines() {
        assert_eq!(
            text(&result()),
            "Total files size 3000\nTotal compressed files size 1000\nCompression rate 0.33\n\
             Processing duration (ms) 528.9\nMethods dct 1, pixel 0\n\
             Size 2.9 KiB -> 1000 B (-67 %), 2.0 KiB saved\nDuration 529 ms on 2 threads\n\
             Files compressed 1, failed 1\nFailed:\n  IMAGES/b.jpg: the file is empty\n"
        );
    }

    #[test]
    fn json_report_fields() {
        let value: serde_json::Value = serde_json::from_str(&json(&result())).expect("valid JSON");
        assert_eq!(value["totals"]["input_bytes"], 3000);
        assert_eq!(value["totals"]["failed"], 1);
        assert_eq!(value["files"][0]["status"], "compressed");
        assert_eq!(value["files"][0]["output"], "OUT/compressed_a.jpg");
        assert_eq!(value["files"][0]["method"], "dct");
        assert_eq!(value["totals"]["dct"], 1);
        assert_eq!(value["files"][1]["status"], "failed");
        assert_eq!(value["files"][1]["error"], "the file is empty");
        assert!(value["files"][1]["output"].is_null());
    }
}

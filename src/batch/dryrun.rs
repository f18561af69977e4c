//! `--dry-run`: what a run would do — each input with its size and its output, and whether
//! `--skip-existing` would leave it alone — without writing anything (no output folder, no
//! temporary file, no probe).
use std::fs;

use serde::Serialize;

use crate::human;
use crate::inputs::job::{Dest, Job, Source};
use crate::options::Options;
use crate::photo::provenance;

/// What a run would do with one input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Compress it (or copy it as it is, should re-encoding not make it smaller).
    Compress,
    /// Leave its up-to-date output alone (`--skip-existing`).
    Skip,
    /// Fail it without reading it: the scan found a problem (an output name taken by another
    /// input, an unreadable folder).
    Fail,
}

/// One input of a dry run.
#[derive(Debug, Serialize)]
pub struct Planned {
    /// The input, a local path or an object address.
    pub input: String,
    /// Where its output would be written.
    pub output: String,
    /// Its size now; 0 when it cannot be read (a real run would fail it).
    pub input_bytes: u64,
    /// What the run would do with it (`compress`, `skip` or `fail` in the JSON).
    pub action: Action,
    /// Why it would be redone (`--skip-existing` and an output that is not up to date), or
    /// why it would fail.
    pub reason: Option<String>,
}

/// A dry run's totals.
#[derive(Debug, Default, Serialize)]
pub struct DryTotals {
    /// Inputs listed.
    pub files: u64,
    /// Their sizes added up, in bytes.
    pub input_bytes: u64,
    /// Inputs that would be compressed.
    pub compress: u64,
    /// Inputs whose up-to-date output would be left alone.
    pub skip: u64,
    /// Inputs that would fail without being read.
    pub fail: u64,
    /// What the run would make of each input: `compress`, `archive` or `restore` (the words
    /// of the text; `compress` counts them whatever the operation).
    pub operation: &'static str,
}

/// What a run of `jobs` under `options` would do; reads only (sizes, and under
/// `skip_existing` the outputs' headers).
pub fn plan(jobs: &[Job], options: &Options) -> (Vec<Planned>, DryTotals) {
    let mut totals = DryTotals {
        operation: options.operation.as_str(),
        ..DryTotals::default()
    };
    let planned: Vec<Planned> = jobs
        .iter()
        .map(|job| {
            let input_bytes = match &job.source {
                Source::File => fs::metadata(&job.input).map_or(0, |m| m.len()),
                Source::Object { size, .. } => size.unwrap_or(0),
            };
            let (action, reason) = if let Some(problem) = &job.problem {
                (Action::Fail, Some(problem.clone()))
            } else if options.skip_existing && job.source == Source::File && job.dest == Dest::File
            {
                match crate::photo::compress::up_to_date(&job.input, &job.output, options) {
                    Ok(_) => (Action::Skip, None),
                    Err(provenance::Stale::Missing) => (Action::Compress, None),
                    Err(why) => (Action::Compress, Some(why.to_string())),
                }
            } else {
                (Action::Compress, None)
            };
            totals.files += 1;
            totals.input_bytes += input_bytes;
            match action {
                Action::Compress => totals.compress += 1,
                Action::Skip => totals.skip += 1,
                Action::Fail => totals.fail += 1,
            }
            Planned {
                input: job.input.display().to_string(),
                output: job.output.display().to_string(),
                input_bytes,
                action,
                reason,
            }
        })
        .collect();
    (planned, totals)
}

/// One line an input, then the totals.
pub fn text(planned: &[Planned], totals: &DryTotals) -> String {
    let mut text = String::new();
    for p in planned {
        let verb = match p.action {
            Action::Compress => totals.operation,
            Action::Skip => "skip (up to date)",
            Action::Fail => "fail",
        };
        text.push_str(&format!(
            "would {verb} {} ({}) -> {}",
            p.input,
            human::size(p.input_bytes),
            p.output
        ));
        if let Some(reason) = &p.reason {
            text.push_str(&format!(": {reason}"));
        }
        text.push('\n');
    }
    text.push_str(&format!(
        "Dry run: {} files, {} ({} bytes): {} to {}, {} to skip, {} to fail; nothing written\n",
        totals.files,
        human::size(totals.input_bytes),
        totals.input_bytes,
        totals.compress,
        totals.operation,
        totals.skip,
        totals.fail
    ));
    text
}

/// `{"files":[{"input","output","input_bytes","action","reason"}],"totals":{...}}`.
pub fn json(planned: &[Planned], totals: &DryTotals) -> String {
    serde_json::json!({ "files": planned, "totals": totals }).to_string()
}

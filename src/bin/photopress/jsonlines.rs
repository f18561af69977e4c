//! `--json-lines`: each outcome printed on stdout as one JSON line as soon as its image is
//! done (an [`Observer`] of the batch), then those the batch reports without working on them
//! (done by an earlier run of the shard, not started) and the totals' line.
use std::collections::HashMap;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Mutex;

use photopress::batch::Observer;
use photopress::outcome::{BatchResult, Outcome};
use photopress::report;

/// The sink: the outcomes printed so far, counted by input.
#[derive(Default)]
pub struct JsonLines {
    printed: Mutex<HashMap<PathBuf, usize>>,
}

impl Observer for JsonLines {
    fn image_done(&self, outcome: &Outcome) {
        // One line at once and flushed, for a tool following a long batch; the lock keeps
        // the count and the printing in the same order across workers.
        if let Ok(mut printed) = self.printed.lock() {
            let line = report::json_line(outcome) + "\n";
            let mut out = io::stdout().lock();
            if out
                .write_all(line.as_bytes())
                .and_then(|()| out.flush())
                .is_ok()
            {
                *printed.entry(outcome.input.clone()).or_default() += 1;
            }
        }
    }
}

impl JsonLines {
    /// The JSON lines of the outcomes of `result` not printed as they came, then the totals'
    /// line.
    pub fn rest(&self, result: &BatchResult) -> String {
        let mut printed = self
            .printed
            .lock()
            .map(|printed| printed.clone())
            .unwrap_or_default();
        let mut text = String::new();
        for outcome in &result.outcomes {
            match printed.get_mut(&outcome.input) {
                Some(count) if *count > 0 => *count -= 1,
                _ => {
                    text.push_str(&report::json_line(outcome));
                    text.push('\n');
                }
            }
        }
        text.push_str(&report::json_totals_line(result));
        text.push('\n');
        text
    }
}

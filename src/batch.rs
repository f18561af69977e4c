//! The batch: every job through the one per-image function, on a rayon pool or sequentially,
//! and the outcomes reduced into totals (no shared counters: each image returns its own
//! figures, and pairs of partial results are merged).
use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use rayon::prelude::*;
use tracing::info;

use crate::compress::{Context, Outcome, Status, compress_one};
use crate::error::SetupError;
use crate::options::Options;
use crate::output::{OutputDir, clean_stale_temps};
use crate::progress::Progress;
use crate::scan::Job;

/// Counts and byte totals of a batch. Sizes count the images that have an output (compressed,
/// kept-original, skipped): their inputs and their outputs, as on disk.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    pub files: u64,
    pub compressed: u64,
    pub kept_original: u64,
    pub skipped: u64,
    pub failed: u64,
    pub input_bytes: u64,
    pub output_bytes: u64,
}

impl Totals {
    /// The totals of one outcome.
    pub fn of(outcome: &Outcome) -> Self {
        let mut totals = Totals {
            files: 1,
            ..Totals::default()
        };
        match outcome.status {
            Status::Compressed => totals.compressed = 1,
            Status::KeptOriginal => totals.kept_original = 1,
            Status::Skipped => totals.skipped = 1,
            Status::Failed(_) => totals.failed = 1,
        }
        if !matches!(outcome.status, Status::Failed(_)) {
            totals.input_bytes = outcome.input_bytes;
            totals.output_bytes = outcome.output_bytes;
        }
        totals
    }

    /// The totals of two disjoint sets of outcomes.
    pub fn merge(self, other: Totals) -> Totals {
        Totals {
            files: self.files + other.files,
            compressed: self.compressed + other.compressed,
            kept_original: self.kept_original + other.kept_original,
            skipped: self.skipped + other.skipped,
            failed: self.failed + other.failed,
            input_bytes: self.input_bytes + other.input_bytes,
            output_bytes: self.output_bytes + other.output_bytes,
        }
    }

    /// Output bytes over input bytes (0 when nothing was compressed).
    pub fn rate(&self) -> f64 {
        if self.input_bytes == 0 {
            0.0
        } else {
            self.output_bytes as f64 / self.input_bytes as f64
        }
    }
}

/// What a batch did.
#[derive(Debug)]
pub struct BatchResult {
    /// One outcome per job, in job order.
    pub outcomes: Vec<Outcome>,
    pub totals: Totals,
    pub duration: Duration,
    /// Threads that did the work (1 for a sequential run).
    pub threads: usize,
}

/// A partial result: the totals and the outcomes of a run of consecutive jobs.
type Partial = (Totals, Vec<Outcome>);

fn merge((totals_a, mut outcomes_a): Partial, (totals_b, outcomes_b): Partial) -> Partial {
    outcomes_a.extend(outcomes_b);
    (totals_a.merge(totals_b), outcomes_a)
}

/// Compresses every job under `options` (the `ProcessImages` component of the logs).
pub fn run(
    jobs: &[Job],
    inputs: &[impl AsRef<Path>],
    options: &Options,
    progress: &Progress,
) -> Result<BatchResult, SetupError> {
    if !(1..=100).contains(&options.quality) {
        return Err(SetupError::InvalidQuality(options.quality));
    }
    let start = Instant::now();
    let threads = options.threads();
    let input_list: Vec<String> = inputs
        .iter()
        .map(|p| p.as_ref().display().to_string())
        .collect();
    info!(
        target: "ProcessImages",
        "Start processing {} images from {} on {}",
        jobs.len(),
        input_list.join(", "),
        if options.sequential { "the main thread (sequential)".to_string() } else { format!("{threads} threads") }
    );
    remove_leftovers(jobs, options);

    let output_dir = OutputDir::new(&options.output_dir);
    let ctx = Context::new(options, &output_dir);
    let one = |job: &Job| -> Partial {
        let outcome = compress_one(job, &ctx);
        progress.image_done(&outcome);
        (Totals::of(&outcome), vec![outcome])
    };
    let empty = || (Totals::default(), Vec::new());
    let (totals, outcomes) = if options.sequential {
        jobs.iter().map(one).fold(empty(), merge)
    } else {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("Thread-{}", i + 1))
            .build()
            .map_err(|err| SetupError::ThreadPool(err.to_string()))?;
        // One image per task: images are heavy (10 ms to 1 s each) and uneven, so any idle
        // worker can take the next one, rather than rayon's adaptive splitting handing a
        // thread a run of images as one piece that nobody can steal from.
        pool.install(|| {
            jobs.par_iter()
                .with_max_len(1)
                .map(one)
                .reduce(empty, merge)
        })
    };
    let duration = start.elapsed();
    info!(
        target: "ProcessImages",
        "End processing: {} compressed, {} kept original, {} skipped, {} failed in {:.1} ms",
        totals.compressed,
        totals.kept_original,
        totals.skipped,
        totals.failed,
        duration.as_secs_f64() * 1e3
    );
    Ok(BatchResult {
        outcomes,
        totals,
        duration,
        threads,
    })
}

/// Removes temporary files that killed runs left in the folders this batch writes to.
fn remove_leftovers(jobs: &[Job], options: &Options) {
    let mut dirs: BTreeSet<&Path> = BTreeSet::new();
    dirs.insert(&options.output_dir);
    for job in jobs {
        if let Some(parent) = job.output.parent() {
            dirs.insert(parent);
        }
    }
    let removed: usize = dirs.into_iter().map(clean_stale_temps).sum();
    if removed > 0 {
        info!(target: "ProcessImages", "Removed {removed} temporary files left by an interrupted run");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn outcome(status: Status, input_bytes: u64, output_bytes: u64) -> Outcome {
        Outcome {
            input: PathBuf::from("in.jpg"),
            output: PathBuf::from("out.jpg"),
            input_bytes,
            output_bytes,
            status,
        }
    }

    #[test]
    fn failed_images_count_but_add_no_bytes() {
        let failed = outcome(Status::Failed(crate::error::ImageError::Empty), 0, 0);
        let totals = Totals::of(&outcome(Status::Compressed, 100, 30))
            .merge(Totals::of(&outcome(Status::KeptOriginal, 50, 50)))
            .merge(Totals::of(&failed));
        assert_eq!(totals.files, 3);
        assert_eq!(
            (totals.compressed, totals.kept_original, totals.failed),
            (1, 1, 1)
        );
        assert_eq!((totals.input_bytes, totals.output_bytes), (150, 80));
        assert!((totals.rate() - 80.0 / 150.0).abs() < 1e-12);
        assert_eq!(Totals::default().rate(), 0.0);
    }
}

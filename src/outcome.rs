//! What a batch returns: one [`Outcome`] per image, its [`Status`] (whose [`Kind`] the
//! manifest records too), and the [`Totals`] rule that both the batch report and the job
//! report (summed from manifests) count with.
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::error::ImageError;
use crate::options::Method;

/// What happened to one image, without the error's detail: the word the JSON report and the
/// manifest write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Re-encoded and written (`compressed`).
    Compressed,
    /// The original bytes written as the output (`kept-original`).
    KeptOriginal,
    /// Left alone: its output was up to date, or an earlier run of the shard did it
    /// (`skipped`).
    Skipped,
    /// Nothing written (`failed`).
    Failed,
    /// Listed for the run but not begun (the run was interrupted).
    NotStarted,
}

impl Kind {
    /// The word written in the reports and the manifest.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Compressed => "compressed",
            Kind::KeptOriginal => "kept-original",
            Kind::Skipped => "skipped",
            Kind::Failed => "failed",
            Kind::NotStarted => "not-started",
        }
    }

    /// Whether the image has its output: compressed, kept-original or skipped.
    pub fn is_done(self) -> bool {
        matches!(self, Kind::Compressed | Kind::KeptOriginal | Kind::Skipped)
    }
}

/// What happened to one image.
#[derive(Debug)]
pub enum Status {
    /// Re-encoded and written.
    Compressed,
    /// Re-encoding did not make it smaller; the original bytes were written as the output.
    KeptOriginal,
    /// The output is up to date (`skip_existing`: not older than its input, made at this
    /// quality), or an earlier run of the shard did it (`manifest`: same input version and
    /// settings); left alone.
    Skipped,
    /// Nothing was written for it.
    Failed(ImageError),
    /// Not started: the batch was interrupted before its turn (nothing read or written).
    NotStarted,
}

impl Status {
    /// The status without the error's detail.
    pub fn kind(&self) -> Kind {
        match self {
            Status::Compressed => Kind::Compressed,
            Status::KeptOriginal => Kind::KeptOriginal,
            Status::Skipped => Kind::Skipped,
            Status::Failed(_) => Kind::Failed,
            Status::NotStarted => Kind::NotStarted,
        }
    }

    /// The status word used in the JSON report.
    pub fn as_str(&self) -> &'static str {
        self.kind().as_str()
    }
}

/// The outcome of one image.
#[derive(Debug)]
pub struct Outcome {
    /// The input as its job names it: a local path, an object address or `<stdin>`.
    pub input: PathBuf,
    /// Where its result goes: a local path, an object address or `<stdout>`.
    pub output: PathBuf,
    /// The job's relative key (shards, manifests).
    pub key: String,
    /// The input's version as read (`size:…,mtime_ns:…` or `etag:…`), when it was read.
    pub version: Option<String>,
    /// When the work on it began.
    pub started: SystemTime,
    /// How long the work on it took, reading and writing included.
    pub duration: Duration,
    /// Size of the input file (0 if it could not be read).
    pub input_bytes: u64,
    /// Size of the output file (0 if none was written).
    pub output_bytes: u64,
    /// What happened to it (the error, when it failed).
    pub status: Status,
    /// How it was re-encoded ([`Method::Dct`] or [`Method::Pixel`]); `None` when it was not
    /// (skipped, or failed before).
    pub method: Option<Method>,
    /// The quality of the re-encoded file written (chosen per image under a target); `None`
    /// when none was written.
    pub quality: Option<u8>,
    /// Its `--target-quality` score against the input.
    pub score: Option<f64>,
    /// Candidates encoded to choose it, under a target; `None` otherwise.
    pub candidates: Option<u32>,
    /// The output's width and height as displayed, when it was resized; `None` otherwise.
    pub dimensions: Option<(usize, usize)>,
    /// Whether the output written is a progressive JPEG (its frame header says); `None` when
    /// nothing was written this run.
    pub progressive: Option<bool>,
    /// Whether the output was proven to give back the input bit for bit: an archive decoded
    /// again and compared, a restore checked against its archive's checksum; `None` outside
    /// archives and restores.
    pub verified: Option<bool>,
}

impl Outcome {
    /// The outcome of an image not done yet, started now: nothing read or written, no method.
    pub fn new(input: PathBuf, output: PathBuf, key: String) -> Self {
        Outcome {
            input,
            output,
            key,
            version: None,
            started: SystemTime::now(),
            duration: Duration::ZERO,
            input_bytes: 0,
            output_bytes: 0,
            status: Status::Compressed,
            method: None,
            quality: None,
            score: None,
            candidates: None,
            dimensions: None,
            progressive: None,
            verified: None,
        }
    }
}

/// Counts and byte totals of a batch. Sizes count the images that have an output (compressed,
/// kept-original, skipped): their inputs and their outputs, as on disk.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Totals {
    /// Images counted, of every kind.
    pub files: u64,
    /// Images re-encoded and written.
    pub compressed: u64,
    /// Images whose original bytes were written as the output.
    pub kept_original: u64,
    /// Images left alone: their output was up to date (`--skip-existing`), or an earlier run
    /// of the shard did them (`--manifest`).
    pub skipped: u64,
    /// Images that failed (nothing written for them).
    pub failed: u64,
    /// Not started: the batch was interrupted first.
    pub not_started: u64,
    /// Bytes of the inputs of the images that have an output.
    pub input_bytes: u64,
    /// Bytes of their outputs (a kept original's or a skipped image's output included).
    pub output_bytes: u64,
    /// Images re-encoded by the DCT-domain transcoder.
    pub dct: u64,
    /// Images re-encoded through pixels.
    pub pixel: u64,
}

/// For the reports' method counts: `Some(true)` for the transcoder (`dct`), `Some(false)` for
/// pixels, `None` for a method that is neither (an archive, a restore).
pub fn re_encoded_by_dct(method: &str) -> Option<bool> {
    match method {
        "dct" => Some(true),
        "pixel" => Some(false),
        _ => None,
    }
}

impl Totals {
    /// The totals of one outcome.
    pub fn of(outcome: &Outcome) -> Self {
        Totals::count(
            outcome.status.kind(),
            outcome.method.and_then(|m| re_encoded_by_dct(m.as_str())),
            outcome.input_bytes,
            outcome.output_bytes,
        )
    }

    /// The totals of one image, the one rule of every report: `kind` counts it; `dct` says
    /// which method re-encoded it (`Some(true)` the transcoder, `Some(false)` pixels), which
    /// counts only when it was (compressed or kept-original); its bytes count only when it
    /// has an output.
    pub fn count(kind: Kind, dct: Option<bool>, input_bytes: u64, output_bytes: u64) -> Self {
        let mut totals = Totals {
            files: 1,
            ..Totals::default()
        };
        match kind {
            Kind::Compressed => totals.compressed = 1,
            Kind::KeptOriginal => totals.kept_original = 1,
            Kind::Skipped => totals.skipped = 1,
            Kind::Failed => totals.failed = 1,
            Kind::NotStarted => totals.not_started = 1,
        }
        if kind == Kind::Compressed {
            match dct {
                Some(true) => totals.dct = 1,
                Some(false) => totals.pixel = 1,
                None => {}
            }
        }
        if kind.is_done() {
            totals.input_bytes = input_bytes;
            totals.output_bytes = output_bytes;
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
            not_started: self.not_started + other.not_started,
            input_bytes: self.input_bytes + other.input_bytes,
            output_bytes: self.output_bytes + other.output_bytes,
            dct: self.dct + other.dct,
            pixel: self.pixel + other.pixel,
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
    /// The totals of `outcomes` (those an earlier run of the shard recorded included).
    pub totals: Totals,
    /// The batch's wall-clock time, from after the output check to its end.
    pub duration: Duration,
    /// Threads that did the work (1 for a sequential run).
    pub threads: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn outcome(status: Status, input_bytes: u64, output_bytes: u64) -> Outcome {
        Outcome {
            started: std::time::SystemTime::UNIX_EPOCH,
            input_bytes,
            output_bytes,
            status,
            ..Outcome::new(
                PathBuf::from("in.jpg"),
                PathBuf::from("out.jpg"),
                "in.jpg".into(),
            )
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

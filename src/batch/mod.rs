//! The batch: every job through the one per-image function, on a rayon pool or sequentially,
//! and the outcomes reduced into totals (no shared counters: each image returns its own
//! figures, and pairs of partial results are merged).
pub mod dryrun;
pub mod observer;
pub mod schedule;
pub mod setup;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Instant;

use rayon::prelude::*;
use tracing::info;

pub use observer::{Observer, Silent};

use crate::batch::schedule::{consumption_order, longest_first};
use crate::cancel::Cancel;
use crate::error::SetupError;
use crate::fleet::journal;
use crate::inputs::walk::Job;
use crate::inputs::walk::Source;
use crate::options::Options;
use crate::outcome::{BatchResult, Outcome, Status, Totals};
use crate::photo::compress::{Context, Prefetched, Remote, Upload, compress_one};
use crate::photo::output::{self, OutputDir, clean_stale_temps};
use crate::storage::location::Location;
use crate::storage::{Bucket, StorageError};

/// A partial result: the totals and the outcomes of a run of consecutive jobs.
/// Outcomes carry their job's index, so the report lists them in job order whatever order
/// the workers took the jobs in.
type Partial = (Totals, Vec<(usize, Outcome)>);

fn merge((totals_a, mut outcomes_a): Partial, (totals_b, outcomes_b): Partial) -> Partial {
    outcomes_a.extend(outcomes_b);
    (totals_a.merge(totals_b), outcomes_a)
}

/// The buckets of a run whose inputs or outputs are objects (none for local runs).
#[derive(Default)]
pub struct Storage {
    /// The bucket the inputs are listed from and downloaded.
    pub input: Option<Bucket>,
    /// The bucket the outputs (and the manifest) are uploaded to.
    pub output: Option<Bucket>,
}

/// The folder-level call: lists `inputs` (folders, files, or one bucket prefix) under
/// `options` and compresses every JPEG found into `options.output_dir` (or the output bucket),
/// as the command does; `observer` hears of each image, `cancel` stops the batch early.
pub fn compress_dir(
    inputs: &[Location],
    options: &Options,
    observer: &dyn Observer,
    cancel: &Cancel,
) -> Result<BatchResult, SetupError> {
    let prepared = setup::prepare(inputs, None, options)?;
    run_with(
        &prepared.jobs,
        &prepared.names,
        options,
        &prepared.storage,
        observer,
        cancel,
    )
}

/// Compresses every job under `options` (the `ProcessImages` component of the logs), telling
/// `observer` as images start and end; once `cancel` is cancelled, no more images start.
pub fn run(
    jobs: &[Job],
    inputs: &[impl AsRef<Path>],
    options: &Options,
    observer: &dyn Observer,
    cancel: &Cancel,
) -> Result<BatchResult, SetupError> {
    let inputs: Vec<String> = inputs
        .iter()
        .map(|p| p.as_ref().display().to_string())
        .collect();
    run_with(
        jobs,
        &inputs,
        options,
        &Storage::default(),
        observer,
        cancel,
    )
}

/// [`run`] with buckets for object inputs and outputs; `inputs` name the inputs in the log.
/// The steps: check the options and the output, say what is to be done, take out what an
/// earlier run of the shard did (with a manifest), order the jobs and start the downloads,
/// then each job through [`compress_one`] (on the pool, or in turn under `sequential`),
/// reduced into the totals, and the outcomes put back in job order.
pub fn run_with(
    jobs: &[Job],
    inputs: &[String],
    options: &Options,
    storage: &Storage,
    observer: &dyn Observer,
    cancel: &Cancel,
) -> Result<BatchResult, SetupError> {
    options.validate()?;
    check_output(options, storage)?;
    let start = Instant::now();
    let threads = options.threads();
    announce(jobs, inputs, options, threads);
    if storage.output.is_none() {
        remove_leftovers(jobs, options);
    }

    let (journal, earlier, todo) = journal(jobs, options, storage);
    let pool = pool(options, threads)?;
    // No input is read ahead under --preserve: the read could change the access time that
    // the output is to get.
    let peek = pool.as_ref().filter(|_| !options.preserve);
    let order = longest_first(jobs, &todo, threads, peek);
    let prefetched = prefetch(jobs, &order, threads, options, storage);
    let output_dir = OutputDir::new(&options.output_dir, options.fsync);
    let ctx = context(options, storage, prefetched.as_ref(), cancel);

    // An image is done when its output is written: a file at once, an object when its upload
    // ends. Uploads end on the uploads thread (which records them), so that workers go on to
    // the next image while the bytes travel.
    let done = |outcome: &Outcome| {
        observer.image_done(outcome);
        if let Some(journal) = &journal {
            journal.record(outcome);
        }
    };
    let (uploading, uploads) = std::sync::mpsc::channel::<(usize, Outcome, Upload<'_>)>();
    let ((totals, outcomes), uploaded) = std::thread::scope(|scope| {
        let uploads_thread = scope.spawn(|| finish_uploads(uploads, &done));
        let one = |index: usize| -> Partial {
            observer.image_started(&jobs[index]);
            match compress_one(&jobs[index], &ctx, &output_dir) {
                (outcome, Some(upload)) => {
                    // Counted when it ends; the channel lives as long as this batch.
                    let _ = uploading.send((index, outcome, upload));
                    (Totals::default(), Vec::new())
                }
                (outcome, None) => {
                    done(&outcome);
                    (Totals::of(&outcome), vec![(index, outcome)])
                }
            }
        };
        let empty = || (Totals::default(), Vec::new());
        let computed = match &pool {
            None => todo.iter().map(|&i| one(i)).fold(empty(), merge),
            // One image per task: images are heavy (10 ms to 1 s each) and uneven, so any idle
            // worker can take the next one, rather than rayon's adaptive splitting handing a
            // thread a run of images as one piece that nobody can steal from.
            Some(pool) => pool.install(|| {
                order
                    .par_iter()
                    .with_max_len(1)
                    .map(|&index| one(index))
                    .reduce(empty, merge)
            }),
        };
        drop(uploading);
        // (A panic there is a bug: it goes on up rather than lose the outcomes it held.)
        let uploaded = uploads_thread
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (computed, uploaded)
    });
    let (totals, outcomes) = merge((totals, outcomes), uploaded);
    if let Some(journal) = &journal {
        journal.finish();
    }
    let earlier_totals = earlier
        .iter()
        .map(|(_, o)| Totals::of(o))
        .fold(Totals::default(), Totals::merge);
    let result = BatchResult {
        outcomes: in_job_order(outcomes, earlier),
        totals: totals.merge(earlier_totals),
        duration: start.elapsed(),
        threads,
    };
    announce_end(&result);
    Ok(result)
}

/// An output that cannot be written is one error before any work, not one per image: a
/// folder is checked, a bucket prefix gets (and loses) a small probe object.
fn check_output(options: &Options, storage: &Storage) -> Result<(), SetupError> {
    let Some(bucket) = &storage.output else {
        return output::check_writable(&options.output_dir);
    };
    let probe = format!("_photopress/.probe-{}", std::process::id());
    bucket
        .put(&probe, crate::storage::Bytes::from_static(b"probe"))
        .and_then(|_| bucket.delete(&probe))
        .map_err(|err| SetupError::OutputBucket {
            url: bucket.url().to_string(),
            message: match err {
                StorageError::NotFound { .. } | StorageError::NoBucket { .. } => {
                    format!("bucket {} does not exist", bucket.url().bucket())
                }
                StorageError::NoCredentials { url } => format!(
                    "no credentials: set {}",
                    crate::storage::credential_variables(&url)
                ),
                StorageError::PermissionDenied { message, .. } => {
                    format!("permission denied ({message})")
                }
                other => other.to_string(),
            },
        })
}

/// The batch's first log line, and a warning (with a hint) when there is nothing to do.
fn announce(jobs: &[Job], inputs: &[String], options: &Options, threads: usize) {
    info!(
        target: "ProcessImages",
        "Start processing {} images from {} on {}",
        jobs.len(),
        inputs.join(", "),
        if options.sequential { "the main thread (sequential)".to_string() } else if threads == 1 { "1 thread".to_string() } else { format!("{threads} threads") }
    );
    if jobs.is_empty() {
        // Local inputs only: a bucket prefix has no sub-folders to hint at.
        let local: Vec<std::path::PathBuf> = inputs
            .iter()
            .filter(|p| !crate::storage::is_object_url(p))
            .map(std::path::PathBuf::from)
            .collect();
        let hint = crate::inputs::walk::nothing_found_hint(&local, options)
            .map(|hint| format!("; {hint}"))
            .unwrap_or_default();
        tracing::warn!(target: "ProcessImages", "No JPEG files found in {}{hint}", inputs.join(", "));
    }
}

/// The batch's last log line.
fn announce_end(result: &BatchResult) {
    let totals = &result.totals;
    info!(
        target: "ProcessImages",
        "End processing: {} compressed, {} kept original, {} skipped, {} failed, {} not started in {:.1} ms",
        totals.compressed,
        totals.kept_original,
        totals.skipped,
        totals.failed,
        totals.not_started,
        result.duration.as_secs_f64() * 1e3
    );
}

/// The pool of `threads` workers (named `Thread-N` in the log), or none for a sequential run.
fn pool(options: &Options, threads: usize) -> Result<Option<rayon::ThreadPool>, SetupError> {
    if options.sequential {
        return Ok(None);
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("Thread-{}", i + 1))
        .build()
        .map(Some)
        .map_err(|err| SetupError::ThreadPool(err.to_string()))
}

/// The downloads of object inputs, started in the order the workers will take them.
fn prefetch(
    jobs: &[Job],
    order: &[usize],
    threads: usize,
    options: &Options,
    storage: &Storage,
) -> Option<Prefetched> {
    let bucket = storage.input.as_ref()?;
    let keys = consumption_order(order, threads)
        .into_iter()
        .filter(|&i| matches!(jobs[i].source, Source::Object { .. }))
        .map(|i| jobs[i].key.clone())
        .collect::<Vec<_>>();
    let index = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (k.clone(), i))
        .collect();
    let in_flight = prefetch_bytes(options.max_memory);
    Some(Prefetched {
        prefetcher: bucket.prefetch(keys, 2 * threads + 2, in_flight, options.max_file_size),
        index,
    })
}

/// What every image shares: the options, the memory budget (less the downloads' share), the
/// buckets and the cancellation token.
fn context<'a>(
    options: &'a Options,
    storage: &'a Storage,
    prefetched: Option<&'a Prefetched>,
    cancel: &Cancel,
) -> Context<'a> {
    let mut ctx = Context::new(options);
    if prefetched.is_some() && options.max_memory > 0 {
        // The downloads' share of the budget is theirs: the images get the rest.
        let images =
            options.max_memory - prefetch_bytes(options.max_memory).min(options.max_memory / 2);
        ctx.budget = crate::memory::Budget::new(images);
    }
    ctx.cancel = cancel.clone();
    ctx.remote = Remote {
        input: storage.input.as_ref(),
        prefetch: prefetched,
        output: storage.output.as_ref(),
    };
    ctx
}

/// The outcomes of this run and of the earlier one, in job order.
fn in_job_order(
    mut outcomes: Vec<(usize, Outcome)>,
    earlier: Vec<(usize, Outcome)>,
) -> Vec<Outcome> {
    outcomes.extend(earlier);
    outcomes.sort_unstable_by_key(|(index, _)| *index);
    outcomes.into_iter().map(|(_, outcome)| outcome).collect()
}

/// Under `--manifest`: the journal the run writes, what an earlier run of this shard already
/// did (not done again), and the jobs left to do; without, every job.
#[allow(clippy::type_complexity)]
fn journal<'a>(
    jobs: &[Job],
    options: &'a Options,
    storage: &'a Storage,
) -> (
    Option<journal::Journal<'a>>,
    Vec<(usize, Outcome)>,
    Vec<usize>,
) {
    let root = options.manifest.then(|| match &storage.output {
        Some(bucket) => journal::Root::Object(bucket),
        None => journal::Root::Local(&options.output_dir),
    });
    let (earlier, todo) = match &root {
        Some(root) => resume(jobs, root, options, storage),
        None => (Vec::new(), (0..jobs.len()).collect()),
    };
    let journal = root.map(|root| journal::Journal::new(root, options));
    (journal, earlier, todo)
}

/// Waits for each upload in the order they were started, fails the image whose upload failed
/// (its output does not exist), and tells `done` of each: the manifest records only objects
/// that exist.
fn finish_uploads(
    uploads: std::sync::mpsc::Receiver<(usize, Outcome, Upload<'_>)>,
    done: &(dyn Fn(&Outcome) + Sync),
) -> Partial {
    let mut finished = (Totals::default(), Vec::new());
    for (index, mut outcome, upload) in uploads {
        if let Err(err) = upload.finish() {
            tracing::error!(
                target: "CompressOneImage",
                "Failed to compress image {}: {err}",
                outcome.input.display()
            );
            outcome.output_bytes = 0;
            outcome.method = None;
            outcome.quality = None;
            outcome.score = None;
            outcome.candidates = None;
            outcome.dimensions = None;
            outcome.progressive = None;
            outcome.status = Status::Failed(err);
        }
        done(&outcome);
        finished = merge(finished, (Totals::of(&outcome), vec![(index, outcome)]));
    }
    finished
}

/// Bytes the downloads of object inputs may hold ahead of the workers: a quarter of the memory
/// budget (at least 64 MiB), 512 MiB without one.
fn prefetch_bytes(max_memory: u64) -> u64 {
    match max_memory {
        0 => 512 << 20,
        budget => (budget / 4).max(64 << 20),
    }
}

/// Splits the jobs into those an earlier run of this shard did (same input version, same
/// settings: reported as skipped, not done again) and those to do.
fn resume(
    jobs: &[Job],
    root: &journal::Root<'_>,
    options: &Options,
    storage: &Storage,
) -> (Vec<(usize, Outcome)>, Vec<usize>) {
    let index = journal::resume_index(root, options);
    let settings = options.fingerprint();
    let outputs = Outputs::new(&index, storage.output.as_ref());
    let mut earlier = Vec::new();
    let mut todo = Vec::new();
    let mut missing = 0usize;
    for (i, job) in jobs.iter().enumerate() {
        let version = if index.is_empty() || job.problem.is_some() {
            None
        } else {
            journal::version_before(job, storage.input.as_ref())
        };
        let done = version
            .and_then(|v| index.done(&job.key, &v, &settings).map(|r| (v, r)))
            // Done, by the record, and its output still there at the size recorded.
            .filter(|(_, record)| {
                let there = outputs.has(job, record.output_bytes);
                missing += usize::from(!there);
                there
            });
        match done {
            Some((version, record)) => earlier.push((
                i,
                Outcome {
                    version: Some(version),
                    input_bytes: record.input_bytes,
                    output_bytes: record.output_bytes,
                    status: Status::Skipped,
                    ..Outcome::new(job.input.clone(), job.output.clone(), job.key.clone())
                },
            )),
            None => todo.push(i),
        }
    }
    if missing > 0 {
        tracing::warn!(
            target: "ProcessImages",
            "{missing} outputs recorded as done are missing or of another size: redone"
        );
    }
    if !earlier.is_empty() {
        info!(
            target: "ProcessImages",
            "Resuming: {} of {} images were done by an earlier run (manifest), {} to do",
            earlier.len(),
            jobs.len(),
            todo.len()
        );
    }
    (earlier, todo)
}

/// The outputs an earlier run wrote, as they are now: a file's size by a stat; an object's from
/// one listing of the output prefix (not a request per key), made only when there is
/// something to resume.
struct Outputs {
    objects: Option<std::collections::HashMap<String, u64>>,
}

impl Outputs {
    fn new(index: &crate::fleet::manifest::ResumeIndex, output: Option<&Bucket>) -> Self {
        let objects = output.filter(|_| !index.is_empty()).map(|bucket| {
            bucket
                .list("", true)
                .map(|listing| {
                    listing
                        .objects
                        .into_iter()
                        .map(|o| (o.key_rel, o.size))
                        .collect()
                })
                // Unlisted, nothing is known to be there: everything is redone.
                .unwrap_or_default()
        });
        Outputs { objects }
    }

    /// Whether `job`'s output exists with `size` bytes.
    fn has(&self, job: &Job, size: u64) -> bool {
        match (&job.dest, &self.objects) {
            (crate::inputs::job::Dest::Object(key), Some(objects)) => {
                objects.get(key) == Some(&size)
            }
            (crate::inputs::job::Dest::Object(_), None) => false,
            (crate::inputs::job::Dest::File, _) => {
                std::fs::symlink_metadata(&job.output).is_ok_and(|m| m.is_file() && m.len() == size)
            }
        }
    }
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
    use crate::storage::{BucketOptions, Bytes, Credentials, ObjectUrl};
    use std::sync::Mutex;
    use std::time::Duration;

    #[test]
    fn a_failed_upload_fails_its_image_before_anything_records_it() {
        // A bucket on a port where nothing listens, tried once: the upload fails.
        let options = BucketOptions {
            endpoint: Some("http://127.0.0.1:9".into()),
            allow_http: Some(true),
            region: Some("us-east-1".into()),
            credentials: Some(Credentials {
                access_key_id: "test".into(),
                secret_access_key: "test".into(),
                session_token: None,
            }),
            max_retries: 0,
            retry_timeout: Duration::from_secs(1),
            connect_timeout: Duration::from_secs(1),
            ..BucketOptions::default()
        };
        let url = ObjectUrl::parse("s3://out/p").expect("url");
        let bucket = Bucket::connect_with(&url, &options).expect("a client");
        let budget = crate::memory::Budget::new(1 << 20);
        let (send, receive) = std::sync::mpsc::channel();
        let mut outcome =
            Outcome::new("in/a.jpg".into(), "s3://out/p/a.jpg".into(), "a.jpg".into());
        outcome.output_bytes = 5;
        outcome.method = Some(crate::options::Method::Dct);
        let pending = bucket.put_background("a.jpg", Bytes::from_static(b"bytes"));
        let held = budget.reserve(5);
        assert_eq!(budget.in_use(), 5);
        send.send((0, outcome, Upload::new(pending, held)))
            .expect("send");
        drop(send);
        let recorded = Mutex::new(Vec::new());
        let record = |o: &Outcome| recorded.lock().expect("lock").push(o.status.as_str());
        let (totals, outcomes) = finish_uploads(receive, &record);
        assert_eq!(
            (totals.files, totals.failed, totals.output_bytes),
            (1, 1, 0)
        );
        assert!(matches!(outcomes[0].1.status, Status::Failed(_)));
        assert_eq!(outcomes[0].1.method, None);
        assert_eq!(
            *recorded.lock().expect("lock"),
            ["failed"],
            "recorded once, as failed"
        );
        // The upload's share of the budget was given back.
        assert_eq!(budget.in_use(), 0);
    }
}

//! `photopress event INPUT -o OUT [--payload FILE]`: one event notification (S3, SQS, SNS,
//! EventBridge, Google Cloud Storage, Azure Event Grid; on stdin by default) → the objects it
//! says were created below INPUT (a bucket prefix) → the batch, as `--keys-from` would run
//! them. Idempotent: each object done gets a mark under the output (`fleet::done`), and an
//! object already marked at the same version and settings is skipped with one read; photopress's
//! own outputs (and marks), which trigger events too when the output is in the same bucket, are
//! left out by the listing rules.
use std::io::Read;
use std::process::ExitCode;

use photopress::fleet::done::{self, Mark};
use photopress::fleet::journal::Root;
use photopress::inputs::walk::{Job, Source};
use photopress::inputs::{event, version};
use photopress::storage::location::Location;
use photopress::{BatchResult, Kind, Outcome, Status, Totals};
use tracing::{info, warn};

use super::cli::Cli;
use super::commands;
use super::progress::Progress;

/// The largest payload read (S3 sends at most a few KB a record, SQS 256 KB a message).
const MAX_PAYLOAD: u64 = 16 << 20;

pub fn event(cli: &Cli, progress: &Progress) -> ExitCode {
    let (mut options, inputs) = match commands::places(cli) {
        Ok(found) => found,
        Err(message) => return super::usage_error(&message),
    };
    // Marks, not a shard's manifest: one read per object, whatever was done before.
    options.manifest = false;
    let [Location::Object(input)] = inputs.as_slice() else {
        return super::usage_error(
            "event takes one INPUT: the bucket prefix its objects are below (s3://bucket/prefix, gs://..., az://...)",
        );
    };
    let payload = match read_payload(cli) {
        Ok(payload) => payload,
        Err(message) => return super::usage_error(&message),
    };
    let events = match event::parse(&payload) {
        Ok(events) => events,
        Err(err) => return super::usage_error(&err.to_string()),
    };
    for ignored in &events.ignored {
        info!(target: "ProcessImages", "Ignoring {ignored}: not an object created");
    }
    let (entries, left_out) = event::keys(&events, input, &options);
    for why in &left_out {
        info!(target: "ProcessImages", "Leaving out {why}");
    }
    // The jobs as a key list would make them (outputs set, buckets connected), then those
    // done before — at this version and with these settings — set aside.
    let prepared = match photopress::batch::setup::prepare_keys(
        &inputs,
        Some((entries, Vec::new())),
        &options,
    ) {
        Ok(prepared) => prepared,
        Err(err) => return super::usage_error(&err.to_string()),
    };
    let root = match &prepared.storage.output {
        Some(bucket) => Root::Object(bucket),
        None => Root::Local(&options.output_dir),
    };
    let settings = options.fingerprint();
    let (mut todo, mut before) = (Vec::new(), Vec::new());
    for job in prepared.jobs {
        let current = match &job.source {
            Source::Object {
                etag: Some(etag),
                size,
            } => Some(version::object_version(Some(etag), size.unwrap_or(0))),
            // (Google's Pub/Sub attributes carry no ETag: ask the object.)
            _ => prepared.storage.input.as_ref().and_then(|bucket| {
                let info = bucket.head(&job.key).ok()?;
                Some(version::object_version(info.etag.as_deref(), info.size))
            }),
        };
        match (current, done::read(&root, &job.key)) {
            (Some(current), Ok(Some(mark)))
                if mark.version == current && mark.settings == settings =>
            {
                before.push((job, mark));
            }
            (_, Err(why)) => {
                warn!(target: "ProcessImages", "Redoing {}: its mark does not read ({why})", job.key);
                todo.push(job);
            }
            _ => todo.push(job),
        }
    }
    let json_lines = super::jsonlines::JsonLines::default();
    progress.start(&todo);
    let observer: &dyn photopress::batch::Observer = if cli.json_lines {
        &(progress, &json_lines)
    } else {
        progress
    };
    let result = photopress::batch::run_with(
        &todo,
        &prepared.names,
        &options,
        &prepared.storage,
        observer,
        &super::signals::cancel(),
    );
    progress.finish();
    let mut result = match result {
        Ok(result) => result,
        Err(err) => return super::usage_error(&err.to_string()),
    };
    for outcome in &result.outcomes {
        if !outcome.status.kind().is_done() {
            continue;
        }
        let Some(version) = &outcome.version else {
            continue;
        };
        let mark = Mark {
            version: version.clone(),
            settings: settings.clone(),
            input_bytes: outcome.input_bytes,
            output_bytes: outcome.output_bytes,
            output: outcome.output.to_string_lossy().into_owned(),
        };
        if let Err(why) = done::write(&root, &outcome.key, &mark) {
            warn!(target: "ProcessImages", "{}: done, but its mark could not be written ({why}): a repeated event will redo it", outcome.key);
        }
    }
    add_skipped(&mut result, before);
    super::print_report(cli, &json_lines, &result);
    if super::signals::stop_requested() {
        ExitCode::from(130)
    } else if result.totals.failed > 0 {
        ExitCode::from(1)
    } else {
        // An event that names nothing to do is a success: the work was done, or is not ours.
        ExitCode::SUCCESS
    }
}

/// The payload: `--payload FILE`, else stdin.
fn read_payload(cli: &Cli) -> Result<Vec<u8>, String> {
    let mut payload = Vec::new();
    let read = match cli.payload.as_deref() {
        Some(path) if path != "-" => std::fs::File::open(path)
            .and_then(|f| f.take(MAX_PAYLOAD + 1).read_to_end(&mut payload)),
        _ => std::io::stdin()
            .lock()
            .take(MAX_PAYLOAD + 1)
            .read_to_end(&mut payload),
    };
    read.map_err(|e| format!("cannot read the event: {e}"))?;
    if payload.len() as u64 > MAX_PAYLOAD {
        return Err(format!(
            "the event is larger than {} MiB",
            MAX_PAYLOAD >> 20
        ));
    }
    Ok(payload)
}

/// The objects done before, as skipped outcomes of this run (the report counts them).
fn add_skipped(result: &mut BatchResult, before: Vec<(Job, Mark)>) {
    for (job, mark) in before {
        info!(target: "CompressOneImage", "Skipped image {}: done before at this version and settings", job.input.display());
        let mut outcome = Outcome::new(job.input, job.output, job.key);
        outcome.status = Status::Skipped;
        outcome.version = Some(mark.version);
        outcome.input_bytes = mark.input_bytes;
        outcome.output_bytes = mark.output_bytes;
        result.totals = result.totals.merge(Totals::count(
            Kind::Skipped,
            None,
            mark.input_bytes,
            mark.output_bytes,
        ));
        result.outcomes.push(outcome);
    }
}

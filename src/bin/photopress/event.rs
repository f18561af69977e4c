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
use photopress::inputs::{event, objects, version};
use photopress::storage::location::Location;
use photopress::storage::{Bucket, ObjectUrl};
use photopress::{BatchResult, Kind, Outcome, Status, Totals};
use tracing::{info, warn};

use crate::cli::Cli;
use crate::commands;
use crate::progress::Progress;

/// The largest payload read (S3 sends at most a few KB a record, SQS 256 KB a message).
const MAX_PAYLOAD: u64 = 16 << 20;

pub fn event(cli: &Cli, progress: &Progress) -> ExitCode {
    let (mut options, inputs) = match commands::places(cli) {
        Ok(found) => found,
        Err(message) => return crate::usage_error(&message),
    };
    // Marks, not a shard's manifest: one read per object, whatever was done before.
    options.manifest = false;
    let [Location::Object(input)] = inputs.as_slice() else {
        return crate::usage_error(
            "event takes one INPUT: the bucket prefix its objects are below (s3://bucket/prefix, gs://..., az://...)",
        );
    };
    let payload = match read_payload(cli) {
        Ok(payload) => payload,
        Err(message) => return crate::usage_error(&message),
    };
    let events = match event::parse(&payload) {
        Ok(events) => events,
        Err(err) => return crate::usage_error(&err.to_string()),
    };
    for ignored in &events.ignored {
        info!(target: "ProcessImages", "Ignoring {ignored}: not an object created");
    }
    let (entries, left_out) = event::keys(&events, input, &options);
    for why in &left_out {
        info!(target: "ProcessImages", "Leaving out {why}");
    }
    let out_bucket = match &options.output_url {
        Some(url) => match Bucket::connect(url) {
            Ok(bucket) => Some(bucket),
            Err(err) => return crate::usage_error(&err.to_string()),
        },
        None => None,
    };
    let root = match &out_bucket {
        Some(bucket) => Root::Object(bucket),
        None => Root::Local(&options.output_dir),
    };
    let settings = options.fingerprint();
    let in_bucket = match Bucket::connect(input) {
        Ok(bucket) => bucket,
        Err(err) => return crate::usage_error(&err.to_string()),
    };
    // What was done before, at this version and with these settings.
    let mut todo = Vec::new();
    let mut before = Vec::new();
    for entry in entries {
        let current = match &entry.etag {
            Some(etag) => Some(version::object_version(Some(etag), entry.size.unwrap_or(0))),
            // (Google's Pub/Sub attributes carry no ETag: ask the object.)
            None => in_bucket
                .head(&entry.key)
                .ok()
                .map(|info| version::object_version(info.etag.as_deref(), info.size)),
        };
        match (current, done::read(&root, &entry.key)) {
            (Some(current), Ok(Some(mark)))
                if mark.version == current && mark.settings == settings =>
            {
                before.push((entry.key.clone(), mark));
            }
            (_, Err(why)) => {
                warn!(target: "ProcessImages", "Redoing {}: its mark does not read ({why})", entry.key);
                todo.push(entry);
            }
            _ => todo.push(entry),
        }
    }
    let json_lines = crate::jsonlines::JsonLines::default();
    let result =
        photopress::batch::setup::prepare_keys(&inputs, Some((todo, Vec::new())), &options)
            .and_then(|prepared| {
                progress.start(&prepared.jobs);
                let observer: &dyn photopress::batch::Observer = if cli.json_lines {
                    &(progress, &json_lines)
                } else {
                    progress
                };
                photopress::batch::run_with(
                    &prepared.jobs,
                    &prepared.names,
                    &options,
                    &prepared.storage,
                    observer,
                    &crate::signals::cancel(),
                )
            });
    progress.finish();
    let mut result = match result {
        Ok(result) => result,
        Err(err) => return crate::usage_error(&err.to_string()),
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
    add_skipped(&mut result, before, input, &options);
    crate::print_report(cli, &json_lines, &result);
    if crate::signals::stop_requested() {
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
fn add_skipped(
    result: &mut BatchResult,
    before: Vec<(String, Mark)>,
    input: &ObjectUrl,
    options: &photopress::Options,
) {
    for (key, mark) in before {
        let output_key = objects::output_key(&key, &options.prefix, options.operation);
        let output = match &options.output_url {
            Some(url) => url.object_url(&output_key).into(),
            None => output_key
                .split('/')
                .fold(options.output_dir.clone(), |p, s| p.join(s)),
        };
        info!(target: "CompressOneImage", "Skipped image {}: done before at this version and settings", input.object_url(&key));
        let mut outcome = Outcome::new(input.object_url(&key).into(), output, key);
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

//! The compression of one image: read, re-encode, write atomically; the result is an
//! [`Outcome`], never a panic or an exit.
use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use tracing::{debug, error, info, warn};

use crate::codec::{self, EncodeSettings};
use crate::error::ImageError;
use crate::memory::{self, Budget};
use crate::options::{Method, Options};
use crate::output::{self, OutputDir};
use crate::scan::Job;
use crate::transcode::{self, Refusal};

/// What happened to one image.
#[derive(Debug)]
pub enum Status {
    /// Re-encoded and written.
    Compressed,
    /// Re-encoding did not make it smaller; the original bytes were written as the output.
    KeptOriginal,
    /// The output exists and is newer than the input (`skip_existing`); left alone.
    Skipped,
    /// Nothing was written for it.
    Failed(ImageError),
}

impl Status {
    /// The status word used in the JSON report.
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Compressed => "compressed",
            Status::KeptOriginal => "kept-original",
            Status::Skipped => "skipped",
            Status::Failed(_) => "failed",
        }
    }
}

/// The outcome of one image.
#[derive(Debug)]
pub struct Outcome {
    pub input: PathBuf,
    pub output: PathBuf,
    /// Size of the input file (0 if it could not be read).
    pub input_bytes: u64,
    /// Size of the output file (0 if none was written).
    pub output_bytes: u64,
    pub status: Status,
    /// How it was re-encoded ([`Method::Dct`] or [`Method::Pixel`]); `None` when it was not
    /// (skipped, or failed before).
    pub method: Option<Method>,
}

/// What every image of a batch shares.
pub struct Context<'a> {
    pub options: &'a Options,
    pub output_dir: &'a OutputDir,
    pub settings: EncodeSettings,
    pub budget: Budget,
}

impl<'a> Context<'a> {
    pub fn new(options: &'a Options, output_dir: &'a OutputDir) -> Self {
        Context {
            options,
            output_dir,
            settings: EncodeSettings {
                quality: options.quality,
                keep_metadata: !options.strip,
                keep_icc: !options.strip_icc,
                strict: !options.accept_truncated,
                best: options.best,
            },
            budget: Budget::new(options.max_memory),
        }
    }
}

/// Compresses one image (the `CompressOneImage` component of the logs).
pub fn compress_one(job: &Job, ctx: &Context<'_>) -> Outcome {
    let name = job.input.display();
    let mut outcome = Outcome {
        input: job.input.clone(),
        output: job.output.clone(),
        input_bytes: 0,
        output_bytes: 0,
        status: Status::Compressed,
        method: None,
    };
    if crate::interrupt::stop_requested() {
        debug!(target: "CompressOneImage", "Not starting image {name}: interrupted");
        outcome.status = Status::Failed(ImageError::Interrupted);
        return outcome;
    }
    info!(target: "CompressOneImage", "Start compressing image {name}");
    match run(job, ctx, &mut outcome) {
        Ok(status) => {
            match status {
                Status::Skipped => info!(
                    target: "CompressOneImage",
                    "Skipped image {name}: {} is up to date",
                    output_file_name(&job.output)
                ),
                Status::KeptOriginal => info!(
                    target: "CompressOneImage",
                    "End compressing image, re-encoding was not smaller; original kept as {}",
                    output_file_name(&job.output)
                ),
                _ => info!(
                    target: "CompressOneImage",
                    "End compressing image, new image saved as {}",
                    output_file_name(&job.output)
                ),
            }
            outcome.status = status;
        }
        Err(err) => {
            error!(target: "CompressOneImage", "Failed to compress image {name}: {err}");
            outcome.status = Status::Failed(err);
        }
    }
    outcome
}

fn run(job: &Job, ctx: &Context<'_>, outcome: &mut Outcome) -> Result<Status, ImageError> {
    if let Some(problem) = &job.problem {
        return Err(ImageError::Scan(problem.clone()));
    }
    ctx.output_dir.ensure()?;
    if let Some(parent) = job.output.parent() {
        if parent != ctx.output_dir.path() {
            fs::create_dir_all(parent).map_err(|err| ImageError::OutputDir {
                path: parent.to_path_buf(),
                message: err.to_string(),
            })?;
        }
    }
    if ctx.options.skip_existing {
        if let Some((input_bytes, output_bytes)) = up_to_date(&job.input, &job.output) {
            outcome.input_bytes = input_bytes;
            outcome.output_bytes = output_bytes;
            return Ok(Status::Skipped);
        }
    }
    let input = fs::read(&job.input).map_err(ImageError::Read)?;
    outcome.input_bytes = input.len() as u64;
    let working = memory::peek_header(&input).map_or(0, |h| h.working_memory());
    let needed = working + input.len() as u64;
    let reservation = ctx.budget.reserve(needed).ok_or(ImageError::OverBudget {
        needed,
        budget: ctx.budget.limit(),
    })?;
    let encoded = reencode(&input, ctx, outcome)?;
    drop(reservation);
    // Under --strip the original cannot stand in: it still carries the metadata to remove.
    let keep_original = !ctx.options.allow_larger && !ctx.options.strip;
    let (data, status) = if keep_original && encoded.len() >= input.len() {
        (&input, Status::KeptOriginal)
    } else {
        (&encoded, Status::Compressed)
    };
    output::write_atomic(&job.output, data, ctx.options.fsync)?;
    outcome.output_bytes = data.len() as u64;
    Ok(status)
}

/// Re-encodes one JPEG by the method the options ask for, noting in `outcome` which one did it.
fn reencode(input: &[u8], ctx: &Context<'_>, outcome: &mut Outcome) -> Result<Vec<u8>, ImageError> {
    let method = ctx.options.method;
    if method == Method::Pixel || (method == Method::Auto && ctx.options.best) {
        outcome.method = Some(Method::Pixel);
        return codec::recompress(input, &ctx.settings);
    }
    let name = outcome.input.display();
    let transcoded = catch_unwind(AssertUnwindSafe(|| {
        transcode::recompress(input, &ctx.settings, method == Method::Dct)
    }));
    // A panic is a bug of the transcoder: the photo still gets the pixel path.
    let transcoded = transcoded.unwrap_or_else(|_| {
        warn!(target: "CompressOneImage", "The transcoder failed on {name} (a bug: please report it); using the pixel path");
        Err(Refusal::NotCovered("the transcoder panicked".into()))
    });
    match transcoded {
        Ok(encoded) => {
            outcome.method = Some(Method::Dct);
            return Ok(encoded);
        }
        Err(Refusal::NotCovered(why)) => {
            debug!(target: "CompressOneImage", "Pixel path for {name}: {why}");
        }
        // Corrupt data is an error, in the transcoder's words (libjpeg's, for the common
        // cases): libjpeg-turbo's fast in-memory decoder lets some corruption (bad Huffman
        // codes) through without a warning. Asked to salvage what it can (--accept-truncated),
        // auto lets libjpeg try, with its resynchronization at restart markers.
        Err(Refusal::Invalid(err)) if method == Method::Auto && !ctx.settings.strict => {
            debug!(target: "CompressOneImage", "Pixel path for {name}: the transcoder said: {err}");
        }
        Err(Refusal::Invalid(err)) => {
            outcome.method = Some(Method::Dct);
            return Err(err);
        }
    }
    outcome.method = Some(Method::Pixel);
    codec::recompress(input, &ctx.settings)
}

/// The input's and the output's sizes, if the output exists and is newer than the input.
fn up_to_date(input: &Path, output: &Path) -> Option<(u64, u64)> {
    let out = fs::metadata(output).ok()?;
    let inp = fs::metadata(input).ok()?;
    let newer = out.modified().ok()? > inp.modified().ok()?;
    (out.is_file() && newer).then_some((inp.len(), out.len()))
}

fn output_file_name(path: &Path) -> std::path::Display<'_> {
    Path::new(path.file_name().unwrap_or(path.as_os_str())).display()
}

//! The compression of one image: read, re-encode, write atomically; the result is an
//! [`Outcome`], never a panic or an exit.
use std::cell::{Cell, OnceCell};
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::time::Instant;

use tracing::{debug, error, info, warn};

use crate::cancel::Cancel;
use crate::error::ImageError;
use crate::human;
use crate::inputs::version;
use crate::inputs::walk::{Dest, Job, Source};
use crate::jpeg::dct::{self, Refusal};
use crate::jpeg::header::{self, FrameHeader};
use crate::jpeg::pixel::{self, EncodeSettings};
use crate::jpeg::resize;
use crate::jpeg::sniff;
use crate::memory::{self, Budget, Reservation};
use crate::options::{Method, Operation, Options};
use crate::outcome::{Outcome, Status};
use crate::photo::archive;
use crate::photo::input;
use crate::photo::output::{self, OutputDir, WriteOptions};
use crate::photo::provenance::{self, Stale};
use crate::photo::search;
use crate::storage::{Bucket, Bytes, PendingPut, Prefetcher};

/// What every image of a batch shares.
pub struct Context<'a> {
    /// The run's options.
    pub options: &'a Options,
    /// The codecs' settings, made once from the options (the quality a search varies).
    pub settings: EncodeSettings,
    /// The memory budget the images in progress share.
    pub budget: Budget,
    /// The buckets, when inputs or outputs are objects.
    pub remote: Remote<'a>,
    /// Once cancelled, images not started are not started.
    pub cancel: Cancel,
}

/// The object-storage side of a batch: where object inputs come from (downloaded ahead by the
/// prefetcher, in the order the workers take them) and where object outputs go.
#[derive(Default, Clone, Copy)]
pub struct Remote<'a> {
    /// The bucket object inputs are read from (when one is not downloaded ahead).
    pub input: Option<&'a Bucket>,
    /// The downloads under way.
    pub prefetch: Option<&'a Prefetched>,
    /// The bucket object outputs are uploaded to.
    pub output: Option<&'a Bucket>,
}

/// Downloads under way, and which of them is which key.
pub struct Prefetched {
    /// The downloads, in the order the workers take the images.
    pub prefetcher: Prefetcher,
    /// Each key's place in that order.
    pub index: HashMap<String, usize>,
}

impl<'a> Context<'a> {
    /// The largest input read: `--max-file-size`, and within the memory budget.
    pub fn input_cap(&self) -> u64 {
        match self.budget.limit() {
            0 => self.options.max_file_size,
            budget => self.options.max_file_size.min(budget),
        }
    }

    /// What images share under `options`, with no bucket, a budget of `--max-memory`, and a
    /// cancellation token of its own.
    pub fn new(options: &'a Options) -> Self {
        Context {
            remote: Remote::default(),
            options,
            settings: options.encode_settings(),
            budget: Budget::new(options.max_memory),
            cancel: Cancel::new(),
        }
    }
}

/// An output on its way to its bucket: the worker that made it has moved on to the next
/// image. The image is done when the upload is ([`Upload::finish`]); until then the bytes
/// held by the upload count in the memory budget.
pub struct Upload<'a> {
    pending: PendingPut,
    _held: Option<Reservation<'a>>,
}

impl<'a> Upload<'a> {
    /// An upload under way, holding `held` of the budget until it ends.
    pub fn new(pending: PendingPut, held: Option<Reservation<'a>>) -> Self {
        Upload {
            pending,
            _held: held,
        }
    }

    /// Waits for the upload to end; its error is the image's.
    pub fn finish(self) -> Result<(), ImageError> {
        self.pending.wait().map(drop).map_err(ImageError::from)
    }
}

/// Compresses one image (the `CompressOneImage` component of the logs). An output to a bucket
/// comes back still uploading: the caller finishes the [`Upload`] (and may fail the image).
pub fn compress_one<'c>(
    job: &Job,
    ctx: &'c Context<'_>,
    output_dir: &OutputDir,
) -> (Outcome, Option<Upload<'c>>) {
    let name = job.input.display();
    let clock = Instant::now();
    let mut outcome = Outcome::new(job.input.clone(), job.output.clone(), job.key.clone());
    if ctx.cancel.is_cancelled() {
        debug!(target: "CompressOneImage", "Not starting image {name}: interrupted");
        outcome.status = Status::NotStarted;
        return (outcome, None);
    }
    // (The log's words: "Start compressing image", "Failed to compress image"...)
    let verb = ctx.options.operation.as_str();
    let doing = match ctx.options.operation {
        Operation::Compress => "compressing",
        Operation::Archive => "archiving",
        Operation::Restore => "restoring",
    };
    info!(target: "CompressOneImage", "Start {doing} image {name}");
    let mut upload = None;
    match run(job, ctx, output_dir, &mut outcome, &mut upload) {
        Ok(status) => {
            match status {
                Status::Skipped => info!(
                    target: "CompressOneImage",
                    "Skipped image {name}: {} is up to date",
                    output_file_name(&job.output)
                ),
                Status::KeptOriginal if ctx.options.operation == Operation::Archive => info!(
                    target: "CompressOneImage",
                    "End archiving image, stored as it is in {} ({})",
                    output_file_name(&job.output),
                    human::size(outcome.output_bytes)
                ),
                Status::KeptOriginal => info!(
                    target: "CompressOneImage",
                    "End compressing image, re-encoding was not smaller; original kept as {} ({})",
                    output_file_name(&job.output),
                    human::size(outcome.output_bytes)
                ),
                _ => info!(
                    target: "CompressOneImage",
                    "End {doing} image, {} saved as {}: {}{}",
                    match ctx.options.operation {
                        Operation::Compress => "new image",
                        Operation::Archive => "archive",
                        Operation::Restore => "original",
                    },
                    output_file_name(&job.output),
                    human::sizes(outcome.input_bytes, outcome.output_bytes),
                    outcome
                        .dimensions
                        .map_or(String::new(), |(w, h)| format!(", resized to {w}x{h}"))
                ),
            }
            outcome.status = status;
        }
        Err(err) => {
            error!(target: "CompressOneImage", "Failed to {verb} image {name}: {err}");
            // Nothing was written: no method made it.
            outcome.method = None;
            outcome.status = Status::Failed(err);
        }
    }
    outcome.duration = clock.elapsed();
    (outcome, upload)
}

fn run<'c>(
    job: &Job,
    ctx: &'c Context<'_>,
    output_dir: &OutputDir,
    outcome: &mut Outcome,
    upload: &mut Option<Upload<'c>>,
) -> Result<Status, ImageError> {
    if let Some(problem) = &job.problem {
        return Err(ImageError::Scan(problem.clone()));
    }
    if job.dest == Dest::File {
        output_dir.ensure()?;
        if let Some(parent) = job.output.parent()
            && parent != output_dir.path()
        {
            output::create_dirs(parent, ctx.options.fsync).map_err(|err| {
                ImageError::OutputDir {
                    path: parent.to_path_buf(),
                    message: err.to_string(),
                }
            })?;
        }
        if ctx.options.skip_existing && job.source == Source::File {
            match up_to_date(&job.input, &job.output, ctx.options) {
                Ok((input_bytes, output_bytes)) => {
                    outcome.input_bytes = input_bytes;
                    outcome.output_bytes = output_bytes;
                    return Ok(Status::Skipped);
                }
                Err(Stale::Missing) => {}
                Err(why) => info!(
                    target: "CompressOneImage",
                    "Not skipping {}: {why}",
                    job.input.display()
                ),
            }
        }
    }
    let (input, write, version) = match &job.source {
        Source::File => {
            let (data, meta) = input::read(&job.input, ctx.input_cap())?;
            let write = WriteOptions::for_input(&meta, ctx.options.fsync, ctx.options.preserve);
            (data, write, version::file_version(&meta))
        }
        Source::Object { .. } => {
            let (data, version) = fetch_object(job, ctx)?;
            let write = WriteOptions {
                fsync: ctx.options.fsync,
                ..WriteOptions::default()
            };
            (data, write, version)
        }
    };
    outcome.version = Some(version);
    outcome.input_bytes = input.len() as u64;
    let (data, status) = produce(input, ctx, outcome)?;
    outcome.output_bytes = data.len() as u64;
    *upload = store(job, data, write, ctx)?;
    Ok(status)
}

/// `--skip-existing`'s test under the run's operation: a compressed output's provenance
/// marker ([`provenance::up_to_date`]), an archive's or a restored file's content
/// ([`archive::up_to_date`]). Returns the input's and the output's sizes.
pub fn up_to_date(input: &Path, output: &Path, options: &Options) -> Result<(u64, u64), Stale> {
    match options.operation {
        Operation::Compress => provenance::up_to_date(input, output, options),
        Operation::Archive | Operation::Restore => archive::up_to_date(input, output, options),
    }
}

/// What the run's operation makes of an input held in memory: its output's bytes (the input
/// itself when kept) and status; sets `outcome`'s method, quality, score and mode.
pub fn produce(
    input: Vec<u8>,
    ctx: &Context<'_>,
    outcome: &mut Outcome,
) -> Result<(Vec<u8>, Status), ImageError> {
    let (data, status) = match ctx.options.operation {
        Operation::Compress => match encode(&input, ctx, outcome)? {
            Encoded::Original(status) => (input, status),
            Encoded::New(encoded) => (encoded, Status::Compressed),
        },
        Operation::Archive => archive::archive_one(&input, &ctx.budget, ctx.options, outcome)?,
        Operation::Restore => (
            archive::restore_one(&input, ctx.input_cap(), &ctx.budget, outcome)?,
            Status::Compressed,
        ),
    };
    if ctx.options.operation != Operation::Archive {
        outcome.progressive = header::read_frame(&data).ok().map(|f| f.progressive());
    }
    Ok((data, status))
}

/// What [`encode`] made of an input held in memory.
pub enum Encoded {
    /// The input's own bytes are the output: [`Status::KeptOriginal`] (re-encoding was not
    /// smaller, or the input is photopress's own output at this quality or below).
    Original(Status),
    /// The new file's bytes.
    New(Vec<u8>),
}

/// Whether `input` is photopress's own output at this quality or below, to be kept as it is
/// (re-encoding it would only lose detail): not under `--strip`, resizing or a target (a
/// target is searched again: the input's quality says nothing of its score or size), nor
/// under `--lossless` (nothing is lost, so our output can be optimized again).
fn is_own_output_to_keep(input: &[u8], ctx: &Context<'_>, resized: bool, name: &Path) -> bool {
    let options = ctx.options;
    if options.lossless || options.strip || resized || options.has_target() {
        return false;
    }
    match crate::jpeg::marker::find(input) {
        Some(made) if made.quality <= options.quality => {
            info!(
                target: "CompressOneImage",
                "{} was made by photopress at quality {}: not re-encoded at {}, copied as it is",
                name.display(), made.quality, options.quality
            );
            true
        }
        _ => false,
    }
}

/// The frame header, the one reader's for the budget and the codecs: a file whose header it
/// cannot read is refused here, never budgeted as nothing. The transcoder's reader names what
/// is wrong before the frame (a bad table, say), allocating nothing without one; else the
/// header reader's own words.
fn readable(
    frame: Result<FrameHeader, header::HeaderError>,
    input: &[u8],
) -> Result<FrameHeader, ImageError> {
    frame.map_err(|err| match dct::validate(input) {
        Err(Refusal::Invalid(why)) => why,
        _ => ImageError::Decode(err.to_string()),
    })
}

/// Refuses, in words, the kinds of JPEG neither codec reads: samples of other than 8 bits
/// (12-bit JPEGs: libjpeg-turbo is built here for 8-bit samples, and the transcoder reads
/// 8-bit data only) and lossless JPEG (SOF3, which is not DCT-based).
fn decodable(header: &FrameHeader) -> Result<(), ImageError> {
    if header.coding == header::Coding::Lossless {
        return Err(ImageError::Unsupported(
            "a lossless JPEG (SOF3, predictive coding): photopress reads DCT-based JPEGs".into(),
        ));
    }
    if header.precision != 8 {
        return Err(ImageError::Unsupported(format!(
            "{}-bit samples: photopress reads 8-bit JPEGs",
            header.precision
        )));
    }
    Ok(())
}

/// The bytes an image needs while it is re-encoded: the codec's working memory (resized or
/// not), the input, and under a quality target the metric's.
fn working_memory(
    header: &FrameHeader,
    plan: Option<&resize::Plan>,
    input_len: usize,
    ctx: &Context<'_>,
) -> Result<u64, ImageError> {
    let codec = match plan {
        Some(plan) => {
            let (w, h) = plan.target;
            if w as u64 * h as u64 > pixel::MAX_PIXELS {
                return Err(ImageError::Unsupported(format!(
                    "resized to {w}x{h}, it would be more than the {} pixels photopress accepts",
                    pixel::MAX_PIXELS
                )));
            }
            memory::working_memory_resized(header, plan.scaled, plan.target)
        }
        None => memory::working_memory(header),
    };
    let metric = match ctx.options.target_quality {
        Some(_) => crate::photo::metric::search_memory(header.width, header.height),
        None => 0,
    };
    let prepared = if prepares(ctx) && plan.is_none() {
        memory::prepared_coefficients(header, input_len)
    } else {
        0
    };
    Ok(codec + input_len as u64 + metric + prepared)
}

/// Re-encodes one JPEG held in memory, with the batch's rules: other formats refused by name,
/// photopress's own outputs kept, the memory budget reserved, the never-larger rule applied.
/// Sets `outcome.method`; the caller writes the result.
pub fn encode(
    input: &[u8],
    ctx: &Context<'_>,
    outcome: &mut Outcome,
) -> Result<Encoded, ImageError> {
    if let Some(format) = sniff::other_format(input) {
        return Err(ImageError::OtherFormat(format));
    }
    // The size it comes out at, when the resize limits ask for another. (A header that cannot
    // be read fails below, as without limits.)
    let frame = header::read_frame(input);
    let plan = ctx
        .options
        .resize
        .as_ref()
        .and_then(|limits| resize::plan(input, frame.as_ref().ok()?, limits));
    // Under --strip the original cannot stand in: it still carries the metadata to remove;
    // nor when resized: it has another size; under --target-size, only if it fits.
    let limit = ctx.options.target_size.map(|t| t.of(input.len() as u64));
    let keep_original = !ctx.options.allow_larger
        && !ctx.options.strip
        && plan.is_none()
        && limit.is_none_or(|limit| input.len() as u64 <= limit);
    if is_own_output_to_keep(input, ctx, plan.is_some(), &outcome.input) {
        return Ok(Encoded::Original(Status::KeptOriginal));
    }
    let header = readable(frame, input)?;
    decodable(&header)?;
    let needed = working_memory(&header, plan.as_ref(), input.len(), ctx)?;
    let reservation = ctx.budget.reserve(needed).ok_or(ImageError::OverBudget {
        needed,
        budget: ctx.budget.limit(),
    })?;
    // The data check reads the whole input: once an image, however many candidates.
    let checked = Cell::new(false);
    // The transcoder's reading of the input, once for all the candidates of a search.
    let prepared = OnceCell::new();
    let prepared = prepares(ctx).then_some(&prepared);
    if plan.is_some() {
        outcome.method = Some(Method::Pixel);
        check_data(input, ctx, outcome, &checked)?;
    }
    let name = outcome.input.clone();
    // What the decoders go past from here on is this image's (see `jpeg::corruption`).
    crate::jpeg::corruption::take();
    let chosen = search::encode_to_target(input, ctx.options, &name, |q| {
        let settings = EncodeSettings {
            quality: q,
            ..ctx.settings
        };
        let encoded = match &plan {
            Some(plan) => pixel::recompress_resized(input, &settings, plan),
            None => reencode(input, ctx, &settings, outcome, &checked, prepared),
        }?;
        // The input's own JFIF, JFXX, Adobe and other segments, in their places.
        Ok(crate::jpeg::segments::carry(input, encoded, &settings))
    })
    .inspect_err(|_| {
        crate::jpeg::corruption::take();
    })?;
    if let Some(plan) = &plan {
        outcome.dimensions = Some(plan.displayed());
    }
    drop(reservation);
    let corruption = crate::jpeg::corruption::take();
    if !corruption.is_empty() {
        warn!(
            target: "CompressOneImage",
            "{}: corrupt data, re-encoded from what decodes ({}): {}",
            name.display(), crate::names::name(crate::names::Setting::AcceptCorrupt), corruption.join("; ")
        );
    }
    // A byte copy of a corrupt input is never a result.
    let keep_original = keep_original && corruption.is_empty();
    let (before, after) = (input.len() as u64, chosen.encoded.len() as u64);
    let min_saving = ctx.options.min_savings.map_or(1, |m| m.of(before).max(1));
    if keep_original && before.saturating_sub(after) < min_saving {
        if after < before {
            info!(
                target: "CompressOneImage",
                "{}: saves {}, less than {} {}: original kept",
                outcome.input.display(), human::size(before - after),
                crate::names::name(crate::names::Setting::MinSavings), human::size(min_saving)
            );
        }
        return Ok(Encoded::Original(Status::KeptOriginal));
    }
    outcome.quality = Some(chosen.quality);
    outcome.score = chosen.score;
    outcome.candidates = ctx.options.has_target().then_some(chosen.candidates);
    Ok(Encoded::New(chosen.encoded))
}

/// Writes an output where its job says: a local file (atomically), or an object, whose upload
/// is started and returned (its bytes counted in the budget until it ends).
fn store<'c>(
    job: &Job,
    data: Vec<u8>,
    write: WriteOptions,
    ctx: &'c Context<'_>,
) -> Result<Option<Upload<'c>>, ImageError> {
    match (&job.dest, ctx.remote.output) {
        (Dest::File, _) => output::write_atomic(&job.output, &data, write).map(|()| None),
        (Dest::Object(key), Some(bucket)) => {
            // (An output larger than the whole budget cannot wait for room: it goes uncounted,
            // as its image's working memory was counted a moment ago.)
            let held = ctx.budget.reserve(data.len() as u64);
            let pending = bucket.put_background(key, Bytes::from(data));
            Ok(Some(Upload::new(pending, held)))
        }
        (Dest::Object(_), None) => Err(ImageError::Scan("no output bucket".into())),
    }
}

/// Downloads an object input (taken from the prefetcher when it runs ahead), with its version.
fn fetch_object(job: &Job, ctx: &Context<'_>) -> Result<(Vec<u8>, String), ImageError> {
    let cap = ctx.input_cap();
    let slot = ctx
        .remote
        .prefetch
        .and_then(|p| p.index.get(&job.key).map(|&i| (p, i)));
    let fetched = match (slot, ctx.remote.input) {
        (Some((p, i)), _) => p.prefetcher.take(i)?,
        (None, Some(bucket)) => bucket.get(&job.key, cap)?,
        (None, None) => return Err(ImageError::Scan("no input bucket".into())),
    };
    if fetched.bytes.is_empty() {
        return Err(ImageError::Empty);
    }
    let version = version::object_version(fetched.etag.as_deref(), fetched.size);
    Ok((fetched.bytes.to_vec(), version))
}

/// Whether a search's candidates are transcoded from the input read once (`dct::prepare`):
/// under a target, where the transcoder may take the photo.
fn prepares(ctx: &Context<'_>) -> bool {
    ctx.options.has_target() && !ctx.options.lossless && ctx.options.method != Method::Pixel
}

/// Re-encodes one JPEG by the method the options ask for, noting in `outcome` which one did it.
/// `prepared` holds the input read once by the transcoder, for a search's candidates.
fn reencode<'a>(
    input: &'a [u8],
    ctx: &Context<'_>,
    settings: &EncodeSettings,
    outcome: &mut Outcome,
    checked: &Cell<bool>,
    prepared: Option<&OnceCell<Option<dct::Prepared<'a>>>>,
) -> Result<Vec<u8>, ImageError> {
    let method = ctx.options.method;
    if ctx.options.lossless {
        return lossless(input, settings, outcome);
    }
    if method == Method::Pixel {
        outcome.method = Some(Method::Pixel);
        return pixel_path(input, ctx, settings, outcome, checked);
    }
    let name = outcome.input.display();
    let any_subsampling = method == Method::Dct;
    // Where the input cannot be prepared, each candidate calls the transcoder as a single
    // encode does (which says why, or falls to the pixel path as one would).
    let transcoded = catch_unwind(AssertUnwindSafe(|| {
        let prepared = prepared.and_then(|once| {
            once.get_or_init(|| dct::prepare(input, settings, any_subsampling).ok())
                .as_ref()
        });
        match prepared {
            Some(prepared) => prepared.recompress(settings),
            None => dct::recompress(input, settings, any_subsampling),
        }
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
        // codes) through without a warning. Asked to salvage what it can (--accept-corrupt),
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
    pixel_path(input, ctx, settings, outcome, checked)
}

/// The pixel path, after [`check_data`].
fn pixel_path(
    input: &[u8],
    ctx: &Context<'_>,
    settings: &EncodeSettings,
    outcome: &Outcome,
    checked: &Cell<bool>,
) -> Result<Vec<u8>, ImageError> {
    check_data(input, ctx, outcome, checked)?;
    if settings.progressive && !settings.best {
        return progressive_pixels(input, settings);
    }
    pixel::recompress(input, settings)
}

/// `--lossless`: the transcoder with the input's coefficients, or a per-file error (the pixel
/// path cannot keep them).
fn lossless(
    input: &[u8],
    settings: &EncodeSettings,
    outcome: &mut Outcome,
) -> Result<Vec<u8>, ImageError> {
    outcome.method = Some(Method::Dct);
    let transcoded = catch_unwind(AssertUnwindSafe(|| dct::recompress(input, settings, true)));
    match transcoded {
        Ok(Ok(encoded)) => Ok(encoded),
        Ok(Err(Refusal::NotCovered(why))) => Err(ImageError::Unsupported(format!(
            "{} does not cover this file ({why}); it needs a lossy re-encode",
            crate::names::name(crate::names::Setting::Lossless)
        ))),
        Ok(Err(Refusal::Invalid(err))) => Err(err),
        Err(_) => Err(ImageError::Unsupported(format!(
            "{}: the transcoder failed (a bug: please report it)",
            crate::names::name(crate::names::Setting::Lossless)
        ))),
    }
}

/// The entropy-coded data is checked by the transcoder's reader before libjpeg decodes it
/// (libjpeg-turbo's in-memory decoder lets bad Huffman codes and bytes before a restart
/// marker through without a word): corrupt data is an error, or under `--accept-corrupt` it
/// is noted (the file's WARN line) and libjpeg decodes what it can. `checked` says it was
/// done already for this input.
fn check_data(
    input: &[u8],
    ctx: &Context<'_>,
    outcome: &Outcome,
    checked: &Cell<bool>,
) -> Result<(), ImageError> {
    if !checked.replace(true) {
        let strict = ctx.settings.strict;
        let checked = catch_unwind(AssertUnwindSafe(|| dct::check(input, strict)));
        match checked {
            Ok(Err(Refusal::Invalid(err))) if strict => return Err(err),
            Ok(Err(Refusal::Invalid(err))) => {
                // What stops the transcoder's reader libjpeg may still get past.
                crate::jpeg::corruption::note(err.to_string());
            }
            Ok(Err(Refusal::NotCovered(why))) => {
                debug!(target: "CompressOneImage", "Data of {} checked by libjpeg only: {why}", outcome.input.display());
            }
            Ok(Ok(())) => {}
            Err(_) => {
                warn!(target: "CompressOneImage", "The data check failed on {} (a bug: please report it)", outcome.input.display());
            }
        }
    }
    Ok(())
}

/// `--progressive` on the pixel path: a baseline encode, then its coefficients re-scanned
/// with the transcoder's script (a few % smaller than libjpeg's standard progressive
/// script; the same pixels). What the transcoder does not cover (CMYK) gets mozjpeg's
/// progressive mode.
fn progressive_pixels(input: &[u8], settings: &EncodeSettings) -> Result<Vec<u8>, ImageError> {
    let baseline = EncodeSettings {
        progressive: false,
        ..*settings
    };
    let encoded = pixel::recompress(input, &baseline)?;
    // Everything in the encoder's output is kept (what to strip is already stripped); its
    // provenance marker is written again, the same.
    let rescan = EncodeSettings {
        lossless: true,
        keep_metadata: true,
        keep_icc: true,
        strict: true,
        ..*settings
    };
    let rescanned = catch_unwind(AssertUnwindSafe(|| {
        dct::recompress(&encoded, &rescan, true)
    }));
    match rescanned {
        Ok(Ok(out)) => Ok(out),
        _ => pixel::recompress(input, settings),
    }
}

fn output_file_name(path: &Path) -> std::path::Display<'_> {
    Path::new(path.file_name().unwrap_or(path.as_os_str())).display()
}
